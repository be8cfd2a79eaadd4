package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Prefix starts every token, so that a leaked one is easy to recognise
// (and to scan for) in logs and repositories.
const Prefix = "bic_"

// tokenBytes is how much randomness a token holds.
const tokenBytes = 32

// tokenLen is the length of a token: the prefix and 32 bytes in unpadded
// base64url.
var tokenLen = len(Prefix) + base64.RawURLEncoding.EncodedLen(tokenBytes)

// Hash is the sha256 of a token: what is stored instead of it.
type Hash [sha256.Size]byte

// String is the hash in lowercase hex, as documents and the DB hold it.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads a hash in hex.
func ParseHash(s string) (Hash, bool) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, false
	}
	return h, true
}

// HashToken is the sha256 of tok.
func HashToken(tok string) Hash { return sha256.Sum256([]byte(tok)) }

// ID is a token's public name: 12 hex digits derived from its hash (with
// a label of its own, so that the id reveals no bits of the hash, which
// keys the token's links). It is what lists, audit rows and links show.
func (h Hash) ID() string {
	sum := sha256.Sum256(append([]byte("bic-token-id:"), h[:]...))
	return hex.EncodeToString(sum[:6])
}

// NewToken makes a token from crypto/rand. The caller shows it once and
// keeps only its hash.
func NewToken() (token string, hash Hash) {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	token = Prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// LooksLikeToken reports whether s has a token's shape. It says nothing
// about whether s is valid; it lets a caller tell a token from a link.
func LooksLikeToken(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, Prefix) {
		return false
	}
	for i := len(Prefix); i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
