package compiler

import (
	"crypto/sha256"
	"maps"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sameVerdict fails unless got, a check-only result, reports what want,
// a full compile without a cache, reports: the diagnostics and counts.
func sameVerdict(t *testing.T, name string, want, got Result) {
	t.Helper()
	if diff := cmp.Diff(want.Diagnostics, got.Diagnostics); diff != "" {
		t.Errorf("%s: diagnostics differ (-full +check-only):\n%s", name, diff)
	}
	if want.Counts != got.Counts {
		t.Errorf("%s: counts %+v, want %+v", name, got.Counts, want.Counts)
	}
	if got.Manifest != nil {
		t.Errorf("%s: a check-only compile returned a manifest", name)
	}
}

// TestCheckOnlySameVerdicts: for every fixture, example and fuzz input, a
// check-only compile (no cache, filling one, reading one that a full
// compile filled, and warm) reports what a full compile reports. Then
// every file in turn is removed and the project compiled again from the
// warm cache: a verdict must not outlive what it depended on.
func TestCheckOnlySameVerdicts(t *testing.T) {
	c := newTestCompiler(t)
	reusedProjects := 0
	for name, fsys := range differentialProjects(t) {
		want := mustCompile(t, c, fsys)
		if m := want.Manifest; m != nil {
			if n := (Counts{len(m.Datasets), len(m.Dashboards), len(m.Charts), len(m.Alerts), len(m.Reports)}); n != want.Counts {
				t.Errorf("%s: counts %+v, the manifest holds %+v", name, want.Counts, n)
			}
		}
		sameVerdict(t, name+" (no cache)", want, mustCompile(t, c.CheckOnly(), fsys))
		cache := newMemCache()
		sameVerdict(t, name+" (filling)", want, mustCompile(t, c.WithCache(cache).CheckOnly(), fsys))
		warm := mustCompile(t, c.WithCache(cache).CheckOnly(), fsys)
		sameVerdict(t, name+" (warm)", want, warm)
		if warm.Stats.Reused > 0 {
			reusedProjects++
		}
		full := newMemCache()
		mustCompile(t, c.WithCache(full), fsys)
		sameVerdict(t, name+" (after a full compile)", want, mustCompile(t, c.WithCache(full).CheckOnly(), fsys))

		mfs, ok := fsys.(fstest.MapFS)
		if !ok || len(mfs) > 12 {
			continue
		}
		for file := range mfs {
			cut := maps.Clone(mfs)
			delete(cut, file)
			sameVerdict(t, name+" without "+file, mustCompile(t, c, cut), mustCompile(t, c.WithCache(cache).CheckOnly(), cut))
		}
	}
	// Most fixtures are one broken dashboard, or one an alert names.
	if reusedProjects < 5 {
		t.Errorf("only %d projects reused a verdict", reusedProjects)
	}
}

// TestCheckOnlyEdits: edits to examples/shop after a warm compile. Each
// check-only compile from the warm cache reports what a full compile
// without one does, and resolves again what the edit can change; so does
// a full compile from a warm cache, hashes and all.
func TestCheckOnlyEdits(t *testing.T) {
	c := newTestCompiler(t)
	base := memProject(t, "../examples/shop")
	edit := func(file, from, to string) func(fstest.MapFS) {
		return func(p fstest.MapFS) {
			f := *p[file]
			if !strings.Contains(string(f.Data), from) {
				t.Fatalf("%s has no %q", file, from)
			}
			f.Data = []byte(strings.Replace(string(f.Data), from, to, 1))
			p[file] = &f
		}
	}
	add := func(file, text string) func(fstest.MapFS) {
		return func(p fstest.MapFS) { p[file] = &fstest.MapFile{Data: []byte(text)} }
	}
	tests := []struct {
		name   string
		change func(fstest.MapFS)
		want   string // in the diagnostics; "" for none
		reused int    // dashboards reused, at most
	}{
		{"nothing", func(fstest.MapFS) {}, "", 2},
		{"a comment in one dashboard", edit("dashboards/customers.yaml", "dashboard:", "# edited\ndashboard:"), "", 1},
		{"a typo in one dashboard", edit("dashboards/customers.yaml", "metrics: [customers]", "metrics: [customer]"), `no metric "customer"`, 1},
		{"a metric an unchanged dashboard uses renamed", edit("datasets/customers.yaml", "  customers: {expr: count(*)", "  people: {expr: count(*)"), `no metric "customers"`, 1},
		{"the description of a dataset one dashboard reads", edit("datasets/customers.yaml", "description: ", "description: Edited. "), "", 1},
		{"the project's time zone", edit("bic.yaml", "timezone: Europe/Berlin", "timezone: Europe/Paris"), "", 0},
		{"a report of an unchanged dashboard, misspelt", add("reports/customers.yaml", "report: customers_weekly\ndashboard: customer\nschedule: \"0 8 * * 1\"\nnotify: [{type: email, to: [a@example.com]}]\n"), `did you mean "customers"`, 2},
		{"a report of an unchanged dashboard's filter", add("reports/customers.yaml", "report: customers_weekly\ndashboard: customers\nfilters: {nope: x}\nschedule: \"0 8 * * 1\"\nnotify: [{type: email, to: [a@example.com]}]\n"), `has no filter "nope"`, 1},
		{"an alert's picture of an unchanged dashboard's missing chart", add("alerts/customers.yaml", "alert: few_customers\ndataset: customers\nmetric: customers\nperiod: day\ncondition: {op: \"<\", value: 3}\nschedule: \"0 8 * * *\"\nimage: marketing/nope\nnotify: [{type: email, to: [a@example.com]}]\n"), `dashboard "marketing" has no chart "nope"`, 1},
		{"a second definition of an unchanged dashboard, earlier in the path order", func(p fstest.MapFS) { p["dashboards/a.yaml"] = p["dashboards/customers.yaml"] }, `duplicate dashboard name "customers"`, 2},
		{"an unchanged dashboard's file removed", func(p fstest.MapFS) { delete(p, "dashboards/marketing.yaml") }, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache, full := newMemCache(), newMemCache()
			mustCompile(t, c.WithCache(cache).CheckOnly(), base)
			mustCompile(t, c.WithCache(full), base)
			p := maps.Clone(base)
			tt.change(p)
			want := mustCompile(t, c, p)
			// A full compile takes the hashes of what the edit cannot change.
			sameResult(t, tt.name+" (full)", want, mustCompile(t, c.WithCache(full), p))
			got := mustCompile(t, c.WithCache(cache).CheckOnly(), p)
			sameVerdict(t, tt.name, want, got)
			if msg := diagText(got.Diagnostics); tt.want == "" && len(got.Diagnostics) > 0 || tt.want != "" && !strings.Contains(msg, tt.want) {
				t.Errorf("diagnostics %q, want %q", msg, tt.want)
			}
			if got.Stats.Reused > tt.reused {
				t.Errorf("%d dashboards reused, at most %d may be", got.Stats.Reused, tt.reused)
			}
			// The edited project's verdicts are kept in turn.
			again := mustCompile(t, c.WithCache(cache).CheckOnly(), p)
			sameVerdict(t, tt.name+" (again)", want, again)
		})
	}
	// In the shop, alerts and a report name the sales dashboard, so it is
	// resolved every time; the other two are reused once warm.
	cache := newMemCache()
	mustCompile(t, c.WithCache(cache).CheckOnly(), base)
	if got := mustCompile(t, c.WithCache(cache).CheckOnly(), base); got.Stats.Reused != 2 {
		t.Errorf("%d dashboards reused on a warm compile of the shop, want 2", got.Stats.Reused)
	}
}

// TestCheckOnlyDistrust: a damaged pack of verdicts is not used (one of
// another context is never read: see "the project's time zone" in
// TestCheckOnlyEdits).
func TestCheckOnlyDistrust(t *testing.T) {
	c := newTestCompiler(t)
	fsys := memProject(t, "../examples/shop")
	want := mustCompile(t, c, fsys)
	cache := newMemCache()
	mustCompile(t, c.WithCache(cache).CheckOnly(), fsys)
	packs := 0
	for k, v := range cache.m {
		if strings.HasPrefix(string(v), string(hashesMagic)) {
			packs++
			b := clone(v)
			b[len(b)/2] ^= 0x10
			cache.m[k] = b
		}
	}
	if packs != 1 {
		t.Fatalf("%d packs of verdicts, want 1", packs)
	}
	got := mustCompile(t, c.WithCache(cache).CheckOnly(), fsys)
	sameVerdict(t, "damaged pack", want, got)
	if got.Stats.Reused != 0 {
		t.Errorf("%d dashboards reused from a damaged pack", got.Stats.Reused)
	}
}

// TestLazyTrees: an entry whose trees do not decode whole (as a forger
// with the checksum could write) is a file parsed again from its text, and
// compiles as it would without the cache, checking only or in full.
func TestLazyTrees(t *testing.T) {
	c := newTestCompiler(t)
	fsys := memProject(t, "../examples/shop")
	want := mustCompile(t, c, fsys)
	for _, file := range []string{"dashboards/sales.yaml", "dashboards/customers.yaml", "datasets/orders.yaml"} {
		cache := newMemCache()
		mustCompile(t, c.WithCache(cache), fsys)
		src := fsys[file].Data
		key := fileKey(c.schema.digest, file, src)
		e, err := decodeEntry(key, file, cache.m[key], src, time.Second)
		if err != nil || e.lazy == nil {
			t.Fatalf("%s: entry: %v, lazy %v", file, err, e != nil && e.lazy != nil)
		}
		// The first tree's root of no kind, and the checksum made again.
		forged := clone(cache.m[key][:len(cache.m[key])-sha256.Size])
		forged[e.lazy.r.pos] = 0x7f
		sum := sha256.Sum256(forged)
		forged = append(forged, sum[:]...)
		cache.m[key] = forged
		if e, err := decodeEntry(key, file, forged, src, time.Second); err != nil || e.lazy == nil {
			t.Fatalf("%s: the forged entry does not decode lazily: %v", file, err)
		}
		sameResult(t, file+" (full)", want, mustCompile(t, c.WithCache(cache), fsys))
		sameVerdict(t, file+" (check-only)", want, mustCompile(t, c.WithCache(cache).CheckOnly(), fsys))
	}
}

func diagText(ds Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Message + "\n")
	}
	return b.String()
}
