package release_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/compiler/query/filterstate"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/servicetest/storetest"
)

// TestFlipRecordsHistory: every flip adds a record of the pointer to the
// environment's history in storage, which History lists newest first;
// another environment's records are not its.
func TestFlipRecordsHistory(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Store) {
		ctx := context.Background()
		var want []release.Pointer
		for _, rev := range []int{1, 2, 2, 3} { // 2 twice: a refresh publishes the same revision again
			p := release.Pointer{Release: storage.BlobKey(strings.Repeat(string(rune('a'+len(want))), 64)), Revision: rev}
			if err := release.Flip(ctx, st, "prod", p); err != nil {
				t.Fatal(err)
			}
			want = append([]release.Pointer{p}, want...)
			time.Sleep(2 * time.Millisecond)
		}
		if err := release.Flip(ctx, st, "staging", release.Pointer{Release: storage.BlobKey(strings.Repeat("f", 64)), Revision: 9}); err != nil {
			t.Fatal(err)
		}
		recs, err := release.History(ctx, st, "prod")
		if err != nil {
			t.Fatal(err)
		}
		var got []release.Pointer
		for i, r := range recs {
			got = append(got, r.Pointer)
			if env, ok := release.ParseRecordKey(r.Key); !ok || env != "prod" || r.Env != "prod" {
				t.Errorf("record key %s", r.Key)
			}
			if i > 0 && r.PublishedAt.After(recs[i-1].PublishedAt) {
				t.Errorf("records out of order: %v before %v", recs[i-1].PublishedAt, r.PublishedAt)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		if p, err := release.ReadPointer(ctx, st, "prod"); err != nil || p != want[0] {
			t.Errorf("pointer = %+v, %v; want the last flip's", p, err)
		}
	})
}

// TestParseRecordKey: only Flip's keys are records, so gc removes nothing
// else under envs/.
func TestParseRecordKey(t *testing.T) {
	for key, want := range map[string]bool{
		"envs/prod/releases/0000000003-1764580000000000000": true,
		"envs/prod/current":                 false,
		"envs/prod/releases/notes":          false,
		"envs/prod/releases/0000000003-x":   false,
		"envs/a/b/releases/0000000003-1":    false,
		"envs/prod/releases/3-1/extra":      false,
		"blobs/aa/releases/0000000003-1":    false,
		"envs//releases/0000000003-1":       false,
		"other/prod/releases/0000000003-17": false,
	} {
		if _, ok := release.ParseRecordKey(key); ok != want {
			t.Errorf("ParseRecordKey(%q) = %v, want %v", key, ok, want)
		}
	}
}

// TestBlobs: every blob key a release holds, in any field, and nothing
// that is not a blob key.
func TestBlobs(t *testing.T) {
	key := func(c string) string { return storage.BlobKey(strings.Repeat(c, 64)) }
	rel := &release.Release{Version: release.Version, Env: "prod", Revision: 1, ManifestHash: strings.Repeat("9", 64),
		Charts: map[string]release.Chart{
			"sales/a": {Hash: strings.Repeat("8", 64), Default: "k", States: map[string]release.Data{
				"k":  {JSON: key("a"), CSV: key("b"), InputKey: strings.Repeat("7", 64)},
				"k2": {JSON: key("c"), CSV: key("b")},
			}},
		},
		Dashboards: map[string]release.Dashboard{"sales": {Title: "blobs/not/a/key", Page: key("d"), Charts: []string{"sales/a"}, Filters: filterstate.Dashboard{}}},
		Assets:     map[string]string{"bic.js": key("e")},
	}
	want := []string{key("a"), key("b"), key("c"), key("d"), key("e")}
	if diff := cmp.Diff(want, rel.Blobs()); diff != "" {
		t.Errorf("Blobs (-want +got):\n%s", diff)
	}
}

// eachStore runs test on a file store and on the S3 server of
// BIC_TEST_S3_URL under a fresh prefix.
func eachStore(t *testing.T, test func(t *testing.T, st storage.Store)) {
	t.Helper()
	storetest.EachStore(t, "release-test", test)
}
