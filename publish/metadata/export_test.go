package metadata

// SetAfterObjects sets the hook that runs inside Apply's transaction after
// the objects are written, so tests can kill an apply halfway.
func SetAfterObjects(s *Store, f func()) { s.afterObjects = f }

// LatestVersion is the newest migration the binary knows.
func LatestVersion(s *Store) int { return s.latestVersion() }

// ManifestDecodes counts the manifests the store decoded, not served from its cache.
func ManifestDecodes(s *Store) int64 { return s.decodes.Load() }
