package compiler

import (
	"crypto/sha256"
	"os"
	"strings"
	"testing"
	"time"
)

// sealed is body after its magic and key, with the checksum a cache entry
// ends with: what a forger who can write the cache but not sign it for
// the disk could hand the compiler.
func sealed(magic []byte, key string, body []byte) []byte {
	w := newSealed(magic, key, "")
	w.buf.Write(body)
	return w.seal()
}

// FuzzCacheEntry: whatever a file's cache entry holds, with a right
// checksum, decoding it and then its trees never panics. (TestLazyTrees
// compiles with entries whose trees do not decode.)
func FuzzCacheEntry(f *testing.F) {
	const file, key = "dashboards/sales.yaml", "k"
	src, err := os.ReadFile("../examples/shop/" + file)
	if err != nil {
		f.Fatal(err)
	}
	docs, aliases := parseYAML(file, src, &diagSink{})
	e := fileEntry{aliases: aliases, docs: docs}
	for _, d := range docs {
		if o, ok := identifyYAML(d, &diagSink{}); ok {
			e.objects = append(e.objects, entryObject{kind: o.kind, name: o.name, namePos: o.namePos})
			e.checks = append(e.checks, objectCheck{result: checkOK})
		}
	}
	seed, ok := encodeEntry(key, file, &e)
	if !ok {
		f.Fatal("the seed entry cannot be encoded")
	}
	head := len(entryMagic) + len(key) + 1 // the key's length is one byte
	f.Add(seed[head : len(seed)-sha256.Size])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := decodeEntry(key, file, sealed(entryMagic, key, body), src, time.Second)
		if err != nil {
			return
		}
		if e.lazy != nil {
			for i := range e.objects {
				if e.lazy.doc(i) == nil {
					t.Fatalf("document %d has no tree", i)
				}
			}
		}
	})
}

// FuzzHashPack: whatever a pack of dashboards' memos holds, with a right
// checksum, decoding it never panics and yields only well-formed hashes.
func FuzzHashPack(f *testing.F) {
	const key = "k"
	seed := encodeHashPack(key, nil, nil, []dashboardMemo{{
		key: "doc#0", id: "dashboard/sales", hash: strings.Repeat("a", 64), clean: true,
		charts:   []string{"chart/sales/revenue", strings.Repeat("b", 64)},
		datasets: []string{"dataset/orders", strings.Repeat("c", 64)},
	}})
	f.Add(key, seed[len(hashesMagic)+len(key)+1:len(seed)-sha256.Size])
	f.Fuzz(func(t *testing.T, key string, body []byte) {
		memos := decodeHashPack(key, sealed(hashesMagic, key, body))
		for _, m := range memos {
			if !validHash(m.hash) {
				t.Fatalf("a memo's hash %q", m.hash)
			}
		}
	})
}
