// Package access decides who may read an environment that bic serve
// serves: bearer tokens, the allow-list that publishes their hashes to
// object storage, and signed links that share a preview for a while.
//
// A token is "bic_" and 32 random bytes in base64url. Only its sha256 is
// kept: in the metadata DB (which issues and revokes tokens) and in the
// allow-list document at AllowListKey, which the server re-reads from
// storage, so that serving still needs no database.
//
// A signed link (and the session cookie the server sets) is
// ID.EXPIRY.SIG: the id of a token, a Unix time, and the HMAC-SHA256 of
// the environment, id and expiry keyed with that token's sha256. Links
// need no secret of their own, a revoked or expired token voids its links,
// and a link never carries the token.
//
// The hashes in the allow-list are an HMAC key, and the allow-list is in
// the same storage as the data: anyone who can read that storage can read
// every environment's data already, so publishing the hashes there gives
// nothing more. Storage must stay private; the server is the way in.
//
// It imports only the standard library and publish/storage, so that the
// server can import it; it never logs, and no error it returns holds a
// token.
package access
