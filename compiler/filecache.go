package compiler

import (
	"context"
	"crypto/sha256"
	"strings"
	"time"
)

// FileCache keeps what the compiler worked out from one file, so that an
// unchanged file is neither parsed nor checked again. Keys are content
// addresses (file path and bytes, schema, compiler version); values are
// opaque to the cache. The compiler does no I/O itself: the caller gives
// a cache (cmd/bic keeps one on disk under .bic/cache). Get may be called
// from several goroutines at once, and so may Put.
//
// The compiler verifies every value it gets before using it, so a cache
// that returns corrupted or foreign bytes costs time, never correctness.
type FileCache interface {
	Get(key string) ([]byte, bool)
	Put(key string, value []byte)
}

// WithCache returns a copy of the compiler that reuses, and records, the
// results of unchanged files in fc; nil turns caching off.
func (c *Compiler) WithCache(fc FileCache) *Compiler {
	cp := *c
	cp.cache = fc
	return &cp
}

// fileCacher is the cache as one compilation uses it.
type fileCacher struct {
	cache  FileCache
	digest [sha256.Size]byte
}

// get returns the verified entry for key, or nil: a value that is not an
// entry for this key, intact, is a miss.
func (fc *fileCacher) get(key, file string, src []byte, timeout time.Duration) *fileEntry {
	b, ok := fc.cache.Get(key)
	if !ok {
		return nil
	}
	e, err := decodeEntry(key, file, b, src, timeout)
	if err != nil {
		return nil
	}
	return e
}

// putAll records the files read without the cache, with their objects'
// verdicts; a file that cannot be cached (a limit hit, an internal
// error) is left out.
func (fc *fileCacher) putAll(ctx context.Context, l *loaded, results []checkResult, sinks []diagSink) {
	parallel(ctx, len(l.toCache), func(i int) {
		p := &l.toCache[i]
		e := p.entry
		for j := p.first; j < p.first+p.count; j++ {
			for _, d := range sinks[j].list {
				if strings.HasPrefix(d.Message, internalErrorPrefix) {
					return
				}
			}
			e.checks = append(e.checks, objectCheck{result: results[j], diags: sinks[j].list})
		}
		if p.count == len(e.docs) {
			for _, o := range l.objects[p.first : p.first+p.count] {
				e.objects = append(e.objects, entryObject{kind: o.kind, name: o.name, namePos: o.namePos})
			}
		}
		if b, ok := encodeEntry(p.key, p.file, &e); ok {
			fc.cache.Put(p.key, b)
		}
	})
}
