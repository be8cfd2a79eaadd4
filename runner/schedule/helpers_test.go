package schedule

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/runner/queue"
	"github.com/bic-dev/bic/runner/servicetest"
)

// fakeClock is the one clock of a test: every scheduler's and every
// store's.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// runners are n stores opened on one metadata database, as n runner
// processes would: kind is sqlite (a file) or postgres (a fresh schema of
// BIC_TEST_POSTGRES_URL; skips locally without it, fails under CI=true).
func runners(t *testing.T, kind string, n int, clk *fakeClock) []*metadata.Store {
	t.Helper()
	ctx := context.Background()
	var url, dir string
	switch kind {
	case "sqlite":
		url, dir = "sqlite://meta.db", t.TempDir()
	case "postgres":
		base := servicetest.Postgres(t)
		schema := fmt.Sprintf("bic_test_sched_%d", time.Now().UnixNano())
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
			admin.Close()
		})
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		url = base + sep + "search_path=" + schema
	}
	var out []*metadata.Store
	for range n {
		st, err := metadata.Open(ctx, url, dir)
		if err != nil {
			t.Fatal(err)
		}
		st.SetClock(clk.Now)
		t.Cleanup(func() { st.Close() })
		out = append(out, st)
	}
	return out
}

// addEnvs writes environment rows, which ticks belong to.
func addEnvs(t *testing.T, st *metadata.Store, names ...string) {
	t.Helper()
	for _, name := range names {
		kind := "persistent"
		if strings.HasPrefix(name, "pr-") {
			kind = "preview"
		}
		if _, err := st.DB().ExecContext(context.Background(), `INSERT INTO environments (name, kind, created_at) VALUES ('`+name+`', '`+kind+`', '2026-01-01T00:00:00Z')`); err != nil {
			t.Fatal(err)
		}
	}
}

// testQueue is a fresh stream on the embedded server or, for "nats", on
// BIC_TEST_NATS_URL (skips locally without it, fails under CI=true).
func testQueue(t *testing.T, kind string) *queue.Queue {
	t.Helper()
	url := queue.EmbeddedURL
	if kind == "nats" {
		url = servicetest.NATS(t)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	opts := queue.Options{Dir: t.TempDir(), Stream: "BIC_TEST_SCHED_" + id, SubjectPrefix: "bictest." + id, ShutdownGrace: 5 * time.Second}
	if url != queue.EmbeddedURL {
		t.Cleanup(func() {
			nc, err := nats.Connect(url)
			if err != nil {
				t.Errorf("delete stream: %v", err)
				return
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err = js.DeleteStream(ctx, opts.Stream)
			}
			if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Errorf("delete stream %s: %v", opts.Stream, err)
			}
		})
	}
	q, err := queue.Connect(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	return q
}

// consumed collects what workers take from a queue, acking each message.
type consumed struct {
	mu   sync.Mutex
	ids  map[string]int
	msgs []Message
}

func consume(t *testing.T, q *queue.Queue) *consumed {
	t.Helper()
	c := &consumed{ids: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := q.Consume(ctx, 4, func(ctx context.Context, m *queue.Msg) {
			var msg Message
			if err := json.Unmarshal(m.Data(), &msg); err != nil {
				t.Errorf("message %s: %v", m.ID(), err)
			}
			if m.Kind() != msg.Kind || m.ID() != MsgID(msg.Env, msg.Kind, msg.Name, msg.Tick) {
				t.Errorf("message %s of kind %s has body %+v", m.ID(), m.Kind(), msg)
			}
			c.mu.Lock()
			c.ids[m.ID()]++
			c.msgs = append(c.msgs, msg)
			c.mu.Unlock()
			if err := m.Ack(ctx); err != nil {
				t.Errorf("ack %s: %v", m.ID(), err)
			}
		})
		if err != nil {
			t.Errorf("consume: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// wait returns the messages once n have come and the queue is empty, and
// a moment longer, so that an extra message would be seen too.
func (c *consumed) wait(t *testing.T, q *queue.Queue, n int) []Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.msgs)
		c.mu.Unlock()
		pending, err := q.Pending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got >= n && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages consumed, %d pending; want %d", got, pending, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, k := range c.ids {
		if k != 1 {
			t.Errorf("message %s consumed %d times", id, k)
		}
	}
	return append([]Message(nil), c.msgs...)
}

// countingQueue counts publishes, and fails the first failures of them.
type countingQueue struct {
	Publisher
	mu        sync.Mutex
	calls     int
	failures  int
	published []string
}

func (q *countingQueue) Publish(ctx context.Context, msgID, kind string, data []byte) (bool, error) {
	q.mu.Lock()
	q.calls++
	if q.failures > 0 {
		q.failures--
		q.mu.Unlock()
		return false, errors.New("nats: no responders available for request")
	}
	q.published = append(q.published, msgID)
	q.mu.Unlock()
	if q.Publisher == nil {
		return false, nil
	}
	return q.Publisher.Publish(ctx, msgID, kind, data)
}

func (q *countingQueue) count() int { q.mu.Lock(); defer q.mu.Unlock(); return q.calls }

func (q *countingQueue) ids() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.published...)
}

// testStore is a runner's metadata store with the environments the test
// says are live.
type testStore struct {
	*metadata.Store
	mu   *sync.Mutex
	envs *[]Env
}

func (s testStore) Scheduled(context.Context) ([]Env, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Env(nil), *s.envs...), nil
}

// live is the shared list of live environments of a test's runners.
type live struct {
	mu   sync.Mutex
	envs []Env
}

func (l *live) set(envs ...Env) { l.mu.Lock(); defer l.mu.Unlock(); l.envs = envs }

func (l *live) store(st *metadata.Store) Store { return testStore{Store: st, mu: &l.mu, envs: &l.envs} }

// project is a manifest with the given objects; schedules nil is the default.
func project(schedules []string, alerts []compiler.Alert, reports []compiler.Report, datasets []compiler.Dataset) *compiler.Manifest {
	m := &compiler.Manifest{Project: compiler.Project{Name: "shop", Defaults: compiler.Defaults{Timezone: "Europe/Berlin"}, Schedules: schedules}}
	for _, a := range alerts {
		m.Alerts = append(m.Alerts, compiler.AlertObject{Spec: a})
	}
	for _, r := range reports {
		m.Reports = append(m.Reports, compiler.ReportObject{Spec: r})
	}
	for _, d := range datasets {
		m.Datasets = append(m.Datasets, compiler.DatasetObject{Spec: d})
	}
	return m
}

// tickAll runs one Tick of every scheduler at once, as runners do.
func tickAll(t *testing.T, scheds []*Scheduler) {
	t.Helper()
	var wg sync.WaitGroup
	for _, s := range scheds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Tick(context.Background()); err != nil {
				t.Errorf("tick: %v", err)
			}
		}()
	}
	wg.Wait()
}
