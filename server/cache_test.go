package server

import (
	"strconv"
	"strings"
	"testing"
)

func entry(key string, n int) *blobEntry {
	return newBlobEntry(key, []byte(strings.Repeat("x", n)))
}

func TestBlobCacheEvictsLeastRecentlyUsed(t *testing.T) {
	const size = 1000
	c := newBlobCache(4 * (size + entryOverhead))
	for _, k := range []string{"a", "b", "c", "d"} {
		c.add(entry(k, size))
	}
	c.get("a") // a is now the most recently used; b the least
	c.add(entry("e", size))
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true, "e": true} {
		if _, ok := c.get(k); ok != want {
			t.Errorf("%s cached: %v, want %v", k, ok, want)
		}
	}
	if n, b := c.stats(); n != 4 || b != 4*(size+entryOverhead) {
		t.Errorf("stats %d entries, %d bytes", n, b)
	}
}

func TestBlobCacheBounds(t *testing.T) {
	c := newBlobCache(10000)
	big := entry("big", 3000) // more than a quarter of the bound
	if got := c.add(big); got != big {
		t.Fatal("add does not return the entry")
	}
	if _, ok := c.get("big"); ok {
		t.Error("a blob larger than a quarter of the cache was cached")
	}
	first := entry("k", 100)
	c.add(first)
	if got := c.add(entry("k", 100)); got != first {
		t.Error("a second load of a cached key replaced the first")
	}
	// A compressed form counts, and can push older entries out.
	for i := range 20 {
		c.add(entry(string(rune('A'+i)), 2000))
	}
	if _, b := c.stats(); b > 10000 {
		t.Errorf("%d bytes cached, bound 10000", b)
	}
	e := entry("z", 2000)
	c.add(e)
	_, before := c.stats()
	c.grow(e, 500)
	if _, after := c.stats(); after > 10000 || (after != before+500 && after > before) {
		t.Errorf("after grow: %d bytes (before %d)", after, before)
	}
	// An entry no longer cached does not count.
	stale := entry("gone", 10)
	c.grow(stale, 1<<20)
	if _, b := c.stats(); b > 10000 {
		t.Errorf("grow of an entry not cached counted: %d", b)
	}
}

func TestCompressionPaysOrNot(t *testing.T) {
	for _, enc := range []string{encGzip, encBrotli} {
		small := entry("s", 100)
		if b, _, _ := small.encoded(enc); b != nil {
			t.Errorf("%s: a small blob was compressed", enc)
		}
		text := entry("t", 5000)
		b, tag, length := text.encoded(enc)
		if b == nil || len(b) >= 5000 {
			t.Errorf("%s: repetitive text compressed to %d bytes", enc, len(b))
		}
		if want := etag(text.hash, enc); len(tag) != 1 || tag[0] != want || len(length) != 1 || length[0] != strconv.Itoa(len(b)) {
			t.Errorf("%s: headers %v %v, want ETag %s and the length", enc, tag, length, want)
		}
	}
	if b, _, _ := entry("t", 5000).encoded("zstd"); b != nil {
		t.Error("a coding the server does not offer")
	}
}
