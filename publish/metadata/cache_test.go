package metadata_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/publish/metadata"
)

// putBlobs records artifacts under the given hashes.
func putBlobs(t *testing.T, st *metadata.Store, hashes ...string) {
	t.Helper()
	for _, h := range hashes {
		if err := st.PutArtifact(context.Background(), metadata.Artifact{ContentHash: h, StorageKey: "blobs/" + h, Size: 10, Rows: 3}); err != nil {
			t.Fatal(err)
		}
	}
}

// Recording a blob twice keeps the first record; a record without what
// it needs is refused.
func TestPutArtifact(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			newClock(st)
			tests := []struct {
				name    string
				puts    []metadata.Artifact
				wantErr bool
				// wantKey and wantRows are what the database holds for
				// the first put's hash afterwards; wantRows -1 is NULL.
				wantKey  string
				wantRows int64
			}{
				{name: "once", puts: []metadata.Artifact{{ContentHash: "a1", StorageKey: "k/a1", Size: 5, Rows: 2}}, wantKey: "k/a1", wantRows: 2},
				{name: "again is a no-op", puts: []metadata.Artifact{
					{ContentHash: "a2", StorageKey: "k/a2", Size: 5, Rows: 0},
					{ContentHash: "a2", StorageKey: "elsewhere", Size: 9, Rows: 7},
				}, wantKey: "k/a2", wantRows: 0},
				{name: "no rows", puts: []metadata.Artifact{{ContentHash: "a3", StorageKey: "k/a3", Size: 5, Rows: metadata.NoRows}}, wantKey: "k/a3", wantRows: -1},
				{name: "no storage key", puts: []metadata.Artifact{{ContentHash: "a4", Size: 5}}, wantErr: true},
				{name: "no hash", puts: []metadata.Artifact{{StorageKey: "k/a5", Size: 5}}, wantErr: true},
				{name: "negative size", puts: []metadata.Artifact{{ContentHash: "a6", StorageKey: "k/a6", Size: -1}}, wantErr: true},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					var err error
					for _, a := range tt.puts {
						if err = st.PutArtifact(ctx, a); err != nil {
							break
						}
					}
					if (err != nil) != tt.wantErr {
						t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
					}
					if tt.wantErr {
						return
					}
					var key string
					var rows *int64
					q := "SELECT storage_key, rows FROM artifacts WHERE content_hash = '" + tt.puts[0].ContentHash + "'"
					if err := st.DB().QueryRowContext(ctx, q).Scan(&key, &rows); err != nil {
						t.Fatal(err)
					}
					got := int64(-1)
					if rows != nil {
						got = *rows
					}
					if key != tt.wantKey || got != tt.wantRows {
						t.Errorf("stored key %q rows %d, want %q and %d", key, got, tt.wantKey, tt.wantRows)
					}
				})
			}
		})
	}
}

// A cache entry maps an input key to its JSON and CSV blobs; a refresh
// replaces it, a late older result does not, and it never names a blob
// that was not recorded.
func TestCacheEntry(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	entry := func(key, json, csv string, rows int64, at time.Time) metadata.CacheEntry {
		return metadata.CacheEntry{InputKey: key, JSONHash: json, CSVHash: csv, Rows: rows, ComputedAt: at}
	}
	tests := []struct {
		name    string
		puts    []metadata.CacheEntry
		wantErr error // of the last put; nil: all succeed
		key     string
		want    *metadata.CacheEntry // nil: no entry
	}{
		{name: "none", key: "k0"},
		{name: "json and csv", puts: []metadata.CacheEntry{entry("k1", "j1", "c1", 12, t0)},
			key: "k1", want: &metadata.CacheEntry{InputKey: "k1", JSONHash: "j1", CSVHash: "c1", Rows: 12, ComputedAt: t0}},
		{name: "json alone without rows", puts: []metadata.CacheEntry{entry("k2", "j1", "", metadata.NoRows, t0)},
			key: "k2", want: &metadata.CacheEntry{InputKey: "k2", JSONHash: "j1", Rows: metadata.NoRows, ComputedAt: t0}},
		{name: "zero rows", puts: []metadata.CacheEntry{entry("k3", "j1", "c1", 0, t0)},
			key: "k3", want: &metadata.CacheEntry{InputKey: "k3", JSONHash: "j1", CSVHash: "c1", Rows: 0, ComputedAt: t0}},
		{name: "a refresh replaces it", puts: []metadata.CacheEntry{entry("k4", "j1", "c1", 12, t0), entry("k4", "j2", "c2", 13, t0.Add(time.Hour))},
			key: "k4", want: &metadata.CacheEntry{InputKey: "k4", JSONHash: "j2", CSVHash: "c2", Rows: 13, ComputedAt: t0.Add(time.Hour)}},
		{name: "an older result does not", puts: []metadata.CacheEntry{entry("k5", "j2", "c2", 13, t0.Add(time.Hour)), entry("k5", "j1", "c1", 12, t0)},
			key: "k5", want: &metadata.CacheEntry{InputKey: "k5", JSONHash: "j2", CSVHash: "c2", Rows: 13, ComputedAt: t0.Add(time.Hour)}},
		{name: "a refresh may drop the csv", puts: []metadata.CacheEntry{entry("k6", "j1", "c1", 12, t0), entry("k6", "j2", "", 12, t0.Add(time.Minute))},
			key: "k6", want: &metadata.CacheEntry{InputKey: "k6", JSONHash: "j2", Rows: 12, ComputedAt: t0.Add(time.Minute)}},
		{name: "computed now by default", puts: []metadata.CacheEntry{entry("k7", "j1", "c1", 1, time.Time{})},
			key: "k7", want: &metadata.CacheEntry{InputKey: "k7", JSONHash: "j1", CSVHash: "c1", Rows: 1, ComputedAt: t0.Add(24 * time.Hour)}},
		{name: "json blob not recorded", puts: []metadata.CacheEntry{entry("k8", "missing", "c1", 1, t0)}, wantErr: metadata.ErrNoArtifact, key: "k8"},
		{name: "csv blob not recorded", puts: []metadata.CacheEntry{entry("k9", "j1", "missing", 1, t0)}, wantErr: metadata.ErrNoArtifact, key: "k9"},
		{name: "a failed refresh keeps the entry", puts: []metadata.CacheEntry{entry("k10", "j1", "c1", 1, t0), entry("k10", "missing", "", 1, t0.Add(time.Hour))},
			wantErr: metadata.ErrNoArtifact, key: "k10", want: &metadata.CacheEntry{InputKey: "k10", JSONHash: "j1", CSVHash: "c1", Rows: 1, ComputedAt: t0}},
	}
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			c.add(24 * time.Hour)
			putBlobs(t, st, "j1", "j2", "c1", "c2")
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					var err error
					for _, e := range tt.puts {
						if err = st.PutCacheEntry(ctx, e); err != nil {
							break
						}
					}
					if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
						t.Fatalf("put: err = %v, want %v", err, tt.wantErr)
					}
					got, ok, err := st.CacheEntry(ctx, tt.key)
					if err != nil {
						t.Fatal(err)
					}
					if ok != (tt.want != nil) {
						t.Fatalf("entry found: %v, want %v (%+v)", ok, tt.want != nil, got)
					}
					if tt.want == nil {
						return
					}
					if diff := cmp.Diff(*tt.want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
						t.Errorf("entry (-want +got):\n%s", diff)
					}
				})
			}
		})
	}
}

// A claim on an input key is held by one owner until it expires or its
// owner releases it; its owner claiming again extends it.
func TestClaimInput(t *testing.T) {
	const claimLease = time.Minute
	type step struct {
		do    string // claim, release, entry, wait
		owner string
		wait  time.Duration
		want  bool // claim's answer
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "free", steps: []step{{do: "claim", owner: "a", want: true}}},
		{name: "held by another", steps: []step{{do: "claim", owner: "a", want: true}, {do: "claim", owner: "b", want: false}}},
		{name: "held by itself", steps: []step{{do: "claim", owner: "a", want: true}, {do: "claim", owner: "a", want: true}}},
		{name: "expired", steps: []step{
			{do: "claim", owner: "a", want: true}, {do: "wait", wait: claimLease},
			{do: "claim", owner: "b", want: true}, {do: "claim", owner: "a", want: false},
		}},
		{name: "not yet expired", steps: []step{
			{do: "claim", owner: "a", want: true}, {do: "wait", wait: claimLease - time.Second},
			{do: "claim", owner: "b", want: false},
		}},
		{name: "claiming again extends the lease", steps: []step{
			{do: "claim", owner: "a", want: true}, {do: "wait", wait: claimLease / 2},
			{do: "claim", owner: "a", want: true}, {do: "wait", wait: claimLease/2 + time.Second},
			{do: "claim", owner: "b", want: false}, {do: "wait", wait: claimLease / 2},
			{do: "claim", owner: "b", want: true},
		}},
		{name: "released", steps: []step{
			{do: "claim", owner: "a", want: true}, {do: "release", owner: "a"},
			{do: "claim", owner: "b", want: true},
		}},
		{name: "released by another changes nothing", steps: []step{
			{do: "claim", owner: "a", want: true}, {do: "release", owner: "b"},
			{do: "claim", owner: "b", want: false},
		}},
		{name: "releasing nothing", steps: []step{{do: "release", owner: "a"}, {do: "claim", owner: "b", want: true}}},
		{name: "ended by its entry", steps: []step{
			{do: "claim", owner: "a", want: true}, {do: "entry", owner: "a"},
			{do: "claim", owner: "b", want: true},
		}},
		{name: "not ended by another's entry", steps: []step{
			{do: "claim", owner: "a", want: true}, {do: "entry", owner: "b"},
			{do: "claim", owner: "b", want: false},
		}},
	}
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newClock(st)
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					key := fmt.Sprintf("input-%d", i)
					for n, s := range tt.steps {
						switch s.do {
						case "wait":
							c.add(s.wait)
						case "release":
							if err := st.ReleaseInput(ctx, key, s.owner); err != nil {
								t.Fatal(err)
							}
						case "entry": // the computation's result ends its claim
							blob := fmt.Sprintf("%064d", i)
							e := metadata.CacheEntry{InputKey: key, JSONHash: blob, Rows: 1, ReleaseClaim: s.owner}
							if err := st.PutCacheEntry(ctx, e, metadata.Artifact{ContentHash: blob, StorageKey: "blobs/" + blob, Size: 1, Rows: 1}); err != nil {
								t.Fatal(err)
							}
						case "claim":
							got, err := st.ClaimInput(ctx, key, s.owner, claimLease)
							if err != nil {
								t.Fatal(err)
							}
							if got != s.want {
								t.Errorf("step %d: %s claims: %v, want %v", n, s.owner, got, s.want)
							}
						}
					}
				})
			}
			for _, bad := range []struct{ key, owner string }{{"", "a"}, {"k", ""}} {
				if _, err := st.ClaimInput(ctx, bad.key, bad.owner, claimLease); err == nil {
					t.Errorf("claim of %q by %q: no error", bad.key, bad.owner)
				}
			}
			if _, err := st.ClaimInput(ctx, "k", "a", 0); err == nil {
				t.Error("claim without a lease: no error")
			}
		})
	}
}

// Of many runners claiming one input key at once, exactly one gets it.
func TestClaimInputConcurrently(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for round := range 5 {
				key := fmt.Sprintf("hot-%d", round)
				var (
					wg   sync.WaitGroup
					mu   sync.Mutex
					won  []string
					errs = make([]error, 8)
				)
				for i := range errs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						owner := fmt.Sprintf("runner-%d", i)
						ok, err := st.ClaimInput(ctx, key, owner, time.Minute)
						errs[i] = err
						if ok {
							mu.Lock()
							won = append(won, owner)
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Fatal(err)
				}
				if len(won) != 1 {
					t.Errorf("round %d: %d owners got the claim (%v), want 1", round, len(won), won)
				}
			}
		})
	}
}
