package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/bic-dev/bic/publish/storage"
)

// Cache-Control values: a content-addressed URL never changes; one that
// goes through a pointer must be revalidated (cheaply, by ETag) so that a
// publish is seen at once.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheRevalid   = "no-cache"
	// cacheAsset is for an asset by name: its bytes change only with a
	// release that updates it, so browsers may keep it a few minutes.
	cacheAsset = "public, max-age=300"
)

// statusWriter remembers the status written, for the metrics and the
// recover of ServeHTTP.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// writeError answers with code and a JSON body {"error": msg, …extra}.
// Every error is JSON, so that a page's script and a person with curl
// read the same message.
func writeError(w http.ResponseWriter, r *http.Request, code int, msg string, extra map[string]any) {
	body := map[string]any{"error": msg}
	for k, v := range extra {
		body[k] = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		b = []byte(`{"error":"internal error"}`)
	}
	h := w.Header()
	for _, k := range []string{"ETag", "Content-Encoding", "Content-Disposition", "Vary"} {
		h.Del(k)
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(append(b, '\n'))
	}
}

// hashOf is the sha256 of a blob's key blobs/ab/cdef…, "" for any other.
func hashOf(key string) string { return storage.BlobHash(key) }

// notModified reports whether the If-None-Match of r names any
// representation of the blob whose hash is hash: the tag of its bytes or
// of one of their compressed forms, which differ only by a suffix. It
// returns the tag that matched, which the 304 repeats.
func notModified(r *http.Request, hash string) (string, bool) {
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return "", false
	}
	for tag := range strings.SplitSeq(inm, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return etag(hash, ""), true
		}
		tag = strings.TrimPrefix(tag, "W/") // If-None-Match compares weakly
		opaque := strings.Trim(tag, `"`)
		base, enc, _ := strings.Cut(opaque, "-")
		if base == hash && (enc == "" || enc == encGzip || enc == encBrotli) {
			return etag(hash, enc), true
		}
	}
	return "", false
}

// compressible reports whether a type is text, which gzip shrinks;
// images and archives are compressed already.
func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "json") ||
		strings.Contains(ctype, "javascript") || strings.Contains(ctype, "xml")
}

// The content codings the server offers: brotli when the client takes
// it (every current browser does, over HTTPS and on localhost), else gzip.
const (
	encGzip   = "gzip"
	encBrotli = "br"
)

// negotiate picks brotli or gzip, whichever r's Accept-Encoding allows
// (brotli first: it is smaller), or "" for the bytes as stored.
func negotiate(r *http.Request) string {
	ae := r.Header.Get("Accept-Encoding")
	if ae == "" {
		return ""
	}
	var gz, gzSet, br, brSet, star, starSet bool
	for part := range strings.SplitSeq(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		ok := true
		if q, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found {
			f, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
			ok = err == nil && f > 0
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case encGzip, "x-gzip":
			gz, gzSet = ok, true
		case encBrotli:
			br, brSet = ok, true
		case "*":
			star, starSet = ok, true
		}
	}
	if starSet && !gzSet {
		gz = star
	}
	if starSet && !brSet {
		br = star
	}
	switch {
	case br:
		return encBrotli
	case gz:
		return encGzip
	}
	return ""
}
