package queue

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestRoundtrip(t *testing.T) {
	t.Parallel()
	onServers(t, func(t *testing.T, s *testServer) {
		q := s.open(t, nil)
		publish(t, q, "chart_data", "job-1", "job-2")
		publish(t, q, "publish", "job-3")
		waitPending(t, q, 3)

		r := newRecorder()
		consume(t, q, 2, func(ctx context.Context, m *Msg) {
			r.add(m)
			ack(t, m)
		})
		got := r.waitFor(t, 3)
		waitPending(t, q, 0)

		want := []delivery{
			{id: "job-1", kind: "chart_data", data: "data of job-1", delivered: 1},
			{id: "job-2", kind: "chart_data", data: "data of job-2", delivered: 1},
			{id: "job-3", kind: "publish", data: "data of job-3", delivered: 1},
		}
		opts := []cmp.Option{
			cmp.AllowUnexported(delivery{}),
			cmpopts.IgnoreFields(delivery{}, "at"),
			cmpopts.SortSlices(func(a, b delivery) bool { return a.id < b.id }),
		}
		if diff := cmp.Diff(want, got, opts...); diff != "" {
			t.Errorf("deliveries (-want +got):\n%s", diff)
		}
	})
}

func TestPublishDuplicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ids     []string
		wantDup []bool
		pending uint64
	}{
		{"distinct ids are kept", []string{"a", "b", "c"}, []bool{false, false, false}, 3},
		{"a repeated id is dropped", []string{"a", "a"}, []bool{false, true}, 1},
		{"every repeat is dropped", []string{"a", "b", "a", "b", "a"}, []bool{false, false, true, true, true}, 2},
	}
	onServers(t, func(t *testing.T, s *testServer) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// A stream per case, so the cases' ids don't meet.
				q := newTestServerLike(t, s).open(t, nil)
				ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
				defer cancel()
				var got []bool
				for _, id := range tt.ids {
					dup, err := q.Publish(ctx, id, "alert", []byte(id))
					if err != nil {
						t.Fatalf("Publish(%q): %v", id, err)
					}
					got = append(got, dup)
				}
				if diff := cmp.Diff(tt.wantDup, got); diff != "" {
					t.Errorf("duplicate flags (-want +got):\n%s", diff)
				}
				waitPending(t, q, tt.pending)
			})
		}
	})
}

// newTestServerLike is a fresh stream on the server s runs on.
func newTestServerLike(t *testing.T, s *testServer) *testServer {
	return newTestServer(t, s.url)
}

func TestTwoConsumersEachMessageOnce(t *testing.T) {
	t.Parallel()
	const n = 200
	onServers(t, func(t *testing.T, s *testServer) {
		a := s.open(t, nil)
		b := s.openPeer(t, a)
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("job-%03d", i)
		}
		publish(t, a, "chart_data", ids...)

		var mu sync.Mutex
		count := map[string]int{}
		by := map[string]int{}
		all := make(chan struct{})
		var allOnce sync.Once
		handler := func(name string) func(context.Context, *Msg) {
			return func(ctx context.Context, m *Msg) {
				time.Sleep(time.Millisecond) // let the other consumer take some
				ack(t, m)
				mu.Lock()
				defer mu.Unlock()
				count[m.ID()]++
				by[name]++
				if len(count) == n {
					allOnce.Do(func() { close(all) })
				}
			}
		}
		consume(t, a, 4, handler("a"))
		consume(t, b, 4, handler("b"))
		select {
		case <-all:
		case <-time.After(waitTimeout):
			mu.Lock()
			t.Fatalf("handled %d of %d messages after %s", len(count), n, waitTimeout)
		}
		waitPending(t, a, 0)
		time.Sleep(200 * time.Millisecond) // room for a wrong second delivery

		mu.Lock()
		defer mu.Unlock()
		var twice []string
		for id, c := range count {
			if c != 1 {
				twice = append(twice, fmt.Sprintf("%s×%d", id, c))
			}
		}
		sort.Strings(twice)
		if len(twice) > 0 {
			t.Errorf("handled more than once: %s", strings.Join(twice, " "))
		}
		t.Logf("consumer a handled %d, b %d", by["a"], by["b"])
	})
}

func TestPublishRejects(t *testing.T) {
	t.Parallel()
	q := newTestServer(t, EmbeddedURL).open(t, nil)
	tests := []struct {
		name, id, kind string
	}{
		{"empty id", "", "chart_data"},
		{"empty kind", "job", ""},
		{"kind with a dot", "job", "chart.data"},
		{"kind with a wildcard", "job", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := q.Publish(context.Background(), tt.id, tt.kind, nil); err == nil {
				t.Errorf("Publish(%q, %q) succeeded, want an error", tt.id, tt.kind)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"zero value", Options{}, ""},
		{"all set", Options{Stream: "JOBS", SubjectPrefix: "a.b", Consumer: "w-1", Replicas: 3, AckWait: time.Second}, ""},
		{"stream with a dot", Options{Stream: "A.B"}, "stream name"},
		{"consumer with a space", Options{Consumer: "a b"}, "consumer name"},
		{"prefix with a wildcard", Options{SubjectPrefix: "bic.>"}, "subject prefix"},
		{"prefix with an empty token", Options{SubjectPrefix: "bic..jobs"}, "subject prefix"},
		{"negative ack wait", Options{AckWait: -time.Second}, "ack wait"},
		{"negative replicas", Options{Replicas: -1}, "replicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error about %s", err, tt.wantErr)
			}
		})
	}
}

func TestTermTakesReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version string
		want    bool
	}{
		{"2.9.10", false},
		{"2.10.3", false},
		{"2.10.4", true},
		{"2.10.4-beta.1", true},
		{"2.11.0", true},
		{"2.15.2", true},
		{"3.0.0", true},
		{"1.4.1", false},
		{"", false}, // not connected
		{"dev", false},
	}
	for _, tt := range tests {
		if got := termTakesReason(tt.version); got != tt.want {
			t.Errorf("termTakesReason(%q) = %v, want %v", tt.version, got, tt.want)
		}
	}
}
