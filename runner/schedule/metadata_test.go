package schedule

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
)

// Metadata schedules the live revision of each environment, from the
// manifest the metadata DB holds; an environment whose first revision is
// not live yet is not scheduled.
func TestMetadataSchedulesLiveRevisions(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 3, 1, 8, 0, 20, 0, time.UTC)}
	st := runners(t, "sqlite", 1, clk)[0]
	fsys := fstest.MapFS{
		"bic.yaml": {Data: []byte("name: shop\nconnections:\n  pg: {type: postgres, host: db, database: shop}\n")},
		"datasets/orders.yaml": {Data: []byte(`dataset: orders
table: orders
refresh: "0 8 * * *"
dimensions:
  ordered_at: {type: time}
metrics:
  revenue: {expr: sum(amount)}
`)},
		"alerts/drop.yaml": {Data: []byte(`alert: drop
dataset: orders
metric: revenue
condition: {change: drop, percent: 20}
schedule: "* * * * *"
timezone: Europe/Berlin
notify:
  - {type: webhook, url: "${env:HOOK}"}
`)},
	}
	sch, err := compiler.NewSchema()
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.New(sch).Compile(ctx, fsys)
	if err != nil || res.Manifest == nil {
		t.Fatalf("compile: %v %v", err, res.Diagnostics)
	}
	for _, env := range []string{"prod", "staging"} {
		plan, err := publish.Plan(ctx, st, res.Manifest, env, "")
		if err != nil {
			t.Fatal(err)
		}
		req := metadata.ApplyRequest{Env: env, Plan: plan, Manifest: res.Manifest, AppliedBy: "test"}
		if env == "prod" {
			_, err = st.ApplyPublished(ctx, req, nil)
		} else {
			_, err = st.Apply(ctx, req) // pending: nothing live
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	pub := &countingQueue{}
	s := &Scheduler{Store: Metadata(st), Queue: pub, Now: clk.Now}
	if err := s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	want := "prod/alert/drop/2026-03-01T08:00:00Z prod/refresh/orders/2026-03-01T08:00:00Z"
	if got := strings.Join(pub.ids(), " "); got != want {
		t.Fatalf("published %s, want %s", got, want)
	}
	tk, ok, err := st.TickStatus(ctx, "prod", KindRefresh, "orders", time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	if err != nil || !ok || tk.Revision != 1 || tk.DryRun {
		t.Fatalf("refresh tick = %+v, %v, %v", tk, ok, err)
	}
}
