package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"time"
)

// An image link lets a receiver that fetches by URL (Slack, a chat
// client's preview) load one stored picture, an alert's or a report's,
// until it expires, without a token: bic serve answers
// /images/<blob hash>.png?exp=UNIX&sig=SIG when SIG is the HMAC-SHA256,
// under a secret the runners and the servers share (BIC_LINK_SECRET), of
// the hash and the expiry. The signature names the one blob, so a link
// leads to nothing else in storage.

// ImagePath is the server's path of the image whose blob hash is hash.
func ImagePath(hash string) string { return "/images/" + hash + ".png" }

// DashboardPath is the server's path of env's dashboard page.
func DashboardPath(env, dashboard string) string {
	return "/e/" + url.PathEscape(env) + "/d/" + url.PathEscape(dashboard)
}

// ThumbnailPath is the server's path of the picture of env's dashboard.
func ThumbnailPath(env, dashboard string) string {
	return "/e/" + url.PathEscape(env) + "/thumbs/" + url.PathEscape(dashboard) + ".png"
}

// SignImage returns the query of a link to the image with blob hash
// hash, valid until expires.
func SignImage(secret []byte, hash string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return url.Values{"exp": {exp}, "sig": {base64.RawURLEncoding.EncodeToString(imageMAC(secret, hash, exp))}}.Encode()
}

// VerifyImage reports whether exp and sig are a link to hash, signed with
// secret and not expired at now. An empty secret verifies nothing.
func VerifyImage(secret []byte, hash, exp, sig string, now time.Time) bool {
	if len(secret) == 0 {
		return false
	}
	_, got, ok := parseSigned(exp, sig, now)
	return ok && hmac.Equal(got[:], imageMAC(secret, hash, exp))
}

// imageMAC names its purpose and version, so that an image link's
// signature is never that of any other message signed with the secret.
func imageMAC(secret []byte, hash, exp string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("bic-image-v1\n" + hash + "\n" + exp))
	return m.Sum(nil)
}
