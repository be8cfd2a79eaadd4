package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/runner/servicetest"
)

// TestNATSOnDemandKeepsAnswers: against a real NATS server and a
// responder standing in for the runners, an answer is asked for once per
// release, chart and state while its data is fresh, and again once it is
// stale; an answer that is an error is not kept.
func TestNATSOnDemandKeepsAnswers(t *testing.T) {
	nc, err := nats.Connect(servicetest.NATS(t))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	subject := fmt.Sprintf("bic.test.ondemand.%d", time.Now().UnixNano())
	var asked atomic.Int64
	staleAt := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		asked.Add(1)
		var req natsRequest
		_ = json.Unmarshal(m.Data, &req)
		reply := natsReply{Data: &release.Data{JSON: "blobs/" + req.StateKey, StaleAt: staleAt}}
		if req.StateKey == "broken" {
			reply = natsReply{Error: "the warehouse said no"}
		}
		b, _ := json.Marshal(reply)
		_ = m.Respond(b)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	now := staleAt.Add(-time.Hour)
	o := &NATSOnDemand{Conn: nc, Subject: subject, Now: func() time.Time { return now }}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := Request{Env: "prod", Release: "releases/a", Revision: 1, Dashboard: "sales", Chart: "sales/revenue", StateKey: "eu"}
	steps := []struct {
		name      string
		change    func(r *Request)
		at        time.Time
		wantAsked int64
		wantErr   bool
	}{
		{"first ask", func(*Request) {}, now, 1, false},
		{"asked again while fresh", func(*Request) {}, now, 1, false},
		{"another state", func(r *Request) { r.StateKey = "us" }, now, 2, false},
		{"another release", func(r *Request) { r.Release = "releases/b" }, now, 3, false},
		{"another chart", func(r *Request) { r.Chart = "sales/orders" }, now, 4, false},
		{"once stale", func(*Request) {}, staleAt, 5, false},
		{"a failure", func(r *Request) { r.StateKey = "broken" }, staleAt.Add(-time.Minute), 6, true},
		{"the failure asked again", func(r *Request) { r.StateKey = "broken" }, staleAt.Add(-time.Minute), 7, true},
	}
	for _, s := range steps {
		now = s.at
		r := req
		s.change(&r)
		data, err := o.Compute(ctx, r)
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: error %v, want one: %v", s.name, err, s.wantErr)
		}
		if err == nil && data.JSON != "blobs/"+r.StateKey {
			t.Errorf("%s: answer %q, want the state's", s.name, data.JSON)
		}
		if got := asked.Load(); got != s.wantAsked {
			t.Errorf("%s: the runners were asked %d times, want %d", s.name, got, s.wantAsked)
		}
	}
}
