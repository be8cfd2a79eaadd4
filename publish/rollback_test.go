package publish_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
)

// shop is a small project; title is its dashboard's title, so that each
// title is another revision.
func shop(t *testing.T, title string) *compiler.Manifest {
	t.Helper()
	fsys := fstest.MapFS{
		"bic.yaml": {Data: []byte(`name: shop
connections:
  wh: {type: duckdb, files: {orders: orders.csv}}
defaults: {connection: wh, timezone: UTC}
`)},
		"orders.csv": {Data: []byte("country\nDE\n")},
		"datasets/orders.yaml": {Data: []byte(`dataset: orders
table: orders
dimensions:
  country: {type: string}
metrics:
  orders: {expr: count(*)}
`)},
		"dashboards/sales.yaml": {Data: []byte(`dashboard: sales
title: ` + title + `
charts:
  - {name: by_country, type: bar, dataset: orders, metrics: [orders], x: country}
`)},
	}
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

func openStore(t *testing.T) *metadata.Store {
	t.Helper()
	st, err := metadata.Open(context.Background(), "sqlite://meta.db", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func applyManifest(t *testing.T, st *metadata.Store, m *compiler.Manifest) metadata.Revision {
	t.Helper()
	ctx := context.Background()
	p, err := publish.Plan(ctx, st, m, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m, AppliedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// TestApplyRollbackAppliesTheConfirmedPlan: bic rollback shows a plan and
// asks; what it applies is that plan, so an environment that moved in
// between is refused as stale instead of rolled back by a plan nobody saw.
func TestApplyRollbackAppliesTheConfirmedPlan(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	m1 := shop(t, "Sales")
	applyManifest(t, st, m1)
	applyManifest(t, st, shop(t, "Sales 2"))

	m, p, err := publish.PlanRollback(ctx, st, "prod", 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.BaseRevision != 2 || !p.HasChanges() || m.Hash != m1.Hash {
		t.Fatalf("rollback plan: base %d, changes %d, manifest %s", p.BaseRevision, len(p.Changes), m.Hash)
	}
	// While the user reads the plan, someone applies revision 3.
	applyManifest(t, st, shop(t, "Sales 3"))
	if _, err := publish.ApplyRollback(ctx, st, m, p, 1, "test"); !errors.Is(err, metadata.ErrStale) {
		t.Fatalf("rollback confirmed against revision 2, applied at 3: err = %v, want ErrStale", err)
	}
	hist, err := st.History(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 {
		t.Fatalf("a refused rollback wrote a revision: %d revisions", len(hist))
	}

	// Planned again, it applies.
	m, p, err = publish.PlanRollback(ctx, st, "prod", 1)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := publish.ApplyRollback(ctx, st, m, p, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	if rev.Number != 4 || rev.Source != "rollback" || rev.RollbackOf != 1 || rev.ManifestHash != m1.Hash {
		t.Errorf("rollback revision = %+v", rev)
	}
}

// TestWritesRevisionDecidesNoChanges: one function decides whether
// applying a plan writes a revision; the plan's publish job, the store and
// a rollback to the current definitions all follow it.
func TestWritesRevisionDecidesNoChanges(t *testing.T) {
	for _, c := range []struct {
		name string
		plan compiler.Plan
		want bool
	}{
		{"changes", compiler.Plan{BaseRevision: 3, Changes: []compiler.Change{{ID: "dashboard/sales", Action: compiler.ActionUpdate}}}, true},
		{"first revision without changes", compiler.Plan{BaseRevision: 0}, true},
		{"no changes", compiler.Plan{BaseRevision: 3}, false},
	} {
		if got := c.plan.WritesRevision(); got != c.want {
			t.Errorf("%s: WritesRevision = %v, want %v", c.name, got, c.want)
		}
	}

	ctx := context.Background()
	st := openStore(t)
	m := shop(t, "Sales")
	first, err := publish.Plan(ctx, st, m, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	if !first.WritesRevision() || !hasPublishJob(first) {
		t.Fatalf("first plan: writes %v, publish job %v", first.WritesRevision(), hasPublishJob(first))
	}
	applyManifest(t, st, m)
	same, err := publish.Plan(ctx, st, m, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	if same.WritesRevision() || hasPublishJob(same) {
		t.Errorf("unchanged plan: writes %v, publish job %v", same.WritesRevision(), hasPublishJob(same))
	}
	if _, err := st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: same, Manifest: m}); !errors.Is(err, metadata.ErrNoChanges) {
		t.Errorf("store applied an unchanged plan: err = %v", err)
	}
	rm, rp, err := publish.PlanRollback(ctx, st, "prod", 1)
	if err != nil {
		t.Fatal(err)
	}
	if rp.WritesRevision() {
		t.Error("a rollback to the current definitions writes a revision")
	}
	if _, err := publish.ApplyRollback(ctx, st, rm, rp, 1, "test"); !errors.Is(err, metadata.ErrNoChanges) {
		t.Errorf("rollback to the current definitions: err = %v", err)
	}
}

func hasPublishJob(p *compiler.Plan) bool {
	for _, j := range p.Jobs {
		if j.Kind == compiler.JobPublish {
			return true
		}
	}
	return false
}
