package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// FileStore is a Store in a local directory: the embedded default, and
// what `bic publish --out` can serve from. Every path goes through an
// os.Root, so neither a key nor a symbolic link planted in the directory
// can make it write outside.
type FileStore struct {
	dir  string
	root *os.Root
	// tmp is tmpDir, opened once: unnamed temporary files are made in it
	// (and linked, at commit, into tmpDir as the root finds it then).
	tmp *os.File
	// named says that temporary files get a name when created, where the
	// file system or the system cannot make unnamed ones (see temp).
	named atomic.Bool
}

// tmpDir holds files being written; it sits inside the root so that the
// final rename stays on one file system and is atomic. Keys cannot name
// it (CheckKey refuses dot segments).
const tmpDir = ".tmp"

// staleTemp is how old a temporary file must be before NewFile removes it
// as the leftover of a crashed write rather than one under way.
const staleTemp = time.Hour

// NewFile opens (creating it if needed) the store in dir.
func NewFile(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("storage: file store needs a directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	s := &FileStore{dir: dir, root: root}
	if err := root.MkdirAll(tmpDir, 0o755); err != nil {
		root.Close()
		return nil, fmt.Errorf("storage: create %s in %s: %w", tmpDir, dir, err)
	}
	s.removeStaleTemps(time.Now().Add(-staleTemp))
	s.named.Store(!s.canUnname())
	return s, nil
}

// canUnname opens tmpDir for unnamed temporary files and reports whether
// one can be made and linked there: Linux with a file system that has
// O_TMPFILE (ext4, XFS, Btrfs, tmpfs) and /proc mounted.
func (s *FileStore) canUnname() bool {
	d, err := s.root.Open(tmpDir)
	if err != nil {
		return false
	}
	s.tmp = d
	f, err := openUnnamed(d)
	if err != nil {
		return false
	}
	defer f.Close()
	name := rand.Text()
	if err := linkUnnamed(f, d, name); err != nil {
		return false
	}
	return s.root.Remove(tmpDir+"/"+name) == nil
}

// String is the store's URL.
func (s *FileStore) String() string { return "file://" + s.dir }

// Close releases the directory.
func (s *FileStore) Close() error {
	if s.tmp != nil {
		s.tmp.Close()
	}
	return s.root.Close()
}

func (s *FileStore) errorf(op, key string, err error) error {
	return fmt.Errorf("storage: %s %q in %s: %w", op, key, s, err)
}

// Put writes r to a temporary file and renames it to key.
func (s *FileStore) Put(ctx context.Context, key string, r io.Reader) error {
	if err := CheckKey(key); err != nil {
		return s.errorf("put", key, err)
	}
	f, name, err := s.temp()
	if err != nil {
		return s.errorf("put", key, err)
	}
	if _, err := copyContext(ctx, f, r); err != nil {
		s.discard(f, name)
		return s.errorf("put", key, err)
	}
	if err := s.commit(f, name, key); err != nil {
		return s.errorf("put", key, err)
	}
	return nil
}

// WritePointer is Put: the rename makes the overwrite atomic.
func (s *FileStore) WritePointer(ctx context.Context, key string, value []byte) error {
	return s.Put(ctx, key, bytes.NewReader(value))
}

// PutBlob hashes r while writing it to a temporary file, then renames the
// file to the blob's key, or drops it if that blob is already stored.
func (s *FileStore) PutBlob(ctx context.Context, r io.Reader) (Blob, error) {
	f, name, err := s.temp()
	if err != nil {
		return Blob{}, s.errorf("put", "blob", err)
	}
	hr := newHashingReader(r)
	if _, err := copyContext(ctx, f, hr); err != nil {
		s.discard(f, name)
		return Blob{}, s.errorf("put", "blob", err)
	}
	b := hr.blob()
	if fi, err := s.root.Stat(b.Key); err == nil && fi.Mode().IsRegular() && fi.Size() == b.Size {
		s.discard(f, name)
		if now := time.Now(); now.Sub(fi.ModTime()) > RefreshAge {
			// Written again: young again, so a gc running now keeps it.
			if err := s.root.Chtimes(b.Key, now, now); err != nil {
				return Blob{}, s.errorf("put", b.Key, err)
			}
		}
		return b, nil
	}
	if err := s.commit(f, name, b.Key); err != nil {
		return Blob{}, s.errorf("put", b.Key, err)
	}
	return b, nil
}

// temp creates a new temporary file in tmpDir: an unnamed one where it
// can (name is then ""; commit names it), else one with a random name.
func (s *FileStore) temp() (*os.File, string, error) {
	if !s.named.Load() {
		if f, err := openUnnamed(s.tmp); err == nil {
			return f, "", nil
		}
		// Not any more (tmpDir removed, say): named files still work.
	}
	name := tmpDir + "/" + rand.Text()
	f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	return f, name, err
}

func (s *FileStore) discard(f *os.File, name string) {
	f.Close()
	if name != "" {
		s.root.Remove(name)
	}
}

// commit makes the temporary file f durable, then renames it to key, so
// that a reader of key finds the old file or the whole new one; syncing
// the directory afterwards makes the rename itself survive a crash. An
// unnamed file is linked into tmpDir once synced, then renamed the same
// way: a rename replaces a key atomically, a link cannot.
func (s *FileStore) commit(f *os.File, name, key string) error {
	err := f.Sync()
	if err == nil && name == "" {
		// Linked into tmpDir as the root finds it now, not through the
		// folder opened at the start: that one may have been moved away
		// (out of the root, even) or replaced since.
		var d *os.File
		if d, err = s.root.Open(tmpDir); err == nil {
			base := rand.Text()
			if err = linkUnnamed(f, d, base); err == nil {
				name = tmpDir + "/" + base
			}
			d.Close()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	dir := path.Dir(key)
	if err == nil && dir != "." {
		err = s.root.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = s.root.Rename(name, key)
	}
	if err != nil {
		if name != "" {
			s.root.Remove(name)
		}
		return err
	}
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// notFound reports whether err means that a path holds nothing: it does
// not exist, or one of its parents is a file.
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Get opens key.
func (s *FileStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, s.errorf("get", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, s.errorf("get", key, err)
	}
	f, err := s.root.Open(key)
	if err != nil {
		if notFound(err) {
			err = ErrNotFound
		}
		return nil, s.errorf("get", key, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = ErrNotFound // a directory is a prefix, not an object, as in S3
	}
	if err != nil {
		f.Close()
		return nil, s.errorf("get", key, err)
	}
	return f, nil
}

// Stat describes key.
func (s *FileStore) Stat(ctx context.Context, key string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, s.errorf("stat", key, err)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, s.errorf("stat", key, err)
	}
	fi, err := s.root.Stat(key)
	if err == nil && !fi.Mode().IsRegular() || notFound(err) {
		err = ErrNotFound
	}
	if err != nil {
		return Info{}, s.errorf("stat", key, err)
	}
	return Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()}, nil
}

// List walks the directory that prefix names up to its last slash. Only
// regular files are objects: links and the temporary files are not.
func (s *FileStore) List(ctx context.Context, prefix string) ([]Info, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, s.errorf("list", prefix, err)
	}
	start := "."
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = prefix[:i]
	}
	var infos []Info
	err := fs.WalkDir(s.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && notFound(err) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p == tmpDir || p != "." && !strings.HasPrefix(p+"/", prefix) && !strings.HasPrefix(prefix, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(p, prefix) {
			return nil
		}
		fi, err := d.Info()
		if notFound(err) {
			return nil // deleted while listing
		}
		if err != nil {
			return err
		}
		infos = append(infos, Info{Key: p, Size: fi.Size(), Modified: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, s.errorf("list", prefix, err)
	}
	// A directory's entries come in name order, which is not key order
	// ("a/b" sorts after "a-c"), so sort what the walk found.
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Key, b.Key) })
	return infos, nil
}

// Delete removes key's file. Directories left empty stay: they cost
// nothing and removing them would race with a concurrent Put.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return s.errorf("delete", key, err)
	}
	if err := ctx.Err(); err != nil {
		return s.errorf("delete", key, err)
	}
	fi, err := s.root.Lstat(key)
	if notFound(err) || err == nil && fi.IsDir() {
		return nil
	}
	if err == nil {
		err = s.root.Remove(key)
	}
	if err != nil && !notFound(err) {
		return s.errorf("delete", key, err)
	}
	return nil
}

// removeStaleTemps removes temporary files last written before cutoff:
// leftovers of writes that crashed. Failing to is harmless.
func (s *FileStore) removeStaleTemps(cutoff time.Time) {
	entries, err := fs.ReadDir(s.root.FS(), tmpDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
			s.root.Remove(tmpDir + "/" + e.Name())
		}
	}
}
