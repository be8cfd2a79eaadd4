package storage

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrNotFound is wrapped by Get and Stat when a key holds nothing.
var ErrNotFound = errors.New("storage: not found")

// ErrInvalidKey is wrapped by every operation given a key that CheckKey
// refuses.
var ErrInvalidKey = errors.New("storage: invalid key")

// maxKeyLen is S3's limit on an object name, kept by both stores so that a
// key accepted by one is accepted by the other.
const maxKeyLen = 1024

// blobDir is the prefix of content-addressed blobs.
const blobDir = "blobs/"

// CheckKey reports why key cannot name an object, or nil. A key is a
// slash-separated path of non-empty segments; it may not start or end
// with a slash, contain a backslash or a control character, or have a
// segment starting with a dot (which rules out "." and "..", and leaves
// dot names to the local store's own temporary files). These rules keep
// the local store inside its directory and give both stores the same
// keys.
func CheckKey(key string) error {
	if err := checkPath(key); err != nil {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, err)
	}
	return nil
}

// checkPrefix is CheckKey for a List prefix, which may be empty, end with
// a slash or end inside a segment.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		return fmt.Errorf("%w %q: starts with a slash", ErrInvalidKey, prefix)
	}
	return CheckKey(p)
}

func checkPath(key string) error {
	switch {
	case key == "":
		return errors.New("empty")
	case len(key) > maxKeyLen:
		return fmt.Errorf("longer than %d bytes", maxKeyLen)
	case !utf8.ValidString(key):
		return errors.New("not UTF-8")
	case strings.HasPrefix(key, "/"):
		return errors.New("starts with a slash")
	case strings.HasSuffix(key, "/"):
		return errors.New("ends with a slash")
	case strings.Contains(key, `\`):
		return errors.New("contains a backslash")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return errors.New("contains a control character")
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return errors.New("has an empty segment")
		case seg[0] == '.':
			return fmt.Errorf("has a segment %q starting with a dot", seg)
		}
	}
	return nil
}

// BlobKey is the key of the blob whose sha256 is hash, in lowercase hex:
// blobs/ab/cdef…. It is "" (a key every operation refuses) when hash is not
// such a digest, since a hash read from a pointer or a release is data,
// not a promise.
func BlobKey(hash string) string {
	if len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return ""
	}
	return blobDir + hash[:2] + "/" + hash[2:]
}

// BlobHash is the hash a blob key names: BlobKey's inverse, "" for a key
// that BlobKey does not make.
func BlobHash(key string) string {
	rest, ok := strings.CutPrefix(key, blobDir)
	if !ok || len(rest) != 65 || rest[2] != '/' {
		return ""
	}
	hash := rest[:2] + rest[3:]
	if BlobKey(hash) != key {
		return ""
	}
	return hash
}
