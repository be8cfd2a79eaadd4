// Package storage is bic's object storage: the blobs that runners write,
// the releases that name them and the pointers that name the live
// release. Two stores implement one Store: S3 (any S3-compatible server,
// through minio-go) for production and a local directory for the
// embedded default; Open picks one from a URL such as
// s3://bucket/prefix?endpoint=host:9000 or file://.bic/artifacts.
//
// # Key layout
//
//	blobs/ab/cdef…      immutable content, under the sha256 of its bytes:
//	                    the first two hex digits are a folder, so no
//	                    directory of the local store grows without bound
//	releases/…          release documents (also written as blobs)
//	envs/<env>/current  the pointer: the hash of the environment's release
//
// Because a blob's key is its hash, writing it twice is a no-op and
// nothing a reader holds ever changes under it. The only key that is
// overwritten is a pointer, and WritePointer replaces it in one step: an
// S3 PUT is atomic, and the local store writes a temporary file, syncs it
// and renames it over the old one. A reader therefore sees the old release
// or the new one, never a mix and never nothing; that is what makes a
// publish atomic (DESIGN.md, "Artifacts, releases and the pointer").
//
// Keys are checked before use (see CheckKey), and the local store reaches
// its files only through an os.Root, so no key and no symbolic link can
// make it write outside its directory.
//
// It imports minio-go and the standard library, never compiler, runner
// or server.
package storage
