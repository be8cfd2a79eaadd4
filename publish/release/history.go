package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bic-dev/bic/publish/storage"
)

// Record is one entry of an environment's release history in storage:
// a pointer that Flip wrote, and when. Storage alone answers which
// releases an environment published, so a rollback can point at an older
// release and bic gc knows which releases were served within its
// retention, without the metadata DB.
//
// A record is written before its pointer: a crash in between leaves the
// record of a release that never served, which is harmless (it names a
// complete release, and gc treats it like any other).
type Record struct {
	Key string `json:"-"` // envs/<env>/releases/<revision>-<unix nanos>
	Env string `json:"-"`
	Pointer
	PublishedAt time.Time `json:"published_at"`
}

// HistoryPrefix is the prefix of env's release records.
func HistoryPrefix(env string) string { return "envs/" + env + "/releases/" }

// recordKey is the key of a record: the revision zero-padded so that keys
// sort by revision, then by time.
func recordKey(env string, revision int, at time.Time) string {
	return fmt.Sprintf("%s%010d-%019d", HistoryPrefix(env), revision, at.UnixNano())
}

// ParseRecordKey splits a record's key into its environment, or false
// for a key that is not one.
func ParseRecordKey(key string) (env string, ok bool) {
	rest, ok := strings.CutPrefix(key, "envs/")
	if !ok {
		return "", false
	}
	env, name, ok := strings.Cut(rest, "/releases/")
	if !ok || env == "" || strings.Contains(env, "/") {
		return "", false
	}
	rev, nanos, ok := strings.Cut(name, "-")
	if _, err := strconv.Atoi(rev); !ok || err != nil {
		return "", false
	}
	if _, err := strconv.ParseInt(nanos, 10, 64); err != nil {
		return "", false
	}
	return env, true
}

// writeRecord stores the record of a pointer about to be written.
func writeRecord(ctx context.Context, w storage.Writer, env string, p Pointer, at time.Time) error {
	rec := Record{Pointer: p, PublishedAt: at.UTC()}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := w.Put(ctx, recordKey(env, p.Revision, at), bytes.NewReader(b)); err != nil {
		return fmt.Errorf("record %s's release of revision %d: %w", env, p.Revision, err)
	}
	return nil
}

// ReadRecord reads the record stored at key.
func ReadRecord(ctx context.Context, r storage.Reader, key string) (Record, error) {
	env, ok := ParseRecordKey(key)
	if !ok {
		return Record{}, fmt.Errorf("%s is not a release record's key", key)
	}
	var rec Record
	if err := readJSON(ctx, r, key, 1<<16, &rec); err != nil {
		return Record{}, err
	}
	rec.Key, rec.Env = key, env
	return rec, nil
}

// History lists the releases env published, newest first: by published
// time, then by revision. A record removed while it is read (bic gc) is
// left out.
func History(ctx context.Context, r storage.Reader, env string) ([]Record, error) {
	return history(ctx, r, env, HistoryPrefix(env))
}

// RevisionHistory is History of one revision's releases only: it reads
// just their records (a record's key starts with its revision).
func RevisionHistory(ctx context.Context, r storage.Reader, env string, revision int) ([]Record, error) {
	return history(ctx, r, env, fmt.Sprintf("%s%010d-", HistoryPrefix(env), revision))
}

func history(ctx context.Context, r storage.Reader, env, prefix string) ([]Record, error) {
	infos, err := r.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s's releases: %w", env, err)
	}
	out := make([]Record, 0, len(infos))
	for _, info := range infos {
		if _, ok := ParseRecordKey(info.Key); !ok {
			continue
		}
		rec, err := ReadRecord(ctx, r, info.Key)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s's releases: %w", env, err)
		}
		out = append(out, rec)
	}
	SortNewestFirst(out)
	return out, nil
}

// SortNewestFirst orders records by published time, then revision, then
// key, newest first.
func SortNewestFirst(recs []Record) {
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if !a.PublishedAt.Equal(b.PublishedAt) {
			return a.PublishedAt.After(b.PublishedAt)
		}
		if a.Revision != b.Revision {
			return a.Revision > b.Revision
		}
		return a.Key > b.Key
	})
}
