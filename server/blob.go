package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/bic-dev/bic/publish/storage"
)

// minCompress is the size under which compressing costs more than it saves.
const minCompress = 512

// loadTimeout bounds a blob's read from storage. The read runs for every
// request waiting on it, so it does not end with the first one's context.
const loadTimeout = 30 * time.Second

// blobEntry is a blob held in memory, with its gzip form made on first
// demand.
type blobEntry struct {
	key, hash string
	data      []byte

	cache   *blobCache // set once cached
	charged int64      // bytes counted by cache; guarded by cache.mu

	// tag and length are the headers of data.
	tag, length []string
	gz, br      encodedForm
}

// encodedForm is a blob compressed in one coding, made on first demand
// and kept: blobs never change.
type encodedForm struct {
	once        sync.Once
	data        []byte // nil when compressing does not pay
	tag, length []string
}

func newBlobEntry(key string, data []byte) *blobEntry {
	hash := hashOf(key)
	return &blobEntry{key: key, hash: hash, data: data,
		tag: []string{etag(hash, "")}, length: []string{strconv.Itoa(len(data))}}
}

// encoded returns the entry's bytes in coding enc with their ETag and
// Content-Length, or nil when it has no such form.
func (e *blobEntry) encoded(enc string) (body []byte, tag, length []string) {
	var f *encodedForm
	switch enc {
	case encGzip:
		f = &e.gz
	case encBrotli:
		f = &e.br
	default:
		return nil, nil, nil
	}
	f.once.Do(func() {
		if f.data = e.compress(enc); f.data != nil {
			f.tag, f.length = []string{etag(e.hash, enc)}, []string{strconv.Itoa(len(f.data))}
		}
	})
	return f.data, f.tag, f.length
}

// brotliQuality is the brotli level blobs are compressed at, chosen with
// BenchmarkCompress on ECharts (1,000 KB): level 9 gives 294 KB in 0.14 s,
// level 11 269 KB in 2.7 s, level 5 308 KB; gzip -9 334 KB. A blob is
// compressed on its first request, which waits for it.
const brotliQuality = 9

// compress compresses the blob once in coding enc, as hard as pays: the
// result is kept, and counted against the cache's bound.
func (e *blobEntry) compress(enc string) []byte {
	if len(e.data) < minCompress {
		return nil
	}
	var buf bytes.Buffer
	switch enc {
	case encGzip:
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(e.data)
		w.Close()
	case encBrotli:
		w := brotli.NewWriterLevel(&buf, brotliQuality)
		w.Write(e.data)
		w.Close()
	}
	if buf.Len() >= len(e.data)*9/10 {
		return nil
	}
	out := bytes.Clone(buf.Bytes())
	if e.cache != nil {
		e.cache.grow(e, int64(len(out)))
	}
	return out
}

// errTooLarge is the answer of load for a blob too large to hold in memory:
// it is streamed instead.
var errTooLarge = errors.New("blob too large to cache")

// errCorrupt is the answer of load for a blob whose bytes are not those its
// key is the hash of.
var errCorrupt = errors.New("corrupt blob")

// blob returns key's entry from the cache, or reads it from storage (one
// read however many requests ask at once) and checks its bytes against
// their address.
func (s *Server) blob(ctx context.Context, key string) (*blobEntry, error) {
	if e, ok := s.blobs.get(key); ok {
		s.metrics.cacheHit()
		return e, nil
	}
	s.metrics.cacheMiss()
	v, err, _ := s.blobFlight.Do(key, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		info, err := s.store.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		if info.Size > s.blobs.limit/4 {
			return nil, errTooLarge
		}
		rc, err := s.store.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, s.blobs.limit/4+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
		if int64(len(data)) > s.blobs.limit/4 {
			return nil, errTooLarge
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != hashOf(key) {
			return nil, fmt.Errorf("%w: %s does not hold the bytes its key names", errCorrupt, key)
		}
		return s.blobs.add(newBlobEntry(key, data)), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*blobEntry), nil
}

// blobResponse is how to answer with a blob.
type blobResponse struct {
	key          string
	contentType  string
	cacheControl string
	// extra are more headers as canonical name, value pairs, such as
	// Content-Disposition.
	extra []string
}

// serveBlob answers r with a blob: 304 when If-None-Match names it (without
// reading storage), else its bytes, gzipped when the client accepts it and
// the type is text. Headers are assigned with their canonical names and
// shared values, since this is the path of every chart.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, br blobResponse) {
	hash := hashOf(br.key)
	h := w.Header()
	h["Cache-Control"] = headerValue(br.cacheControl)
	h["X-Content-Type-Options"] = hvNosniff
	text := compressible(br.contentType)
	if text {
		h["Vary"] = hvVary
	}
	for i := 0; i+1 < len(br.extra); i += 2 {
		h[br.extra[i]] = []string{br.extra[i+1]}
	}
	enc := ""
	if text {
		enc = negotiate(r)
	}
	if tag, ok := notModified(r, hash); ok {
		h.Set("ETag", tag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	e, err := s.blob(r.Context(), br.key)
	if errors.Is(err, errTooLarge) {
		s.streamBlob(w, r, br, hash)
		return
	}
	if err != nil {
		s.storageError(w, r, br.key, err)
		return
	}
	body, tag, length := e.data, e.tag, e.length
	if enc != "" {
		if b, t, l := e.encoded(enc); b != nil {
			body, tag, length = b, t, l
			h["Content-Encoding"] = hvEncoding[enc]
		}
	}
	h["Etag"] = tag
	h["Content-Type"] = headerValue(br.contentType)
	h["Content-Length"] = length
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// Header values shared by every response (net/http only reads them).
var (
	hvNosniff  = []string{"nosniff"}
	hvVary     = []string{"Accept-Encoding"}
	hvEncoding = map[string][]string{encGzip: {encGzip}, encBrotli: {encBrotli}}
	hvShared   = sharedValues(cacheImmutable, cacheRevalid, cacheAsset,
		"application/json", "text/html; charset=utf-8", "text/csv; charset=utf-8")
)

func sharedValues(vs ...string) map[string][]string {
	m := make(map[string][]string, len(vs))
	for _, v := range vs {
		m[v] = []string{v}
	}
	return m
}

// headerValue is v as a header's value, shared when it is a common one.
func headerValue(v string) []string {
	if hv, ok := hvShared[v]; ok {
		return hv
	}
	return []string{v}
}

// streamBlob copies a blob too large for the cache from storage,
// uncompressed.
func (s *Server) streamBlob(w http.ResponseWriter, r *http.Request, br blobResponse, hash string) {
	h := w.Header()
	info, err := s.store.Stat(r.Context(), br.key)
	if err != nil {
		s.storageError(w, r, br.key, err)
		return
	}
	h.Set("ETag", etag(hash, ""))
	h.Set("Content-Type", br.contentType)
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	rc, err := s.store.Get(r.Context(), br.key)
	if err != nil {
		s.storageError(w, r, br.key, err)
		return
	}
	defer rc.Close()
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		s.log.Warn("stream blob", "key", br.key, "error", err)
	}
}

// storageError answers for a blob that could not be read: 404 for one that
// a release names but storage lacks (a broken release, which is logged),
// 500 for one whose bytes do not match their hash, 503 for storage that
// does not answer.
func (s *Server) storageError(w http.ResponseWriter, r *http.Request, key string, err error) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		s.log.Error("a release names a missing blob", "key", key, "error", err)
		writeError(w, r, http.StatusNotFound, "blob "+key+" is missing from storage", nil)
		return
	case errors.Is(err, errCorrupt):
		s.log.Error("corrupt blob", "key", key, "error", err)
		writeError(w, r, http.StatusInternalServerError, "blob "+key+" is corrupt in storage", nil)
		return
	}
	s.log.Error("read blob", "key", key, "error", err)
	writeError(w, r, http.StatusServiceUnavailable, "storage did not answer", nil)
}

// etag is the strong tag of a blob's representation: its sha256, with the
// coding as a suffix for a compressed form (a different sequence of
// bytes, so a different strong tag).
func etag(hash, enc string) string {
	if enc == "" {
		return `"` + hash + `"`
	}
	return `"` + hash + "-" + enc + `"`
}
