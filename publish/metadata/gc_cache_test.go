package metadata_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/publish/metadata"
)

// TestCacheEntriesForGC: bic gc reads every cache entry, and removes
// those of the given input keys computed before its cutoff, never one
// renewed since (a refresh wrote a newer computed_at).
func TestCacheEntriesForGC(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			hash := func(c string) string { return strings.Repeat(c, 64) }
			put := func(key, h, csv string, at time.Time) {
				t.Helper()
				arts := []metadata.Artifact{{ContentHash: h, StorageKey: "blobs/" + h[:2] + "/" + h[2:], Size: 1, Rows: 1}}
				if csv != "" {
					arts = append(arts, metadata.Artifact{ContentHash: csv, StorageKey: "blobs/" + csv[:2] + "/" + csv[2:], Size: 1, Rows: 1})
				}
				if err := st.PutCacheEntry(ctx, metadata.CacheEntry{InputKey: key, JSONHash: h, CSVHash: csv, Rows: 1, ComputedAt: at}, arts...); err != nil {
					t.Fatal(err)
				}
			}
			put("old", hash("a"), hash("b"), now.Add(-30*24*time.Hour))
			put("new", hash("c"), "", now)
			put("renewed", hash("d"), "", now.Add(-30*24*time.Hour))

			got, err := st.CacheEntries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, e := range got {
				keys = append(keys, e.InputKey+" "+e.JSONHash[:1]+" "+e.CSVHash)
			}
			want := []string{"new c ", "old a " + hash("b"), "renewed d "}
			if diff := cmp.Diff(want, keys); diff != "" {
				t.Errorf("cache entries (-want +got):\n%s", diff)
			}

			put("renewed", hash("e"), "", now) // a refresh after gc read it
			n, err := st.DeleteCacheEntries(ctx, []string{"old", "new", "renewed", "unknown"}, now.Add(-7*24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("removed %d entries, want 1 (old)", n)
			}
			for key, want := range map[string]bool{"old": false, "new": true, "renewed": true} {
				if _, ok, err := st.CacheEntry(ctx, key); err != nil || ok != want {
					t.Errorf("entry %s after gc: present %v (%v), want %v", key, ok, err, want)
				}
			}
		})
	}
}
