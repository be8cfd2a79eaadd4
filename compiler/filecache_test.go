package compiler

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// memCache is a FileCache in memory.
type memCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	hits int
}

func newMemCache() *memCache { return &memCache{m: map[string][]byte{}} }

func (c *memCache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	if ok {
		c.hits++
	}
	return v, ok
}

func (c *memCache) Put(key string, value []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = value
}

// sameResult fails unless got is want: diagnostics (texts, positions,
// order) and the whole manifest.
func sameResult(t *testing.T, name string, want, got Result) {
	t.Helper()
	if diff := cmp.Diff(want.Diagnostics, got.Diagnostics); diff != "" {
		t.Errorf("%s: diagnostics differ (-without cache +with):\n%s", name, diff)
	}
	if (want.Manifest == nil) != (got.Manifest == nil) {
		t.Fatalf("%s: a manifest only with or without the cache", name)
	}
	if want.Manifest == nil {
		return
	}
	wj, err := want.Manifest.JSON()
	if err != nil {
		t.Fatal(err)
	}
	gj, err := got.Manifest.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if want.Manifest.Hash != got.Manifest.Hash || string(wj) != string(gj) {
		t.Errorf("%s: manifests differ with the cache", name)
	}
	if diff := cmp.Diff(want.Sources, got.Sources); diff != "" {
		t.Errorf("%s: sources differ (-without cache +with):\n%s", name, diff)
	}
}

// TestFileCacheSameResults: for every fixture, example and fuzz input, a
// compile that fills the cache and one that reads it give what a compile
// without it gives.
func TestFileCacheSameResults(t *testing.T) {
	c := newTestCompiler(t)
	hitProjects := 0
	for name, fsys := range differentialProjects(t) {
		want := mustCompile(t, c, fsys)
		cache := newMemCache()
		cc := c.WithCache(cache)
		sameResult(t, name+" (filling)", want, mustCompile(t, cc, fsys))
		warm := mustCompile(t, cc, fsys)
		sameResult(t, name+" (warm)", want, warm)
		if warm.Stats.Cached > 0 {
			hitProjects++
		}
		if len(cache.m) > 0 && warm.Stats.Cached == 0 {
			t.Errorf("%s: %d entries recorded, none used", name, len(cache.m))
		}
	}
	if hitProjects < 50 {
		t.Errorf("only %d projects were compiled from the cache", hitProjects)
	}
}

// TestFileCacheDistrust: an entry that is corrupted, cut short, another
// key's or empty is ignored, and the compile is the same as without it.
func TestFileCacheDistrust(t *testing.T) {
	c := newTestCompiler(t)
	fsys := memProject(t, "../examples/shop")
	want := mustCompile(t, c, fsys)
	filled := newMemCache()
	mustCompile(t, c.WithCache(filled), fsys)
	if len(filled.m) == 0 {
		t.Fatal("nothing cached")
	}
	keys := make([]string, 0, len(filled.m))
	for k := range filled.m {
		keys = append(keys, k)
	}
	other := filled.m[keys[0]]
	damage := map[string]func(key string, b []byte) []byte{
		"a flipped byte":      func(_ string, b []byte) []byte { b = clone(b); b[len(b)/2] ^= 0x20; return b },
		"a flipped checksum":  func(_ string, b []byte) []byte { b = clone(b); b[len(b)-1] ^= 1; return b },
		"cut short":           func(_ string, b []byte) []byte { return clone(b[:len(b)-40]) },
		"empty":               func(string, []byte) []byte { return nil },
		"another key's entry": func(key string, b []byte) []byte { return clone(other) },
		"garbage":             func(string, []byte) []byte { return []byte(strings.Repeat("\xff", 200)) },
		"magic only":          func(string, []byte) []byte { return clone(entryMagic) },
		"trailing bytes, checksum made again": func(_ string, b []byte) []byte {
			body := append(clone(b[:len(b)-sha256.Size]), 0)
			sum := sha256.Sum256(body)
			return append(body, sum[:]...)
		},
	}
	for what, f := range damage {
		cache := newMemCache()
		for _, k := range keys {
			if what == "another key's entry" && k == keys[0] {
				continue
			}
			cache.m[k] = f(k, filled.m[k])
		}
		got := mustCompile(t, c.WithCache(cache), fsys)
		sameResult(t, what, want, got)
		if got.Stats.Cached != 0 {
			t.Errorf("%s: %d files taken from damaged entries", what, got.Stats.Cached)
		}
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// TestFileCacheInvalidation: an edited file is parsed and checked again,
// the others come from the cache; a different schema or compiler version
// (the digest in every key) uses none.
func TestFileCacheInvalidation(t *testing.T) {
	c := newTestCompiler(t)
	base := memProject(t, "../examples/shop")
	cache := newMemCache()
	first := mustCompile(t, c.WithCache(cache), base)
	warm := mustCompile(t, c.WithCache(cache), base)
	if warm.Stats.Cached == 0 {
		t.Fatal("nothing came from the cache")
	}

	edited := maps.Clone(base)
	f := *edited["dashboards/sales.yaml"]
	f.Data = []byte(strings.Replace(string(f.Data), "type: big_number", "type: big_numbers", 1))
	edited["dashboards/sales.yaml"] = &f
	want := mustCompile(t, c, edited)
	got := mustCompile(t, c.WithCache(cache), edited)
	sameResult(t, "edited", want, got)
	if got.Manifest != nil || !strings.Contains(fmt.Sprint(got.Diagnostics), "big_numbers") {
		t.Fatalf("the edit was not seen: %v", got.Diagnostics)
	}
	if got.Stats.Cached != warm.Stats.Cached-1 {
		t.Errorf("%d files came from the cache after one edit, want %d", got.Stats.Cached, warm.Stats.Cached-1)
	}

	other, err := NewSchema()
	if err != nil {
		t.Fatal(err)
	}
	other.digest[0] ^= 1
	changed := New(other).WithCache(cache)
	res := mustCompile(t, changed, base)
	if res.Stats.Cached != 0 {
		t.Errorf("%d files came from the cache of another schema or compiler", res.Stats.Cached)
	}
	sameResult(t, "other schema", first, res)
}

// memProject reads a project folder into memory, so a test can edit it.
func memProject(t *testing.T, dir string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	src := os.DirFS(dir)
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		out[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
