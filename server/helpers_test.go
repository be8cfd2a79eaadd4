package server

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler/query/filterstate"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/servicetest/storetest"
)

// fixture is a small published environment, built by hand as a runner's
// publish job would.
type fixture struct {
	store    storage.Store
	rel      *release.Release
	relKey   string
	page     []byte
	pageKey  string
	json     map[string][]byte // state key → chart JSON
	jsonKey  map[string]string // state key → its blob key
	csv      []byte
	csvKey   string
	assetJS  []byte
	assetKey string
	// defaultKey and euKey are the precomputed states: no filter chosen,
	// and region=EU.
	defaultKey, euKey string
	// euPage is the page of the region=EU state.
	euPage, euPageKey string
	euStaleAt         time.Time
	// thumb is the dashboard's thumbnail, kept from an earlier release.
	thumb, thumbKey string
	filters         filterstate.Dashboard
	unnamedKey      string // a blob in storage that no release names
}

var salesFilters = filterstate.Dashboard{Name: "sales", Filters: []filterstate.Filter{
	{Name: "region", Type: filterstate.Select, ValueType: "string", Values: []any{"EU", "US"}},
	{Name: "country", Type: filterstate.MultiSelect, ValueType: "string"},
	{Name: "price", Type: filterstate.NumberRange, ValueType: "number"},
	{Name: "period", Type: filterstate.DateRange, ValueType: "time", Default: "last_30_days"},
	{Name: "paid", Type: filterstate.Select, ValueType: "boolean"},
}}

func put(t testing.TB, st storage.Writer, b []byte) string {
	t.Helper()
	blob, err := st.PutBlob(context.Background(), bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return blob.Key
}

func stateKey(t testing.TB, chosen map[string]any) string {
	t.Helper()
	st, err := filterstate.Normalize(salesFilters, chosen)
	if err != nil {
		t.Fatal(err)
	}
	return st.Key()
}

// publish writes a release of env at revision rev, whose page says title,
// and flips the pointer to it.
func publish(t testing.TB, st storage.Store, env string, rev int, title string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{store: st, json: map[string][]byte{}, jsonKey: map[string]string{}, filters: salesFilters}
	f.page = []byte("<!doctype html><title>" + title + "</title>\n" + strings.Repeat("<p>a row of the page</p>\n", 80))
	f.pageKey = put(t, st, f.page)
	f.defaultKey = stateKey(t, nil)
	f.euKey = stateKey(t, map[string]any{"region": "EU"})
	states := map[string]release.Data{}
	f.csv = []byte("day,revenue\n2024-01-01,10\n")
	f.csvKey = put(t, st, f.csv)
	for key, body := range map[string]string{
		f.defaultKey: `{"rev":` + strconv.Itoa(rev) + `,"state":"default","rows":[` + strings.Repeat(`[1,2],`, 200) + `[1,2]]}`,
		f.euKey:      `{"rev":` + strconv.Itoa(rev) + `,"state":"eu"}`,
	} {
		f.json[key] = []byte(body)
		f.jsonKey[key] = put(t, st, f.json[key])
		states[key] = release.Data{JSON: f.jsonKey[key], CSV: f.csvKey, Rows: 1, ComputedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	}
	f.euStaleAt = time.Date(2024, 1, 3, 6, 0, 0, 0, time.UTC)
	eu := states[f.euKey]
	eu.StaleAt = f.euStaleAt
	states[f.euKey] = eu
	f.euPage = "<!doctype html><title>" + title + " in the EU</title>\n"
	f.euPageKey = put(t, st, []byte(f.euPage))
	f.thumb = "\x89PNG\r\n\x1a\n a picture of " + title
	f.thumbKey = put(t, st, []byte(f.thumb))
	f.assetJS = []byte("console.log('bic');\n" + strings.Repeat("// padding so that gzip pays\n", 40))
	f.assetKey = put(t, st, f.assetJS)
	f.unnamedKey = put(t, st, []byte("not named by any release"))
	f.rel = &release.Release{
		Version: release.Version, Env: env, Revision: rev, PublishedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Charts: map[string]release.Chart{"sales/revenue": {Hash: "h", Default: f.defaultKey, States: states}},
		Dashboards: map[string]release.Dashboard{"sales": {
			Title: "Sales <script>alert(1)</script>", Description: "money & more",
			Page: f.pageKey, Charts: []string{"sales/revenue"}, Filters: salesFilters,
			StatePages: map[string]string{f.euKey: f.euPageKey},
			Thumbnail:  f.thumbKey, ThumbnailKey: "drawn-from", ThumbnailStale: true,
		}},
		Assets: map[string]string{"bic.js": f.assetKey},
	}
	blob, err := release.Write(ctx, st, f.rel)
	if err != nil {
		t.Fatal(err)
	}
	f.relKey = blob.Key
	if err := release.Flip(ctx, st, env, release.Pointer{Release: blob.Key, Revision: rev}); err != nil {
		t.Fatal(err)
	}
	return f
}

// eachStore runs test on a store in a fresh local directory and on the S3
// server under a fresh prefix of the test bucket.
func eachStore(t *testing.T, test func(t *testing.T, st storage.Store)) {
	t.Helper()
	storetest.EachStore(t, "server-test", test)
}

func fileStore(t testing.TB) storage.Store { return storetest.FileStore(t) }
