package main

import (
	"bytes"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"
)

// compileCacheDir is where a project's compile cache lives, inside it:
// one folder per build of bic, one file per entry named by its key.
const compileCacheDir = ".bic/cache"

// Bounds of the compile cache: one entry is refused past maxCacheEntry;
// once the folder holds more than maxCacheBytes, the entries used least
// recently are removed until it holds 3/4 of it.
const (
	maxCacheEntry = 64 << 20
	maxCacheBytes = 512 << 20
)

// diskMagic starts every file of the cache, before its MAC.
var diskMagic = []byte("bicdc1\n")

// diskCache is the compiler's FileCache in the project's .bic/cache, one
// folder per bic build (entries of another build are removed).
//
// A project folder is untrusted input (a pull request may carry a
// .bic/cache of its own), so every entry is signed with HMAC-SHA256 under
// a key kept in the user's cache folder, never in the project: a forged,
// copied, corrupted or cut entry fails the check and is a miss. Files are
// reached only through an os.Root of the version folder, so no entry name
// or symbolic link leads outside it; keys must be hex digests, and entries
// are written to a temporary file and renamed, so a reader never sees half
// of one.
type diskCache struct {
	root   *os.Root
	secret []byte
	puts   atomic.Int64
}

// openCompileCache opens (making it if needed) the cache of the project in
// dir. It fails when the cache cannot be used; the caller then compiles
// without one.
func openCompileCache(dir string) (*diskCache, error) {
	secret, err := cacheSecret()
	if err != nil {
		return nil, err
	}
	project, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("compile cache: %w", err)
	}
	defer project.Close()
	if err := project.MkdirAll(compileCacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("compile cache: %w", err)
	}
	top, err := project.OpenRoot(compileCacheDir)
	if err != nil {
		return nil, fmt.Errorf("compile cache: %w", err)
	}
	defer top.Close()
	version := buildFingerprint()
	removeOtherVersions(top, version)
	if err := top.Mkdir(version, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("compile cache: %w", err)
	}
	root, err := top.OpenRoot(version)
	if err != nil {
		return nil, fmt.Errorf("compile cache: %w", err)
	}
	return &diskCache{root: root, secret: secret}, nil
}

// Close prunes the cache now and then when this run added to it, and
// closes it. Walking every entry costs a warm run more than the rest of
// its cache work, and one edit adds one small entry, so a run that added
// few prunes with a chance of 1 in 32: the bound is kept within a few
// dozen runs' entries.
func (c *diskCache) Close() error {
	if n := c.puts.Load(); n > 64 || n > 0 && rand.IntN(32) == 0 {
		c.prune(maxCacheBytes)
	}
	return c.root.Close()
}

// buildFingerprint names this build of bic: its version, its commit and,
// for a build with uncommitted changes or none known, the executable's
// size and time, so that two development builds never share entries.
func buildFingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "bic %s\n", version)
	exact := false
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(h, "%s %s\n", bi.Main.Path, bi.Main.Version)
		revision, modified := "", "true"
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		fmt.Fprintf(h, "%s %s\n", revision, modified)
		exact = revision != "" && modified == "false" || version != "dev" && bi.Main.Version != "(devel)"
	}
	if !exact {
		if exe, err := os.Executable(); err == nil {
			if info, err := os.Stat(exe); err == nil {
				fmt.Fprintf(h, "%d %d\n", info.Size(), info.ModTime().UnixNano())
			}
		}
	}
	return "v-" + hex.EncodeToString(h.Sum(nil))[:20]
}

// removeOtherVersions deletes the folders of other builds: their entries
// would never be read again.
func removeOtherVersions(top *os.Root, keep string) {
	f, err := top.Open(".")
	if err != nil {
		return
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	for _, n := range names {
		if n != keep && len(n) > 2 && n[:2] == "v-" {
			_ = top.RemoveAll(n)
		}
	}
}

// cacheSecret is the key entries are signed with: 32 random bytes in the
// user's cache folder (BIC_CACHE_KEY_DIR overrides it, for tests), made on
// first use and readable by the user only.
func cacheSecret() ([]byte, error) {
	dir := os.Getenv("BIC_CACHE_KEY_DIR")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("compile cache: no user cache folder for its key: %w", err)
		}
		dir = filepath.Join(base, "bic")
	}
	file := filepath.Join(dir, "compile-cache.key")
	if b, err := os.ReadFile(file); err == nil && len(b) == 32 {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("compile cache key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := crand.Read(key); err != nil {
		return nil, fmt.Errorf("compile cache key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "compile-cache.key.*")
	if err != nil {
		return nil, fmt.Errorf("compile cache key: %w", err)
	}
	_, werr := tmp.Write(key)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("compile cache key: %w", err)
	}
	// Two bic processes may race here; the rename makes one key win, and
	// entries signed with the other are misses once.
	if err := os.Rename(tmp.Name(), file); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("compile cache key: %w", err)
	}
	b, err := os.ReadFile(file)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("compile cache key: unreadable %s", file)
	}
	return b, nil
}

// entryName is where the entry of key lives, or "" for a key that is not
// a hex digest (no key may name a path).
func entryName(key string) string {
	if len(key) != 64 {
		return ""
	}
	for _, c := range []byte(key) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return ""
		}
	}
	// One folder for all: a name of one component is one openat.
	return key
}

func (c *diskCache) mac(key string, value []byte) []byte {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(key))
	m.Write([]byte{0})
	m.Write(value)
	return m.Sum(nil)
}

// Get returns the value stored for key when its file is a regular file of
// this cache whose MAC is right; anything else is a miss.
func (c *diskCache) Get(key string) ([]byte, bool) {
	name := entryName(key)
	if name == "" {
		return nil, false
	}
	f, err := c.root.Open(name)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() || info.Size() > maxCacheEntry+int64(len(diskMagic))+sha256.Size {
		return nil, false
	}
	b := make([]byte, info.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, false
	}
	head := len(diskMagic) + sha256.Size
	if len(b) < head || !bytes.Equal(b[:len(diskMagic)], diskMagic) {
		return nil, false
	}
	value := b[head:]
	if !hmac.Equal(b[len(diskMagic):head], c.mac(key, value)) {
		return nil, false
	}
	return value, true
}

// Put stores value for key; a failure only costs the next run time.
func (c *diskCache) Put(key string, value []byte) {
	name := entryName(key)
	if name == "" || len(value) > maxCacheEntry {
		return
	}
	var suffix [8]byte
	_, _ = crand.Read(suffix[:])
	tmp := name + ".tmp-" + hex.EncodeToString(suffix[:])
	f, err := c.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return // a cache that cannot be written only costs the next run time
	}
	buf := make([]byte, 0, len(diskMagic)+sha256.Size+len(value))
	buf = append(append(append(buf, diskMagic...), c.mac(key, value)...), value...)
	_, werr := f.Write(buf)
	if err := errors.Join(werr, f.Close()); err != nil {
		_ = c.root.Remove(tmp)
		return
	}
	if err := c.root.Rename(tmp, name); err != nil {
		_ = c.root.Remove(tmp)
		return
	}
	c.puts.Add(1)
}

// prune removes the entries modified least recently once the cache holds
// more than limit bytes, down to 3/4 of it, and leftover temporary files.
func (c *diskCache) prune(limit int64) {
	type entry struct {
		name string
		size int64
		mod  time.Time
	}
	var entries []entry
	var total int64
	_ = fs.WalkDir(c.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if !info.Mode().IsRegular() || path.Ext(p) != "" && time.Since(info.ModTime()) > time.Hour {
			_ = c.root.Remove(p) // a link, or a temporary file left by a killed run
			return nil
		}
		entries = append(entries, entry{p, info.Size(), info.ModTime()})
		total += info.Size()
		return nil
	})
	if total <= limit {
		return
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.mod.Compare(b.mod) })
	for _, e := range entries {
		if total <= limit*3/4 {
			break
		}
		if c.root.Remove(e.name) == nil {
			total -= e.size
		}
	}
}
