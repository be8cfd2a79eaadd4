package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/nats-io/nats.go"
	"golang.org/x/sync/singleflight"

	"github.com/bic-dev/bic/publish/release"
)

// NATSOnDemand is OnDemand over NATS request–reply: it asks the runners,
// which plan and compute the state through their cache. Concurrent
// requests for the same chart and state of one release share one request,
// and an answer is kept (the maxAnswers used last) until its data goes
// stale, so a state viewers come back to costs no round trip: the runners
// would answer with the same cache entry until then.
type NATSOnDemand struct {
	Conn    *nats.Conn
	Subject string
	// Now is the clock stale answers are judged by (nil: time.Now).
	Now func() time.Time

	flight  singleflight.Group
	once    sync.Once
	answers *lru.Cache[string, release.Data]
}

// maxAnswers bounds the answers kept: each is a few blob keys.
const maxAnswers = 4096

// kept returns the answer kept for key while it is fresh.
func (o *NATSOnDemand) kept(key string) (release.Data, bool) {
	o.once.Do(func() { o.answers, _ = lru.New[string, release.Data](maxAnswers) })
	d, ok := o.answers.Get(key)
	if !ok {
		return release.Data{}, false
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if !d.StaleAt.IsZero() && !now().Before(d.StaleAt) {
		o.answers.Remove(key)
		return release.Data{}, false
	}
	return d, true
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
	if d, ok := o.kept(key); ok {
		return d, nil
	}
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
		o.answers.Add(key, *r.Data)
		return *r.Data, nil
	})
	if err != nil {
		return release.Data{}, err
	}
	return v.(release.Data), nil
}
