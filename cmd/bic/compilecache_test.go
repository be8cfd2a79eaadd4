package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// openTestCache opens the cache of a fresh project folder, with its key in
// a folder of the test's own.
func openTestCache(t *testing.T) (*diskCache, string) {
	t.Helper()
	t.Setenv("BIC_CACHE_KEY_DIR", t.TempDir())
	dir := t.TempDir()
	c, err := openCompileCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, dir
}

func entryPath(t *testing.T, c *diskCache, key string) string {
	t.Helper()
	return filepath.Join(c.root.Name(), filepath.FromSlash(entryName(key)))
}

func TestCompileCacheRoundTrip(t *testing.T) {
	c, _ := openTestCache(t)
	k := testKey("a")
	if _, ok := c.Get(k); ok {
		t.Fatal("a hit in an empty cache")
	}
	c.Put(k, []byte("value of a"))
	got, ok := c.Get(k)
	if !ok || string(got) != "value of a" {
		t.Fatalf("Get = %q, %v", got, ok)
	}
	c.Put(k, []byte("again"))
	if got, _ := c.Get(k); string(got) != "again" {
		t.Fatalf("after a second Put: %q", got)
	}
	matches, _ := filepath.Glob(filepath.Join(c.root.Name(), "*.tmp-*"))
	if len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

// TestCompileCacheDistrust: an entry that is damaged, signed with another
// key, or another key's is a miss.
func TestCompileCacheDistrust(t *testing.T) {
	c, _ := openTestCache(t)
	a, b := testKey("a"), testKey("b")
	c.Put(a, []byte("value of a"))
	good, err := os.ReadFile(entryPath(t, c, a))
	if err != nil {
		t.Fatal(err)
	}
	forger := &diskCache{secret: bytes.Repeat([]byte{7}, 32)}
	forged := append(append(append([]byte{}, diskMagic...), forger.mac(a, []byte("forged"))...), "forged"...)
	cases := map[string][]byte{
		"flipped byte":       func() []byte { x := bytes.Clone(good); x[len(x)-1] ^= 1; return x }(),
		"flipped MAC":        func() []byte { x := bytes.Clone(good); x[len(diskMagic)] ^= 1; return x }(),
		"cut short":          good[:len(good)-3],
		"only the magic":     diskMagic,
		"empty":              {},
		"signed by a forger": forged,
	}
	for name, data := range cases {
		if err := os.WriteFile(entryPath(t, c, a), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if v, ok := c.Get(a); ok {
			t.Errorf("%s: a hit: %q", name, v)
		}
	}
	// a's entry, intact, under b's name.
	if err := os.MkdirAll(filepath.Dir(entryPath(t, c, b)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(entryPath(t, c, b), good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(b); ok {
		t.Error("another key's entry was a hit")
	}
}

// TestCompileCacheHostile: keys that are not digests name no file, and
// links leading out of the cache are not followed.
func TestCompileCacheHostile(t *testing.T) {
	c, dir := openTestCache(t)
	outside := t.TempDir()
	for _, key := range []string{"../../../x", "ab/../../x", strings.Repeat("A", 64), "", "ab", strings.Repeat("a", 63) + "/", "/etc/passwd" + strings.Repeat("0", 53)} {
		c.Put(key, []byte("x"))
		if _, ok := c.Get(key); ok {
			t.Errorf("key %q: a hit", key)
		}
	}
	// An entry that is a link to a file outside.
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	k := testKey("link")
	if err := os.MkdirAll(filepath.Dir(entryPath(t, c, k)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, entryPath(t, c, k)); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(k); ok {
		t.Error("a link out of the cache was followed")
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("files written outside the cache: %v", entries)
	}
	_ = dir

	// A project whose .bic leads out of it: no cache.
	project := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(project, ".bic")); err != nil {
		t.Fatal(err)
	}
	if _, err := openCompileCache(project); err == nil {
		t.Error("a cache was opened through a link out of the project")
	}
	if _, err := os.Stat(filepath.Join(outside, "cache")); err == nil {
		t.Error("a cache folder was made outside the project")
	}
}

// TestCompileCacheVersions: the entries of another build of bic are
// removed when the cache is opened, and never read.
func TestCompileCacheVersions(t *testing.T) {
	t.Setenv("BIC_CACHE_KEY_DIR", t.TempDir())
	dir := t.TempDir()
	old := filepath.Join(dir, ".bic", "cache", "v-0123456789abcdef0123", "ab")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := openCompileCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := os.Stat(filepath.Dir(old)); !os.IsNotExist(err) {
		t.Errorf("another build's entries are still there: %v", err)
	}
	if filepath.Base(c.root.Name()) != buildFingerprint() {
		t.Errorf("cache folder %s, want %s", c.root.Name(), buildFingerprint())
	}
}

func TestCompileCachePrune(t *testing.T) {
	c, _ := openTestCache(t)
	for i := range 20 {
		c.Put(testKey(string(rune('a'+i))), bytes.Repeat([]byte{'x'}, 1000))
	}
	c.prune(10_000)
	var total int64
	_ = fs.WalkDir(c.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			total += info.Size()
		}
		return nil
	})
	if total > 7_500 || total == 0 {
		t.Errorf("after pruning to 10,000 bytes the cache holds %d", total)
	}
}

// TestValidateCache: bic validate fills the cache and then reads it, with
// the same output; an edit is seen; --no-cache and CI=true leave no cache,
// and --cache turns it on under CI.
func TestValidateCache(t *testing.T) {
	t.Setenv("BIC_CACHE_KEY_DIR", t.TempDir())
	t.Setenv("CI", "")
	validate := func(args ...string) (string, int) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"validate"}, args...), &out, &errOut)
		return out.String() + errOut.String(), code
	}
	copyProject := func() string {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS("../../examples/shop")); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir := copyProject()
	cold, code := validate(dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, cold)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, ".bic", "cache", "v-*", "*"))
	if len(entries) == 0 {
		t.Fatal("bic validate wrote no cache entries")
	}
	warm, code := validate(dir)
	if code != 0 || warm != cold {
		t.Fatalf("warm run differs: exit %d\n%s\nwant\n%s", code, warm, cold)
	}
	file := filepath.Join(dir, "dashboards", "sales.yaml")
	b, _ := os.ReadFile(file)
	if err := os.WriteFile(file, bytes.Replace(b, []byte("type: big_number"), []byte("type: big_numbers"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	edited, code := validate(dir)
	if code != 1 || !strings.Contains(edited, "big_numbers") {
		t.Fatalf("the edit was not seen: exit %d\n%s", code, edited)
	}
	uncached, _ := validate("--no-cache", dir)
	if uncached != edited {
		t.Errorf("--no-cache output differs from the cached one:\n%s\nwant\n%s", uncached, edited)
	}
	// The unchanged dashboards' verdicts do not outlive what they read: a
	// metric one of them uses, renamed in its dataset.
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := validate(dir); code != 0 {
		t.Fatalf("restored: exit %d: %s", code, out)
	}
	dataset := filepath.Join(dir, "datasets", "customers.yaml")
	ds, err := os.ReadFile(dataset)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dataset, bytes.Replace(ds, []byte("  customers: {expr: count(*)"), []byte("  people: {expr: count(*)"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	renamed, code := validate(dir)
	if uncached, _ := validate("--no-cache", dir); code != 1 || renamed != uncached || !strings.Contains(renamed, `no metric "customers"`) {
		t.Fatalf("the dataset's edit was not seen: exit %d\n%s\nwant\n%s", code, renamed, uncached)
	}
	if err := os.WriteFile(dataset, ds, 0o644); err != nil {
		t.Fatal(err)
	}
	// --manifest resolves everything: the same manifest with the cache.
	manifest, code := validate("--manifest", "--format", "json", dir)
	if uncached, _ := validate("--manifest", "--format", "json", "--no-cache", dir); code != 0 || manifest != uncached {
		t.Errorf("--manifest with the cache differs from --no-cache: exit %d", code)
	}

	for _, tc := range []struct {
		ci    string
		args  []string
		cache bool
	}{
		{"", []string{"--no-cache"}, false},
		{"true", nil, false},
		{"true", []string{"--cache"}, true},
	} {
		t.Setenv("CI", tc.ci)
		dir := copyProject()
		if out, code := validate(append(tc.args, dir)...); code != 0 {
			t.Fatalf("CI=%s %v: exit %d: %s", tc.ci, tc.args, code, out)
		}
		_, err := os.Stat(filepath.Join(dir, ".bic", "cache"))
		if got := err == nil; got != tc.cache {
			t.Errorf("CI=%q %v: cache made: %v, want %v", tc.ci, tc.args, got, tc.cache)
		}
	}
	if _, code := validate("--cache", "--no-cache", dir); code != exitUsage {
		t.Errorf("--cache --no-cache: exit %d, want %d", code, exitUsage)
	}
}
