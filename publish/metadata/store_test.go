package metadata_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/runner/servicetest"
)

// stores opens a fresh metadata database of each kind: SQLite in a
// temporary folder, and a new schema of the real PostgreSQL. SQLite needs
// no server and always runs; without BIC_TEST_POSTGRES_URL the PostgreSQL
// half is a subtest that skips saying how to run it (and fails under
// CI=true), instead of skipping SQLite with it.
func stores(t *testing.T) map[string]*metadata.Store {
	t.Helper()
	out := sqliteStores(t)
	if os.Getenv("BIC_TEST_POSTGRES_URL") == "" {
		// Skips locally, fails under CI=true; SQLite runs either way.
		t.Run("postgres", func(t *testing.T) { servicetest.Postgres(t) })
		return out
	}
	ctx := context.Background()
	url, schema, admin := pgSchemaURL(t)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	pg, err := metadata.Open(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	out["postgres"] = pg
	return out
}

// sqliteStores is the part of stores that needs no server.
func sqliteStores(t *testing.T) map[string]*metadata.Store {
	t.Helper()
	lite, err := metadata.Open(context.Background(), "sqlite://meta.db", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	return map[string]*metadata.Store{"sqlite": lite}
}

// project is a small valid project; revenue is the revenue metric's expression.
func project(revenue string, extra map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{
		"bic.yaml": {Data: []byte(`name: shop
connections:
  pg:
    type: postgres
    host: db.internal
    database: shop
    user: bic
    password: ${env:BIC_TEST_SECRET_PASSWORD}
defaults: {connection: pg, timezone: Europe/Berlin}
`)},
		"datasets/orders.yaml": {Data: []byte(`dataset: orders
table: orders
dimensions:
  ordered_at: {type: time}
  country: {type: string}
metrics:
  revenue: {expr: "` + revenue + `"}
  orders: {expr: count(*)}
`)},
		"datasets/sessions.yaml": {Data: []byte(`dataset: sessions
table: sessions
dimensions:
  started_at: {type: time}
  device: {type: string}
metrics:
  sessions: {expr: count(*)}
`)},
		"dashboards/sales.yaml": {Data: []byte(`dashboard: sales
title: Sales
charts:
  - {name: revenue, type: big_number, dataset: orders, metrics: [revenue]}
  - {name: by_country, type: bar, dataset: orders, metrics: [orders], x: country}
  - {name: devices, type: pie, dataset: sessions, metrics: [sessions], dimensions: [device]}
`)},
		"dashboards/traffic.yaml": {Data: []byte(`dashboard: traffic
title: Traffic
charts:
  - {name: sessions, type: line, dataset: sessions, metrics: [sessions], x: started_at}
`)},
		"alerts/drop.yaml": {Data: []byte(`alert: drop
dataset: orders
metric: revenue
condition: {change: drop, percent: 20}
schedule: "0 8 * * *"
notify:
  - {type: slack, webhook_url: "${env:BIC_TEST_SECRET_SLACK}"}
`)},
	}
	for name, data := range extra {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func compile(t *testing.T, fsys fstest.MapFS) *compiler.Manifest {
	t.Helper()
	s, err := compiler.NewSchema()
	if err != nil {
		t.Fatal(err)
	}
	res, _ := compiler.New(s).Compile(context.Background(), fsys)
	if res.Manifest == nil {
		t.Fatalf("project does not compile: %v", res.Diagnostics)
	}
	return res.Manifest
}

func apply(t *testing.T, st *metadata.Store, m *compiler.Manifest, env string) (metadata.Revision, *compiler.Plan) {
	t.Helper()
	p, err := publish.Plan(context.Background(), st, m, env, "")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := st.Apply(context.Background(), metadata.ApplyRequest{Env: env, Plan: p, Manifest: m, AppliedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return rev, p
}

func changeIDs(p *compiler.Plan) map[compiler.Action][]string {
	out := map[compiler.Action][]string{}
	for _, c := range p.Changes {
		out[c.Action] = append(out[c.Action], c.ID)
	}
	return out
}

func jobKinds(p *compiler.Plan) []string {
	var out []string
	for _, j := range p.Jobs {
		out = append(out, string(j.Kind)+" "+j.ObjectID)
	}
	return out
}

func TestMigrations(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			v, err := st.Version(ctx)
			if err != nil || v != metadata.LatestVersion(st) || v < 1 {
				t.Fatalf("version after Open = %d, %v; want %d", v, err, metadata.LatestVersion(st))
			}
			if n, err := st.Migrate(ctx); err != nil || n != 0 {
				t.Fatalf("re-running migrations applied %d, %v; want 0", n, err)
			}
			if _, err := st.DB().ExecContext(ctx, "INSERT INTO bic_schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 'x')"); err != nil {
				t.Fatal(err)
			}
			_, err = st.Migrate(ctx)
			if !errors.Is(err, metadata.ErrSchemaTooNew) || !strings.Contains(err.Error(), fmt.Sprintf("schema version 999, this bic knows up to %d; upgrade bic", metadata.LatestVersion(st))) {
				t.Fatalf("newer schema: err = %v", err)
			}
		})
	}
}

func TestPlanApplyHistory(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			m1 := compile(t, project("sum(amount)", nil))
			rev1, p1 := apply(t, st, m1, "prod")
			if rev1.Number != 1 || len(changeIDs(p1)[compiler.ActionCreate]) != len(m1.Objects()) {
				t.Fatalf("first apply: revision %d, plan %v", rev1.Number, changeIDs(p1))
			}

			// The same project again: nothing to apply, nothing written.
			p, err := publish.Plan(ctx, st, m1, "prod", "")
			if err != nil || p.HasChanges() || len(p.Jobs) != 0 {
				t.Fatalf("no-op plan = %v, %v", changeIDs(p), err)
			}
			if _, err := st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m1}); !errors.Is(err, metadata.ErrNoChanges) {
				t.Fatalf("no-op apply: err = %v, want ErrNoChanges", err)
			}

			// A changed dataset changes exactly what depends on it.
			m2 := compile(t, project("sum(amount - discount)", nil))
			rev2, p2 := apply(t, st, m2, "prod")
			want := map[compiler.Action][]string{compiler.ActionUpdate: {
				"alert/drop", "chart/sales/by_country", "chart/sales/revenue", "dashboard/sales", "dataset/orders",
			}}
			if diff := cmp.Diff(want, changeIDs(p2)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			wantJobs := []string{"chart_data chart/sales/revenue", "chart_data chart/sales/by_country", "thumbnail dashboard/sales", "schedule alert/drop", "publish environment/prod"}
			if diff := cmp.Diff(wantJobs, jobKinds(p2)); diff != "" {
				t.Errorf("jobs (-want +got):\n%s", diff)
			}
			for _, c := range p2.Changes {
				if c.ID == "dataset/orders" {
					if len(c.Fields) != 1 || c.Fields[0].Path != "metrics.revenue.expr" || c.Fields[0].Old != "sum(amount)" || c.Fields[0].New != "sum(amount - discount)" {
						t.Errorf("dataset diff = %+v", c.Fields)
					}
				} else if len(c.Because) == 0 {
					t.Errorf("%s changed without a reason: %+v", c.ID, c)
				}
			}
			jobs, err := st.Jobs(ctx, "prod", 2)
			if err != nil || len(jobs) != len(wantJobs) {
				t.Fatalf("stored jobs = %d, %v", len(jobs), err)
			}

			hist, err := st.History(ctx, "prod")
			if err != nil {
				t.Fatal(err)
			}
			if len(hist) != 2 || hist[0].Number != 2 || !hist[0].Current || hist[1].Current || hist[0].ManifestHash != m2.Hash || hist[0].AppliedBy != "test" {
				t.Fatalf("history = %+v", hist)
			}
			if rev2.Objects != len(m2.Objects()) {
				t.Errorf("revision holds %d objects, want %d", rev2.Objects, len(m2.Objects()))
			}
		})
	}
}

func TestStalePlanIsRefused(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			ma := compile(t, project("sum(amount) * 2", nil))
			mb := compile(t, project("sum(amount) * 3", nil))
			pa, _ := publish.Plan(ctx, st, ma, "prod", "")
			pb, _ := publish.Plan(ctx, st, mb, "prod", "")
			if _, err := st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: pa, Manifest: ma}); err != nil {
				t.Fatal(err)
			}
			_, err := st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: pb, Manifest: mb})
			if !errors.Is(err, metadata.ErrStale) || !strings.Contains(err.Error(), "prod is at revision 2, but this plan was made against revision 1; run bic plan again") {
				t.Fatalf("stale apply: err = %v", err)
			}
		})
	}
}

// Two applies to one environment at once, both planned against revision
// 1: exactly one wins and the other fails cleanly.
func TestConcurrentApplies(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			for round := range 3 {
				var ms []*compiler.Manifest
				var ps []*compiler.Plan
				for i := range 2 {
					m := compile(t, project(fmt.Sprintf("sum(amount) * %d", 10*round+i+2), nil))
					p, err := publish.Plan(ctx, st, m, "prod", "")
					if err != nil {
						t.Fatal(err)
					}
					ms, ps = append(ms, m), append(ps, p)
				}
				errs := make([]error, 2)
				var wg sync.WaitGroup
				for i := range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: ps[i], Manifest: ms[i]})
					}()
				}
				wg.Wait()
				won := 0
				for _, err := range errs {
					switch {
					case err == nil:
						won++
					case !errors.Is(err, metadata.ErrStale):
						t.Errorf("the losing apply failed with %v, want ErrStale", err)
					}
				}
				if won != 1 {
					t.Fatalf("round %d: %d applies won (errors %v), want exactly 1", round, won, errs)
				}
				hist, _ := st.History(ctx, "prod")
				if hist[0].Number != round+2 {
					t.Fatalf("round %d: current revision %d, want %d", round, hist[0].Number, round+2)
				}
			}
		})
	}
}

// An apply killed halfway leaves no partial revision and the previous one current.
func TestCancelledApplyLeavesNothing(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			m1 := compile(t, project("sum(amount)", nil))
			apply(t, st, m1, "prod")
			m2 := compile(t, project("sum(amount - discount)", nil))
			p, err := publish.Plan(ctx, st, m2, "prod", "")
			if err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			metadata.SetAfterObjects(st, cancel)
			_, err = st.Apply(cctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m2})
			metadata.SetAfterObjects(st, nil)
			if err == nil {
				t.Fatal("an apply cancelled halfway succeeded")
			}
			hist, err := st.History(ctx, "prod")
			if err != nil {
				t.Fatal(err)
			}
			if len(hist) != 1 || !hist[0].Current || hist[0].ManifestHash != m1.Hash {
				t.Fatalf("history after a cancelled apply = %+v", hist)
			}
			for _, table := range []string{"revisions", "jobs", "revision_objects"} {
				var n int
				st.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE "+map[string]string{"revisions": "number = 2", "jobs": "revision_id NOT IN (SELECT id FROM revisions WHERE number = 1)", "revision_objects": "revision_id NOT IN (SELECT id FROM revisions)"}[table]).Scan(&n)
				if n != 0 {
					t.Errorf("%s holds %d rows of the cancelled apply", table, n)
				}
			}
			// The same plan still applies afterwards.
			if _, err := st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m2}); err != nil {
				t.Fatalf("apply after the cancelled one: %v", err)
			}
		})
	}
}

// rollback plans and applies a rollback at once, with nothing to confirm
// in between.
func rollback(ctx context.Context, st *metadata.Store, env string, to int, actor string) (metadata.Revision, *compiler.Plan, error) {
	m, p, err := publish.PlanRollback(ctx, st, env, to)
	if err != nil {
		return metadata.Revision{}, nil, err
	}
	rev, err := publish.ApplyRollback(ctx, st, m, p, to, actor)
	return rev, p, err
}

func TestRollback(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			m1 := compile(t, project("sum(amount)", nil))
			apply(t, st, m1, "prod")
			apply(t, st, compile(t, project("sum(amount - discount)", nil)), "prod")
			rev, p, err := rollback(ctx, st, "prod", 1, "test")
			if err != nil {
				t.Fatal(err)
			}
			if rev.Number != 3 || rev.Source != "rollback" || rev.RollbackOf != 1 || rev.ManifestHash != m1.Hash {
				t.Fatalf("rollback revision = %+v", rev)
			}
			if len(p.Changes) != 5 {
				t.Errorf("rollback changed %d objects, want the 5 that revision 2 changed", len(p.Changes))
			}
			snap, _ := st.Snapshot(ctx, "prod")
			for _, o := range m1.Objects() {
				if snap.Objects[o.ID].Hash != o.Hash {
					t.Errorf("%s after rollback: %s, want %s", o.ID, snap.Objects[o.ID].Hash, o.Hash)
				}
			}
			if _, _, err := rollback(ctx, st, "prod", 9, "test"); !errors.Is(err, metadata.ErrNoRevision) {
				t.Errorf("rollback to a missing revision: err = %v", err)
			}
			if _, _, err := rollback(ctx, st, "prod", 3, "test"); !errors.Is(err, metadata.ErrNoChanges) {
				t.Errorf("rollback to the current revision: err = %v", err)
			}
		})
	}
}

func TestPreviewTTLAndDestroy(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clock := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			st.SetClock(func() time.Time { return clock })
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")

			// A preview computes only what differs from its base.
			m := compile(t, project("sum(amount)", map[string]string{"dashboards/new.yaml": "dashboard: new\ntitle: New\ncharts:\n  - {name: n, type: big_number, dataset: orders, metrics: [orders]}\n"}))
			p, err := publish.Plan(ctx, st, m, "pr-42", "prod")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"chart_data chart/new/n", "thumbnail dashboard/new", "publish environment/pr-42"}, jobKinds(p)); diff != "" {
				t.Errorf("preview jobs (-want +got):\n%s", diff)
			}
			rev, err := st.Apply(ctx, metadata.ApplyRequest{Env: "pr-42", Plan: p, Manifest: m, Source: "preview", Preview: &metadata.PreviewOptions{Base: "prod", TTL: 7 * 24 * time.Hour}})
			if err != nil || rev.Number != 1 {
				t.Fatalf("preview apply = %+v, %v", rev, err)
			}
			env, _ := st.Environment(ctx, "pr-42")
			if env.Kind != "preview" || env.Base != "prod" || !env.ExpiresAt.Equal(clock.Add(7*24*time.Hour)) {
				t.Fatalf("preview environment = %+v", env)
			}
			// An unchanged preview of prod still gets its first revision,
			// and that revision has its publish job, though nothing else.
			same := compile(t, project("sum(amount)", nil))
			ps, _ := publish.Plan(ctx, st, same, "pr-7", "prod")
			if diff := cmp.Diff([]string{"publish environment/pr-7"}, jobKinds(ps)); diff != "" {
				t.Errorf("unchanged preview jobs (-want +got):\n%s", diff)
			}
			if rev, err := st.Apply(ctx, metadata.ApplyRequest{Env: "pr-7", Plan: ps, Manifest: same, Preview: &metadata.PreviewOptions{Base: "prod", TTL: 30 * 24 * time.Hour}}); err != nil || rev.Jobs != 1 {
				t.Fatalf("unchanged preview: %d jobs stored, %v", rev.Jobs, err)
			}

			// A preview run without changes renews it: a day later it lives another 30 days.
			clock = clock.Add(24 * time.Hour)
			if err := st.RenewPreview(ctx, "pr-7", 30*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			if env, _ := st.Environment(ctx, "pr-7"); !env.ExpiresAt.Equal(clock.Add(30 * 24 * time.Hour)) {
				t.Errorf("renewed preview expires at %v", env.ExpiresAt)
			}
			if err := st.RenewPreview(ctx, "prod", time.Hour); !errors.Is(err, metadata.ErrNoEnvironment) {
				t.Errorf("renewing prod as a preview: %v", err)
			}

			clock = clock.Add(7 * 24 * time.Hour)
			removed, _, err := st.GC(ctx, "test")
			if err != nil || len(removed) != 1 || removed[0] != "pr-42" {
				t.Fatalf("gc removed %v, %v; want [pr-42]", removed, err)
			}
			if _, err := st.Environment(ctx, "pr-42"); !errors.Is(err, metadata.ErrNoEnvironment) {
				t.Errorf("pr-42 after gc: %v", err)
			}
			if _, err := st.Environment(ctx, "prod"); err != nil {
				t.Errorf("prod after gc: %v", err)
			}

			if err := st.Destroy(ctx, "prod", "test", false); err == nil || !strings.Contains(err.Error(), "pass --force") {
				t.Errorf("destroying prod without force: %v", err)
			}
			if err := st.Destroy(ctx, "pr-7", "test", false); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Environment(ctx, "pr-7"); !errors.Is(err, metadata.ErrNoEnvironment) {
				t.Errorf("pr-7 after destroy: %v", err)
			}
			if err := st.Destroy(ctx, "pr-7", "test", false); !errors.Is(err, metadata.ErrNoEnvironment) {
				t.Errorf("destroying a missing environment: %v", err)
			}
		})
	}
}

// Secrets set in the environment never reach the metadata database: every
// text value of every table is searched after an apply.
func TestSecretsAreNotStored(t *testing.T) {
	const password, slack = "pw-0f9e8d7c-secret", "https://hooks.slack.com/services/T000/B000/XyZsecret"
	t.Setenv("BIC_TEST_SECRET_PASSWORD", password)
	t.Setenv("BIC_TEST_SECRET_SLACK", slack)
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			apply(t, st, compile(t, project("sum(amount)", nil)), "prod")
			refs := 0
			for _, table := range []string{"environments", "revisions", "objects", "revision_objects", "jobs", "audit_log"} {
				rows, err := st.DB().QueryContext(ctx, "SELECT * FROM "+table)
				if err != nil {
					t.Fatal(err)
				}
				cols, _ := rows.Columns()
				for rows.Next() {
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					if err := rows.Scan(ptrs...); err != nil {
						t.Fatal(err)
					}
					for _, v := range vals {
						s := fmt.Sprint(v)
						if b, ok := v.([]byte); ok {
							s = string(b)
						}
						if strings.Contains(s, password) || strings.Contains(s, "XyZsecret") {
							t.Errorf("table %s holds a secret's value", table)
						}
						refs += strings.Count(s, "${env:BIC_TEST_SECRET_PASSWORD}")
					}
				}
				rows.Close()
			}
			if refs == 0 {
				t.Error("the secret reference itself was not stored: the search looked in the wrong place")
			}
			if name == "sqlite" {
				st.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
				files, _ := filepath.Glob(filepath.Join(filepath.Dir(dbPath(t, st)), "meta.db*"))
				for _, f := range files {
					b, _ := os.ReadFile(f)
					if bytes.Contains(b, []byte(password)) || bytes.Contains(b, []byte("XyZsecret")) {
						t.Errorf("%s holds a secret's value", f)
					}
				}
				if len(files) == 0 {
					t.Error("no SQLite files found to search")
				}
			}
		})
	}
}

func dbPath(t *testing.T, st *metadata.Store) string {
	var seq int
	var name, file string
	if err := st.DB().QueryRow("PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return file
}
