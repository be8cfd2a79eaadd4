package storage

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestFileStoreStaysInRoot plants links that lead out of the store's
// directory: no write may follow them.
func TestFileStoreStaysInRoot(t *testing.T) {
	t.Parallel()
	dir, outside := t.TempDir(), t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"outdir": outside, "outfile": victim, "up": ".."} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()

	for _, key := range []string{"outdir/x", "outdir/victim", "outdir/new/x", "up/x"} {
		if err := s.Put(ctx, key, strings.NewReader("escaped")); err == nil {
			t.Errorf("Put(%q) through a link out of the store succeeded", key)
		}
		if err := s.WritePointer(ctx, key, []byte("escaped")); err == nil {
			t.Errorf("WritePointer(%q) through a link out of the store succeeded", key)
		}
		if _, err := s.Get(ctx, key); err == nil {
			t.Errorf("Get(%q) read through a link out of the store", key)
		}
	}
	s.Delete(ctx, "outdir/victim") // an error or nothing, but never a removal
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("Delete through a link removed a file outside: %v", err)
	}
	// Writing over a link replaces the link, not what it points at.
	if err := s.WritePointer(ctx, "outfile", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "untouched" {
		t.Errorf("writing over a link changed the file it pointed at to %q", got)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "outfile")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("after writing over a link: %v, %v; want a regular file", fi, err)
	}
	entries, err := os.ReadDir(outside)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("the directory outside the store holds %d entries, want only the victim", len(entries))
	}
	// Links are not objects, and a listing does not follow them out.
	infos, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Key != "outfile" {
		t.Errorf("List = %+v, want only outfile", infos)
	}
}

// TestFileStoreLeavesNoTemps: temporary files go away after every write,
// and stale ones (left by a crash) when the store is opened.
func TestFileStoreLeavesNoTemps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := newFileStoreIn(t, dir)
	put(t, s, "k", "v")
	if _, err := s.PutBlob(t.Context(), strings.NewReader("blob")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutBlob(t.Context(), strings.NewReader("blob")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, tmpDir)
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("%d temporary files left after writing", len(entries))
	}
	stale, fresh := filepath.Join(tmp, "stale"), filepath.Join(tmp, "fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	newFileStoreIn(t, dir)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a stale temporary file survived opening the store: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("opening the store removed a write under way: %v", err)
	}
}

func newFileStoreIn(t *testing.T, dir string) *FileStore {
	t.Helper()
	s, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPutBlobRefreshesAnOldBlob: writing the bytes of a blob older than
// RefreshAge makes it young again, so a blob gc's grace period counts
// from the last write, and a publish that writes it again keeps it.
func TestPutBlobRefreshesAnOldBlob(t *testing.T) {
	dir := t.TempDir()
	s := newFileStoreIn(t, dir)
	ctx := context.Background()
	b, err := s.PutBlob(ctx, strings.NewReader("a page"))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(b.Key)), old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutBlob(ctx, strings.NewReader("a page")); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(ctx, b.Key)
	if err != nil {
		t.Fatal(err)
	}
	if age := time.Since(info.Modified); age > time.Minute {
		t.Errorf("the blob written again is %s old, want just written", age.Round(time.Second))
	}
}

// TestFileStoreTempPaths writes through unnamed temporary files (Linux's
// O_TMPFILE) and through named ones, the fallback elsewhere, and checks
// both end the same: the blob, a replaced pointer and an interrupted
// write leave the same files, and nothing in the temporary folder. An
// unnamed file shows in no directory while it is written, so a process
// killed then leaves nothing behind.
func TestFileStoreTempPaths(t *testing.T) {
	for _, named := range []bool{false, true} {
		t.Run(map[bool]string{false: "unnamed", true: "named"}[named], func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := newFileStoreIn(t, dir)
			if !named && s.named.Load() {
				if runtime.GOOS == "linux" {
					t.Fatal("no unnamed temporary files on Linux: is /proc mounted, does the file system have O_TMPFILE?")
				}
				return // other systems have named ones only; the other case tests them
			}
			s.named.Store(named)
			ctx := t.Context()
			tmp := filepath.Join(dir, tmpDir)
			// While a blob is being written, is its temporary file in tmpDir?
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			var b Blob
			go func() {
				var err error
				b, err = s.PutBlob(ctx, pr)
				done <- err
			}()
			if _, err := pw.Write([]byte("half ")); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(tmp)
			if named && len(entries) != 1 || !named && len(entries) != 0 {
				t.Errorf("%d files in %s during a write, want %d", len(entries), tmpDir, map[bool]int{false: 0, true: 1}[named])
			}
			pw.Write([]byte("and half"))
			pw.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := string(get(t, s, b.Key)); got != "half and half" {
				t.Errorf("blob holds %q", got)
			}
			put(t, s, "envs/prod/current", "one")
			if err := s.WritePointer(ctx, "envs/prod/current", []byte("two")); err != nil {
				t.Fatal(err)
			}
			if got := string(get(t, s, "envs/prod/current")); got != "two" {
				t.Errorf("pointer holds %q, want two", got)
			}
			// A write whose reader fails leaves nothing.
			if _, err := s.PutBlob(ctx, io.MultiReader(strings.NewReader("part"), iotest.ErrReader(errors.New("gone")))); err == nil {
				t.Error("a failed read was stored")
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("%d temporary files left after writing", len(entries))
			}
			// tmpDir moved out of the root and made again while the store
			// is open: blobs are still written, and nothing lands in the
			// folder that was moved out.
			away := filepath.Join(t.TempDir(), "away")
			if err := os.Rename(tmp, away); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(tmp, 0o755); err != nil {
				t.Fatal(err)
			}
			b2, err := s.PutBlob(ctx, strings.NewReader("after the move"))
			if err != nil {
				t.Fatalf("a blob after %s was replaced: %v", tmpDir, err)
			}
			if got := string(get(t, s, b2.Key)); got != "after the move" {
				t.Errorf("blob holds %q", got)
			}
			if entries, _ := os.ReadDir(away); len(entries) != 0 {
				t.Errorf("%d files written in the folder moved out of the root", len(entries))
			}
		})
	}
}
