package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestServe: the server answers /metrics with the runner's metrics and
// /healthz with ok, and returns nil once its context ends.
func TestServe(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.JobFinished("chart_data", OutcomeDone, Phases{Total: time.Second})
	m.CacheLookup(true)
	m.WarehouseQuery("shop")
	m.QueueDepth(func() float64 { return 2 })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, reg, nil) }()
	base := "http://" + ln.Addr().String()

	cases := []struct {
		name, path string
		status     int
		want       []string
	}{
		{"metrics", "/metrics", http.StatusOK, []string{
			`bic_jobs_total{kind="chart_data",outcome="done"} 1`,
			`bic_job_phase_seconds_count{kind="chart_data",phase="total"} 1`,
			`bic_cache_lookups_total{result="hit"} 1`,
			`bic_warehouse_queries_total{connection="shop"} 1`,
			`bic_queue_depth 2`,
			`bic_jobs_in_flight 0`,
		}},
		{"healthz", "/healthz", http.StatusOK, []string{"ok"}},
		{"other paths", "/", http.StatusNotFound, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Get(base + c.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("GET %s: %s, want %d", c.path, resp.Status, c.status)
			}
			for _, w := range c.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("GET %s lacks %q:\n%s", c.path, w, body)
				}
			}
		})
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop after its context ended")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

// TestServeAddr: Serve says so when it cannot listen, and returns nil
// when its context ends.
func TestServeAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Serve(context.Background(), ln.Addr().String(), prometheus.NewRegistry(), nil)
	if err == nil || !strings.Contains(err.Error(), "metrics: listen on "+ln.Addr().String()) {
		t.Errorf("Serve on a port in use: %v", err)
	}

	// Already canceled: it listens, then shuts down at once, cleanly.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Serve(ctx, "127.0.0.1:0", prometheus.NewRegistry(), nil); err != nil {
		t.Errorf("Serve with a canceled context: %v, want nil", err)
	}
}
