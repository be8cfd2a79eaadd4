package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"
	"time"
)

// LinkParam is the query parameter of a signed link.
const LinkParam = "bic_link"

// sigLen is the length of a link's signature: HMAC-SHA256 in unpadded
// base64url.
var sigLen = base64.RawURLEncoding.EncodedLen(sha256.Size)

// strictB64 refuses a signature whose unused bits are set, so that each
// signature has one spelling.
var strictB64 = base64.RawURLEncoding.Strict()

// maxLinkLen bounds what Verify parses.
const maxLinkLen = 128

// Sign makes a link for env that expires at expires, signed with the
// token whose hash is key (and whose id is key.ID()): ID.EXPIRY.SIG.
func Sign(key Hash, env string, expires time.Time) string {
	id := key.ID()
	exp := strconv.FormatInt(expires.Unix(), 10)
	var sum [sha256.Size]byte
	mac(hmac.New(sha256.New, key[:]), &sum, env, id, exp)
	return id + "." + exp + "." + base64.RawURLEncoding.EncodeToString(sum[:])
}

// mac puts the signature of a link in sum, with m keyed by the token's
// hash: the message names its purpose and version, the environment, the
// token id and the expiry, each on a line of its own so that no two
// messages are alike.
func mac(m hash.Hash, sum *[sha256.Size]byte, env, id, exp string) {
	var buf [64 + 2*maxLinkLen]byte
	msg := append(buf[:0], "bic-link-v1\n"...)
	msg = append(msg, env...)
	msg = append(msg, '\n')
	msg = append(msg, id...)
	msg = append(msg, '\n')
	msg = append(msg, exp...)
	m.Write(msg)
	m.Sum(sum[:0])
}

// mac is the signature of a link signed with e, from a pool of keyed
// HMACs: keying one costs more than the signature.
func (e *entry) mac(sum *[sha256.Size]byte, env, id, exp string) {
	m, _ := e.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, e.hash[:])
	}
	m.Reset()
	mac(m, sum, env, id, exp)
	e.macs.Put(m)
}

// Verify reports whether link admits env at now: its token is in the
// list, for env and not expired, the link itself has not expired, and its
// signature is the one Sign makes. It returns the link's expiry.
func (l *List) Verify(env, link string, now time.Time) (time.Time, bool) {
	if l == nil || len(link) > maxLinkLen {
		return time.Time{}, false
	}
	id, rest, ok := strings.Cut(link, ".")
	if !ok {
		return time.Time{}, false
	}
	exp, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return time.Time{}, false
	}
	expires, got, ok := parseSigned(exp, sig, now)
	if !ok {
		return time.Time{}, false
	}
	e, ok := l.byID[id]
	if !ok || e.Env != env || e.expired(now) {
		return time.Time{}, false
	}
	var want [sha256.Size]byte
	e.mac(&want, env, id, exp)
	if !hmac.Equal(got[:], want[:]) {
		return time.Time{}, false
	}
	return expires, true
}

// parseSigned reads a signed link's expiry (Unix seconds, one spelling)
// and signature (unpadded base64url of an HMAC-SHA256): ok only when both
// are well formed and the expiry is after now.
func parseSigned(exp, sig string, now time.Time) (expires time.Time, mac [sha256.Size]byte, ok bool) {
	if len(sig) != sigLen || exp == "" || exp[0] == '0' || len(exp) > 12 {
		return time.Time{}, mac, false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return time.Time{}, mac, false
	}
	expires = time.Unix(unix, 0)
	if !now.Before(expires) {
		return time.Time{}, mac, false
	}
	if n, err := strictB64.Decode(mac[:], []byte(sig)); err != nil || n != len(mac) {
		return time.Time{}, mac, false
	}
	return expires, mac, true
}
