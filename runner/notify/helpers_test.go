package notify

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fastRetry keeps the tests short: three tries, waits of 20ms and 40ms
// (less jitter), within 5s.
var fastRetry = Retry{Attempts: 3, Initial: 20 * time.Millisecond, Max: 2 * time.Second, Total: 5 * time.Second, PerAttempt: time.Second}

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR fake png bytes")

func testMessage(key string) Message {
	v, p := 10234.0, 13360.0
	tick := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if key == "" {
		key = Key("prod", KindAlert, "revenue_drop", tick, StateFiring)
	}
	return Message{
		Kind: KindAlert, Name: "revenue_drop", Env: "prod", Title: "revenue_drop is firing",
		Text:  "revenue_drop is firing: revenue fell 23.4% (€10,234 vs €13,360) for the week of 2026-11-23 <b>",
		State: StateFiring, Tick: tick, Value: &v, Previous: &p,
		URL:            "https://bic.example.com/d/sales?week=2026-11-23",
		Images:         []Attachment{{Name: "revenue.png", ContentType: "image/png", Data: pngBytes, URL: "https://cdn.example.com/revenue.png?sig=abc"}},
		Files:          []Attachment{{Name: "revenue.csv", ContentType: "text/csv", Data: []byte("week,revenue\n2026-11-23,10234\n")}},
		IdempotencyKey: key,
	}
}

// closedAddr is a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// memLedger is a Ledger in memory, as the metadata DB would keep it.
type memLedger struct {
	mu      sync.Mutex
	records map[string]Delivery // key + "|" + channel → the last outcome
	begins  int
	failOn  string // "begin" or "done": fail that call
}

func newMemLedger() *memLedger { return &memLedger{records: map[string]Delivery{}} }

func (l *memLedger) Begin(_ context.Context, key, channel string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.begins++
	if l.failOn == "begin" {
		return false, errLedgerDown
	}
	d, ok := l.records[key+"|"+channel]
	return ok && d.Outcome == Sent, nil
}

func (l *memLedger) Done(_ context.Context, key, channel string, d Delivery) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failOn == "done" {
		return errLedgerDown
	}
	l.records[key+"|"+channel] = d
	return nil
}

func (l *memLedger) get(key, channel string) (Delivery, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.records[key+"|"+channel]
	return d, ok
}

type ledgerError string

func (e ledgerError) Error() string { return string(e) }

const errLedgerDown = ledgerError("ledger is down")

// assertNoSecret fails when any of the texts holds any of the secrets.
func assertNoSecret(t *testing.T, secrets []string, texts ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, txt := range texts {
			if strings.Contains(txt, s) {
				t.Errorf("%q leaks the secret %q", txt, s)
			}
		}
	}
}
