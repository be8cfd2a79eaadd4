package server

import (
	"container/list"
	"sync"
)

// blobCache is a least-recently-used set of blobs bounded by the bytes
// they hold. Blobs are immutable, so an entry never goes stale: it only
// leaves to make room.
type blobCache struct {
	mu    sync.Mutex
	limit int64
	size  int64
	ll    *list.List // front: most recently used; values are *blobEntry
	byKey map[string]*list.Element
}

// entryOverhead is what an entry costs besides its bytes: the key, the
// list element and the map slot, roughly.
const entryOverhead = 256

func newBlobCache(limit int64) *blobCache {
	return &blobCache{limit: limit, ll: list.New(), byKey: map[string]*list.Element{}}
}

// get returns key's entry, marking it used.
func (c *blobCache) get(key string) (*blobEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*blobEntry), true
}

// add stores e unless it alone is larger than a quarter of the bound (one
// huge CSV must not flush every hot chart), then evicts the least recently
// used entries until the cache fits. It returns the entry now cached
// under e's key, which is an earlier one when two loads raced.
func (c *blobCache) add(e *blobEntry) *blobEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[e.key]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*blobEntry)
	}
	if int64(len(e.data)) > c.limit/4 {
		return e
	}
	e.cache = c
	e.charged = int64(len(e.data)) + entryOverhead
	c.byKey[e.key] = c.ll.PushFront(e)
	c.size += e.charged
	c.evictLocked()
	return e
}

// grow accounts for n more bytes held by e (a compressed variant), if e is
// still cached.
func (c *blobCache) grow(e *blobEntry, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[e.key]; !ok || el.Value != e {
		return
	}
	e.charged += n
	c.size += n
	c.evictLocked()
}

func (c *blobCache) evictLocked() {
	for c.size > c.limit {
		el := c.ll.Back()
		if el == nil {
			return
		}
		e := el.Value.(*blobEntry)
		c.ll.Remove(el)
		delete(c.byKey, e.key)
		c.size -= e.charged
	}
}

// stats reports the entries and bytes held.
func (c *blobCache) stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len(), c.size
}
