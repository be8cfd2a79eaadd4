package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/singleflight"

	"github.com/bic-dev/bic/publish/release"
)

// NATSOnDemand is OnDemand over NATS request–reply: it asks the runners,
// which plan and compute the state through their cache. Concurrent
// requests for the same chart and state of one release share one request.
type NATSOnDemand struct {
	Conn    *nats.Conn
	Subject string

	flight singleflight.Group
}

// natsRequest and natsReply mirror runner.OnDemandRequest and
// runner.OnDemandReply, the contract's JSON (the server does not import
// the runner).
type natsRequest struct {
	Env      string         `json:"env"`
	Revision int            `json:"revision"`
	Chart    string         `json:"chart"`
	State    map[string]any `json:"state"`
	StateKey string         `json:"state_key"`
}

type natsReply struct {
	Data  *release.Data `json:"data,omitempty"`
	Error string        `json:"error,omitempty"`
}

// Compute asks the runners for req's state and waits for their answer
// until ctx's deadline.
func (o *NATSOnDemand) Compute(ctx context.Context, req Request) (release.Data, error) {
	key := req.Release + "\x00" + req.Chart + "\x00" + req.StateKey
	v, err, _ := o.flight.Do(key, func() (any, error) {
		body, err := json.Marshal(natsRequest{Env: req.Env, Revision: req.Revision, Chart: req.Chart, State: req.State, StateKey: req.StateKey})
		if err != nil {
			return nil, err
		}
		msg, err := o.Conn.RequestWithContext(ctx, o.Subject, body)
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, errors.New("no runner answers on-demand requests: start bic runner")
		}
		if err != nil {
			return nil, err
		}
		var r natsReply
		if err := json.Unmarshal(msg.Data, &r); err != nil {
			return nil, fmt.Errorf("a runner's answer: %w", err)
		}
		if r.Error != "" || r.Data == nil {
			return nil, fmt.Errorf("a runner could not compute it: %s", r.Error)
		}
		return *r.Data, nil
	})
	if err != nil {
		return release.Data{}, err
	}
	return v.(release.Data), nil
}
