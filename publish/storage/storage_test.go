package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPutGet(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		for _, c := range []struct {
			name, key string
			content   []string // written in turn: the last one wins
		}{
			{"small", "releases/r1", []string{`{"revision":1}`}},
			{"empty content", "empty", []string{""}},
			{"deep key", "a/b/c/d/e/f", []string{"deep"}},
			{"unicode and spaces", "envs/pr 42/ünï", []string{"x"}},
			{"binary", "bin", []string{"\x00\xff\x01\r\n"}},
			{"overwrite", "releases/r2", []string{"first, and longer", "second"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				for _, content := range c.content {
					put(t, s, c.key, content)
				}
				want := c.content[len(c.content)-1]
				if got := string(get(t, s, c.key)); got != want {
					t.Errorf("Get(%q) = %q, want %q", c.key, got, want)
				}
				info, err := s.Stat(t.Context(), c.key)
				if err != nil {
					t.Fatal(err)
				}
				if info.Key != c.key || info.Size != int64(len(want)) || info.Modified.IsZero() {
					t.Errorf("Stat(%q) = %+v, want key %q and size %d", c.key, info, c.key, len(want))
				}
			})
		}
	})
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestPutBlob(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		for _, c := range []struct {
			name    string
			content []byte
		}{
			{"empty", nil},
			{"small", []byte("month,revenue\n2026-01,42\n")},
			{"larger than a copy buffer", bytes.Repeat([]byte("0123456789abcdef"), 100_000)},
		} {
			t.Run(c.name, func(t *testing.T) {
				h := sha(c.content)
				want := Blob{Hash: h, Key: "blobs/" + h[:2] + "/" + h[2:], Size: int64(len(c.content))}
				b, err := s.PutBlob(t.Context(), bytes.NewReader(c.content))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, b); diff != "" {
					t.Errorf("PutBlob (-want +got):\n%s", diff)
				}
				if got := get(t, s, b.Key); !bytes.Equal(got, c.content) {
					t.Errorf("Get(%q) returned %d bytes, want the %d written", b.Key, len(got), len(c.content))
				}
				before, err := s.Stat(t.Context(), b.Key)
				if err != nil {
					t.Fatal(err)
				}
				// S3's modification times have a resolution of a second,
				// so for S3 watch the requests instead.
				var trace bytes.Buffer
				if s3, ok := s.(*S3Store); ok {
					s3.Client().TraceOn(&trace)
				}
				again, err := s.PutBlob(t.Context(), bytes.NewReader(c.content))
				if s3, ok := s.(*S3Store); ok {
					s3.Client().TraceOff()
					if bytes.Contains(trace.Bytes(), []byte("\nPUT ")) || bytes.HasPrefix(trace.Bytes(), []byte("PUT ")) {
						t.Error("second PutBlob uploaded the blob again")
					}
					if !bytes.Contains(trace.Bytes(), []byte("HEAD ")) {
						t.Errorf("second PutBlob did not ask whether the blob exists; trace:\n%.500s", trace.Bytes())
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				if again != b {
					t.Errorf("second PutBlob = %+v, want %+v", again, b)
				}
				after, err := s.Stat(t.Context(), b.Key)
				if err != nil {
					t.Fatal(err)
				}
				if !after.Modified.Equal(before.Modified) {
					t.Errorf("second PutBlob rewrote the blob: modified %v, then %v", before.Modified, after.Modified)
				}
			})
		}
		infos, err := s.List(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 3 {
			t.Errorf("List after writing 3 blobs twice = %+v, want 3 objects", infos)
		}
	})
}

// TestPutBlobLarge streams 64 MiB that never exist in memory at once.
func TestPutBlobLarge(t *testing.T) {
	const size = 64 << 20
	gen := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{1}), size) }
	h := sha256.New()
	io.Copy(h, gen())
	wantHash := hex.EncodeToString(h.Sum(nil))

	eachStore(t, func(t *testing.T, s Store) {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		b, err := s.PutBlob(t.Context(), gen())
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&m1)
		if b.Hash != wantHash || b.Size != size {
			t.Errorf("PutBlob = %+v, want hash %s and size %d", b, wantHash, size)
		}
		// TotalAlloc counts the whole process (the other store's subtest
		// too), which still stays far below the blob's size: the file
		// store copies through one buffer, and the S3 store uploads a file.
		if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > size/4 {
			t.Errorf("PutBlob of %d MiB allocated %d MiB", size>>20, alloc>>20)
		}
		r, err := s.Get(t.Context(), b.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		h := sha256.New()
		if n, err := io.Copy(h, r); err != nil || n != size {
			t.Fatalf("reading the blob back: %d bytes, %v", n, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != wantHash {
			t.Errorf("blob read back hashes to %s, want %s", got, wantHash)
		}
	})
}

func TestMissing(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		put(t, s, "dir/file", "x")
		for _, key := range []string{
			"nothing",
			"dir",          // a prefix is not an object
			"dir/file/sub", // below an object
			"dir/other",
			BlobKey(sha([]byte("never written"))),
		} {
			t.Run(key, func(t *testing.T) {
				if _, err := s.Stat(t.Context(), key); !isNotFound(err) {
					t.Errorf("Stat(%q) = %v, want ErrNotFound", key, err)
				}
				if r, err := s.Get(t.Context(), key); !isNotFound(err) {
					if err == nil {
						r.Close()
					}
					t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
				}
				if err := s.Delete(t.Context(), key); err != nil {
					t.Errorf("Delete(%q) of nothing = %v, want nil", key, err)
				}
			})
		}
		if got := string(get(t, s, "dir/file")); got != "x" {
			t.Errorf("deleting nothing changed dir/file to %q", got)
		}
	})
}

func TestList(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		keys := []string{"b", "a/b", "a-c", "a/a/x", "ab", "envs/prod/current", "envs/pr-42/current"}
		for _, k := range keys {
			put(t, s, k, "content of "+k)
		}
		for _, c := range []struct {
			prefix string
			want   []string
		}{
			{"", []string{"a-c", "a/a/x", "a/b", "ab", "b", "envs/pr-42/current", "envs/prod/current"}},
			{"a", []string{"a-c", "a/a/x", "a/b", "ab"}},
			{"a/", []string{"a/a/x", "a/b"}},
			{"a/a", []string{"a/a/x"}},
			{"a/b", []string{"a/b"}},
			{"envs/pr", []string{"envs/pr-42/current", "envs/prod/current"}},
			{"envs/prod/", []string{"envs/prod/current"}},
			{"zz", nil},
			{"zz/", nil},
			{"b/", nil},
		} {
			t.Run(fmt.Sprintf("%q", c.prefix), func(t *testing.T) {
				infos, err := s.List(t.Context(), c.prefix)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, info := range infos {
					got = append(got, info.Key)
					if want := int64(len("content of " + info.Key)); info.Size != want || info.Modified.IsZero() {
						t.Errorf("%s: size %d, modified %v; want size %d", info.Key, info.Size, info.Modified, want)
					}
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("List(%q) (-want +got):\n%s", c.prefix, diff)
				}
			})
		}
	})
}

func TestDelete(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		put(t, s, "releases/old", "old")
		put(t, s, "releases/new", "new")
		for range 2 { // the second time deletes nothing
			if err := s.Delete(t.Context(), "releases/old"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Stat(t.Context(), "releases/old"); !isNotFound(err) {
			t.Errorf("Stat after Delete = %v, want ErrNotFound", err)
		}
		infos, err := s.List(t.Context(), "releases/")
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 1 || infos[0].Key != "releases/new" {
			t.Errorf("List after Delete = %+v, want releases/new only", infos)
		}
	})
}

// TestWritePointerAtomic overwrites a pointer again and again while
// readers read it: every read must be one whole value that was written.
func TestWritePointerAtomic(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		const key = "envs/prod/current"
		writes, readers := 200, 4
		if _, ok := s.(*S3Store); ok {
			writes = 60
		}
		values := make([][]byte, writes+1)
		written := map[string]bool{}
		for i := range values {
			// Lengths differ so that a torn read cannot pass for a value.
			v := []byte(sha([]byte{byte(i), byte(i >> 8)}) + strings.Repeat("-", i%7*100))
			values[i] = v
			written[string(v)] = true
		}
		if err := s.WritePointer(t.Context(), key, values[0]); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		var bad []string
		reads := 0
		for range readers {
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					got, err := read(t.Context(), s, key)
					mu.Lock()
					reads++
					if err != nil {
						bad = append(bad, err.Error())
					} else if !written[string(got)] {
						bad = append(bad, fmt.Sprintf("%d bytes that were never written: %.40q", len(got), got))
					}
					mu.Unlock()
				}
			})
		}
		for _, v := range values[1:] {
			if err := s.WritePointer(t.Context(), key, v); err != nil {
				t.Error(err)
				break
			}
		}
		close(done)
		wg.Wait()
		if len(bad) > 0 {
			t.Errorf("%d of %d reads during %d overwrites were wrong; first: %s", len(bad), reads, writes, bad[0])
		}
		if got := get(t, s, key); !bytes.Equal(got, values[writes]) {
			t.Errorf("pointer after the last write = %.40q, want %.40q", got, values[writes])
		}
		t.Logf("%d reads during %d overwrites", reads, writes)
	})
}

func TestHostileKeys(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		for _, key := range []string{
			"", "/", "/etc/passwd", "..", "../x", "a/../../x", "a/..", ".", "./a", "a/./b",
			"a//b", "a/", `a\b`, `..\x`, "a\x00b", "a\nb", "a\x7fb", "a\u0085b", "\xff",
			".tmp/x", "a/.hidden", strings.Repeat("k", maxKeyLen+1),
		} {
			t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
				ctx := t.Context()
				_, getErr := s.Get(ctx, key)
				_, statErr := s.Stat(ctx, key)
				for op, err := range map[string]error{
					"Put":          s.Put(ctx, key, strings.NewReader("x")),
					"WritePointer": s.WritePointer(ctx, key, []byte("x")),
					"Get":          getErr,
					"Stat":         statErr,
					"Delete":       s.Delete(ctx, key),
				} {
					if !errors.Is(err, ErrInvalidKey) {
						t.Errorf("%s(%q) = %v, want ErrInvalidKey", op, key, err)
					}
				}
				if key != "" && key != "a/" { // "" and "a/" are prefixes, not keys
					if _, err := s.List(ctx, key); !errors.Is(err, ErrInvalidKey) {
						t.Errorf("List(%q) = %v, want ErrInvalidKey", key, err)
					}
				}
			})
		}
		infos, err := s.List(t.Context(), "")
		if err != nil || len(infos) != 0 {
			t.Errorf("after refused writes, List = %v, %v; want nothing", infos, err)
		}
	})
}

func TestBlobKey(t *testing.T) {
	h := sha([]byte("x"))
	for _, c := range []struct{ hash, want string }{
		{h, "blobs/" + h[:2] + "/" + h[2:]},
		{"", ""},
		{"ab", ""},
		{strings.ToUpper(h), ""},
		{h[:63] + "/", ""},
		{"../" + h[3:], ""},
	} {
		if got := BlobKey(c.hash); got != c.want {
			t.Errorf("BlobKey(%q) = %q, want %q", c.hash, got, c.want)
		}
	}
}

func TestCancelled(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.PutBlob(ctx, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
			t.Errorf("PutBlob with a cancelled context = %v, want context.Canceled", err)
		}
		if err := s.Put(ctx, "k", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
			t.Errorf("Put with a cancelled context = %v, want context.Canceled", err)
		}
		if infos, err := s.List(t.Context(), ""); err != nil || len(infos) != 0 {
			t.Errorf("after cancelled writes, List = %v, %v; want nothing", infos, err)
		}
	})
}
