package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bic-dev/bic/publish/storage"
)

// AllowListKey is where the allow-list lives in storage: one per storage,
// for every environment in it.
const AllowListKey = "access/tokens.json"

// AllowListVersion is the version of the document's format.
const AllowListVersion = 1

// maxAllowList bounds the document read back: about 20000 tokens.
const maxAllowList = 4 << 20

// Entry is one token in the allow-list: never the token, only its hash.
type Entry struct {
	ID        string     `json:"id"`
	Env       string     `json:"env"`
	Hash      string     `json:"sha256"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// expired reports whether e no longer admits anyone at now.
func (e *Entry) expired(now time.Time) bool {
	return e.ExpiresAt != nil && !now.Before(*e.ExpiresAt)
}

// document is the allow-list as stored.
type document struct {
	Version int     `json:"version"`
	Tokens  []Entry `json:"tokens"`
}

// List is an allow-list, indexed for the check of every request. The
// zero List (and a nil *List) admits no one.
type List struct {
	entries []Entry
	byHash  map[Hash]*entry
	byID    map[string]*entry
}

// entry is an Entry with its hash decoded.
type entry struct {
	Entry
	hash Hash
	macs sync.Pool // of HMACs keyed with hash, for Verify
}

// NewList indexes entries, skipping any whose hash, id or env is not
// well-formed, so that a bad row can never admit anyone.
func NewList(entries []Entry) *List {
	l := &List{byHash: map[Hash]*entry{}, byID: map[string]*entry{}}
	for _, e := range entries {
		h, ok := ParseHash(e.Hash)
		if !ok || e.Env == "" || h.ID() != e.ID {
			continue
		}
		x := &entry{Entry: e, hash: h}
		l.entries = append(l.entries, e)
		l.byHash[h] = x
		l.byID[e.ID] = x
	}
	slices.SortFunc(l.entries, func(a, b Entry) int { return strings.Compare(a.ID, b.ID) })
	return l
}

// Entries are the list's tokens, by id.
func (l *List) Entries() []Entry {
	if l == nil {
		return nil
	}
	return slices.Clone(l.entries)
}

// Check reports whether token admits env at now. It hashes token once;
// token never appears in what it returns.
func (l *List) Check(env, token string, now time.Time) (Entry, bool) {
	e, ok := l.lookup(token, now)
	if !ok || e.Env != env {
		return Entry{}, false
	}
	return e.Entry, true
}

// EnvOf is the environment token admits at now, if any: for a request
// that names no environment, such as the index.
func (l *List) EnvOf(token string, now time.Time) (string, bool) {
	if e, ok := l.lookup(token, now); ok {
		return e.Env, true
	}
	return "", false
}

// lookup finds token's unexpired entry by the token's hash. The map is
// keyed by the hash, so a hit is the match: nothing is left to compare.
func (l *List) lookup(token string, now time.Time) (*entry, bool) {
	if l == nil || !LooksLikeToken(token) {
		return nil, false
	}
	e, ok := l.byHash[HashToken(token)]
	if !ok || e.expired(now) {
		return nil, false
	}
	return e, true
}

// Marshal is the document of entries, sorted by id.
func Marshal(entries []Entry) ([]byte, error) {
	doc := document{Version: AllowListVersion, Tokens: slices.Clone(entries)}
	if doc.Tokens == nil {
		doc.Tokens = []Entry{}
	}
	slices.SortFunc(doc.Tokens, func(a, b Entry) int { return strings.Compare(a.ID, b.ID) })
	return json.MarshalIndent(doc, "", "  ")
}

// Write publishes entries as the allow-list, replacing the one before in
// one step: a server reads the old list or the new one.
func Write(ctx context.Context, w storage.Writer, entries []Entry) error {
	b, err := Marshal(entries)
	if err != nil {
		return fmt.Errorf("access: encode allow-list: %w", err)
	}
	if err := w.WritePointer(ctx, AllowListKey, b); err != nil {
		return fmt.Errorf("access: write allow-list: %w", err)
	}
	return nil
}

// ErrNoAllowList is ReadAllowList's answer when storage holds none: no
// token was ever published, so no one is admitted.
var ErrNoAllowList = errors.New("access: no allow-list in storage (create a token with bic token create)")

// ReadAllowList reads and indexes the allow-list in storage.
func ReadAllowList(ctx context.Context, r storage.Reader) (*List, error) {
	b, err := storage.ReadAll(ctx, r, AllowListKey, maxAllowList)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNoAllowList
	}
	if err != nil {
		return nil, fmt.Errorf("access: read allow-list: %w", err)
	}
	var doc document
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("access: decode allow-list %s: %w", AllowListKey, err)
	}
	if doc.Version != AllowListVersion {
		return nil, fmt.Errorf("access: allow-list %s has version %d, this bic reads %d", AllowListKey, doc.Version, AllowListVersion)
	}
	return NewList(doc.Tokens), nil
}
