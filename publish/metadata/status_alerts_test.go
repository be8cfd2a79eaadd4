package metadata_test

import (
	"context"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/metadata"
)

// TestStatusShowsAlertsAndFailedDeliveries: an environment's status holds
// its alerts' states (a preview's marked dry run) and the notifications
// that failed, only its own.
func TestStatusShowsAlertsAndFailedDeliveries(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			addEnv(t, st, "prod", "persistent")
			addEnv(t, st, "pr_1", "preview")
			tick := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			for _, e := range []struct {
				env string
				dry bool
			}{{"prod", false}, {"pr_1", true}} {
				if _, err := st.RecordEvaluation(ctx, e.env, "drop", metadata.Evaluation{At: tick, Tick: tick, State: "firing", Value: fp(5), Notify: true, DryRun: e.dry}); err != nil {
					t.Fatal(err)
				}
			}
			for _, key := range []string{"prod/alert/drop/2026-12-01T09:00:00Z/firing", "prodx/alert/drop/2026-12-01T09:00:00Z/firing", "pr-1/alert/drop/t/firing"} {
				if _, err := st.BeginDelivery(ctx, key, "webhook:example.com:1"); err != nil {
					t.Fatal(err)
				}
				if err := st.FinishDelivery(ctx, key, "webhook:example.com:1", metadata.DeliveryFailed, 5, "503 Service Unavailable"); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := st.Status(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]metadata.EnvironmentStatus{}
			for _, e := range rep.Environments {
				got[e.Env] = e
			}
			prod, pr := got["prod"], got["pr_1"]
			if len(prod.Alerts) != 1 || prod.Alerts[0].State != "firing" || prod.Alerts[0].DryRun || *prod.Alerts[0].Value != 5 {
				t.Errorf("prod's alerts %+v, want drop firing at 5", prod.Alerts)
			}
			if len(pr.Alerts) != 1 || !pr.Alerts[0].DryRun {
				t.Errorf("the preview's alerts %+v, want drop in dry run", pr.Alerts)
			}
			if len(prod.FailedDeliveries) != 1 || prod.FailedDeliveries[0].Attempts != 5 || prod.FailedDeliveries[0].Error != "503 Service Unavailable" {
				t.Errorf("prod's failed deliveries %+v, want its one", prod.FailedDeliveries)
			}
			if len(pr.FailedDeliveries) != 0 {
				t.Errorf("pr_1 shows another environment's deliveries: %+v", pr.FailedDeliveries)
			}
		})
	}
}
