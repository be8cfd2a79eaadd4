package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bic-dev/bic/publish/release"
)

// OnDemandRequest asks the runners for a chart's data in a filter state
// that its release did not precompute. The server sends it as a NATS
// request; its JSON is the contract between the two.
type OnDemandRequest struct {
	Env      string         `json:"env"`
	Revision int            `json:"revision"`
	Chart    string         `json:"chart"` // DASHBOARD/CHART
	State    map[string]any `json:"state"` // normalised by the server
	StateKey string         `json:"state_key"`
}

// OnDemandReply is the answer: the data's blobs, or why there are none.
type OnDemandReply struct {
	Data  *release.Data `json:"data,omitempty"`
	Error string        `json:"error,omitempty"`
}

// onDemandTimeout bounds one computation; the server gives up sooner.
const onDemandTimeout = 2 * time.Minute

// ServeOnDemand answers on-demand requests on subject until ctx ends: it
// plans the chart of the revision's manifest for the state, as of now, and
// computes it through the cache like a chart_data job, so concurrent
// requests for the same state (from any server) ask the warehouse once.
// Runners share the subject as a queue group: each request reaches one.
func (w *Worker) ServeOnDemand(ctx context.Context, nc *nats.Conn, subject string) error {
	w.init()
	sub, err := nc.QueueSubscribe(subject, "bic-runners", func(msg *nats.Msg) {
		go w.answer(ctx, msg)
	})
	if err != nil {
		return fmt.Errorf("on-demand requests on %s: %w", subject, err)
	}
	<-ctx.Done()
	return sub.Drain()
}

func (w *Worker) answer(ctx context.Context, msg *nats.Msg) {
	ctx, cancel := context.WithTimeout(ctx, onDemandTimeout)
	defer cancel()
	reply := func(r OnDemandReply) {
		b, _ := json.Marshal(r)
		if err := msg.Respond(b); err != nil && !errors.Is(err, nats.ErrMsgNoReply) {
			w.Log.Warn("answer an on-demand request", "err", err)
		}
	}
	var req OnDemandRequest
	if err := json.Unmarshal(msg.Data, &req); err != nil || req.Env == "" || req.Chart == "" {
		reply(OnDemandReply{Error: "not an on-demand request"})
		return
	}
	m, err := w.Store.Manifest(ctx, req.Env, req.Revision)
	if err != nil {
		reply(OnDemandReply{Error: err.Error()})
		return
	}
	d, err := w.chartData(ctx, m, req.Chart, req.State, w.Now())
	if err != nil {
		w.Log.Warn("on-demand state", "chart", req.Chart, "state_key", req.StateKey, "err", err)
		reply(OnDemandReply{Error: err.Error()})
		return
	}
	data := releaseData(d.entry)
	reply(OnDemandReply{Data: &data})
}
