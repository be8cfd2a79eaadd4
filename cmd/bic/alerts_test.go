package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/runner/notify"
)

const alertsTestSecret = "whsec-alerts-test"

// lowOrdersAlert fires when the day before its tick had fewer than 3
// orders, as examples/shop's low_orders does.
const lowOrdersAlert = `alert: low_orders
description: Fewer than 3 orders came in yesterday.
dataset: orders
metric: orders
period: day
condition: {op: "<", value: 3}
schedule: "30 6 * * *"
timezone: Europe/Berlin
cooldown: 1d
notify:
  - type: webhook
    url: ${env:ALERT_WEBHOOK_URL}
  - type: email
    to: [oncall@example.com]
`

// alertsProject is bic init's project with the low_orders alert, a refresh
// on its dataset and orders on each of the 40 days before today (Berlin):
// 5 a day, but 1 on each of lowDays (days before today).
func alertsProject(t *testing.T, lowDays ...int) string {
	t.Helper()
	dir := newProject(t)
	if err := os.Remove(filepath.Join(dir, "alerts", "no_orders.yaml")); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "alerts", "low_orders.yaml"), lowOrdersAlert)
	ds, err := os.ReadFile(filepath.Join(dir, "datasets", "orders.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "datasets", "orders.yaml"), string(ds)+"refresh: \"0 * * * *\"\n")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	today := time.Now().In(berlin)
	var csv strings.Builder
	csv.WriteString("order_id,ordered_at,country,status,amount\n")
	id := 1
	for d := 40; d >= 1; d-- {
		n := 5
		for _, low := range lowDays {
			if d == low {
				n = 1
			}
		}
		day := today.AddDate(0, 0, -d)
		for i := range n {
			// Noon UTC is inside the Berlin day, whatever the season.
			at := time.Date(day.Year(), day.Month(), day.Day(), 11, i, 0, 0, time.UTC)
			fmt.Fprintf(&csv, "%d,%s,DE,paid,10.00\n", id, at.Format(time.DateTime))
			id++
		}
	}
	writeTestFile(t, filepath.Join(dir, "data", "orders.csv"), csv.String())
	return dir
}

// tickAfter is the alert's 06:30 tick in Berlin, days before today.
func tickAfter(daysAgo int) time.Time {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	d := time.Now().In(berlin).AddDate(0, 0, -daysAgo)
	return time.Date(d.Year(), d.Month(), d.Day(), 6, 30, 0, 0, berlin)
}

// webhookReceiver is an HTTP server that checks each request's
// signature and counts deliveries by idempotency key.
type webhookReceiver struct {
	*httptest.Server
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	keys   map[string]int
	bodies []notify.WebhookBody
}

func newWebhookReceiver(t *testing.T, secret string) *webhookReceiver {
	t.Helper()
	r := &webhookReceiver{t: t, secret: []byte(secret), keys: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *webhookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := notify.Verify(r.secret, req.Header, body, time.Now(), 5*time.Minute); err != nil {
		r.t.Errorf("webhook: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var b notify.WebhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		r.t.Errorf("webhook body: %v", err)
	}
	key := req.Header.Get(notify.HeaderIdempotencyKey)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[key]++
	if r.keys[key] > 1 {
		r.t.Errorf("webhook: %s delivered %d times", key, r.keys[key])
	}
	r.bodies = append(r.bodies, b)
}

// received is how often each key arrived.
func (r *webhookReceiver) received() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.keys))
	for k, n := range r.keys {
		out[k] = n
	}
	return out
}

// mailReceiver is an SMTP server (no TLS, no auth: a loopback relay) that
// counts the messages it accepts by Message-ID.
type mailReceiver struct {
	t    *testing.T
	addr string
	mu   sync.Mutex
	ids  map[string]int
	keys map[string]string // Message-ID → X-Bic-Idempotency-Key
}

func newMailReceiver(t *testing.T) *mailReceiver {
	t.Helper()
	r := &mailReceiver{t: t, ids: map[string]int{}, keys: map[string]string{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{r: r}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r
}

// url is its BIC_SMTP_URL.
func (r *mailReceiver) url() string {
	return "smtp://" + r.addr + "?from=bic@example.com&tls=none"
}

func (r *mailReceiver) received() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.keys))
	for id, k := range r.keys {
		out[id] = k
	}
	return out
}

type mailSession struct{ r *mailReceiver }

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }

func (s *mailSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	id := strings.Trim(msg.Header.Get("Message-Id"), "<>")
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.ids[id]++
	s.r.keys[id] = msg.Header.Get(notify.HeaderIdempotencyKey)
	if s.r.ids[id] > 1 {
		s.r.t.Errorf("email: Message-ID %s (%s) delivered %d times", id, s.r.keys[id], s.r.ids[id])
	}
	return nil
}

// TestAlertsTest: bic alerts test evaluates the alert on the warehouse and
// prints the values, the condition and the transition, sending nothing
// unless --send; usage and unknown alerts exit 2 and 1.
func TestAlertsTest(t *testing.T) {
	t.Setenv("BIC_METADATA_URL", "")
	hook := newWebhookReceiver(t, alertsTestSecret)
	t.Setenv("ALERT_WEBHOOK_URL", hook.URL+"/hooks/very-secret-path")
	t.Setenv("BIC_WEBHOOK_SECRET", alertsTestSecret)
	t.Setenv("BIC_SMTP_URL", "")
	dir := alertsProject(t, 5)
	day := func(daysAgo int) string { return tickAfter(daysAgo).AddDate(0, 0, -1).Format(time.DateOnly) }
	tests := []struct {
		name     string
		args     []string
		code     int
		want     []string
		wantNot  []string
		wantErr  string
		webhooks int
	}{
		{
			name: "a day with one order fires",
			args: []string{"--at", tickAfter(4).Format(time.RFC3339)},
			want: []string{
				"current:   " + day(4) + ": 1\n", "previous:  " + day(5) + ": 5\n",
				"condition: orders < 3\n", "observed:  value 1 (condition: < 3)\n",
				"state:     ok → firing: would notify webhook http://127.0.0.1:", ", email oncall@example.com\n",
				"no state recorded: the metadata database at sqlite://.bic/bic.db has no bic tables", "Nothing was sent (use --send to send it).\n",
			},
			wantNot: []string{"very-secret-path"},
		},
		{
			name: "a day with five orders is ok",
			args: []string{"--at", tickAfter(5).Format(time.RFC3339)},
			want: []string{"current:   " + day(5) + ": 5\n", "state:     ok → ok: nothing to notify\n", "Nothing was sent"},
		},
		{
			name: "a preview is a dry run",
			args: []string{"--at", tickAfter(4).Format(time.RFC3339), "--env", "pr-1"},
			want: []string{"pr-1 does not run schedules: its runners record this evaluation as a dry run and send nothing"},
		},
		{
			name: "the backtest finds the low day",
			args: []string{"--backtest", "30d"},
			want: []string{
				tickAfter(4).Format("2006-01-02 15:04 MST") + "  ok → firing  value 1 (condition: < 3)\n",
				tickAfter(3).Format("2006-01-02 15:04 MST") + "  firing → ok  value 5 (condition: < 3)\n",
				"would have fired once, resolved once; notified 2 times.\n", "Nothing was recorded or sent.\n",
			},
		},
		{name: "an unknown alert", args: []string{"--at", "2026-01-01"}, code: 1, wantErr: `no alert "low_order"`},
		{name: "a bad --at", args: []string{"--at", "yesterday"}, code: 2, wantErr: `--at "yesterday": expected a time`},
		{name: "a bad --backtest", args: []string{"--backtest", "a month"}, code: 2, wantErr: "--backtest: expected a duration"},
		{name: "backtest and send", args: []string{"--backtest", "3d", "--send"}, code: 2, wantErr: "leave out --send"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "low_orders"
			if tt.name == "an unknown alert" {
				name = "low_order"
			}
			code, out, errOut := runBic(t, append([]string{"alerts", "test", name, "-p", dir}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stderr with %q", code, tt.code, out, errOut, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out+errOut, w) {
					t.Errorf("output shows %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
	if got := hook.received(); len(got) != 0 {
		t.Errorf("alerts test without --send sent %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".bic")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("alerts test wrote %s/.bic (it must only read): %v", dir, err)
	}
}

// TestAlertsTestSend: --send delivers a test message now, signed with
// BIC_WEBHOOK_SECRET, with a key of its own each time, and reports each
// channel; a channel that fails exits 3 after the others were sent.
func TestAlertsTestSend(t *testing.T) {
	t.Setenv("BIC_METADATA_URL", "")
	hook := newWebhookReceiver(t, alertsTestSecret)
	mails := newMailReceiver(t)
	t.Setenv("ALERT_WEBHOOK_URL", hook.URL+"/hook")
	t.Setenv("BIC_WEBHOOK_SECRET", alertsTestSecret)
	dir := alertsProject(t, 5)
	at := tickAfter(4).Format(time.RFC3339)

	t.Setenv("BIC_SMTP_URL", mails.url())
	code, out, errOut := runBic(t, "alerts", "test", "low_orders", "-p", dir, "--at", at, "--send")
	if code != 0 {
		t.Fatalf("--send: exit %d\n%s%s", code, out, errOut)
	}
	for _, w := range []string{"  webhook " + hook.URL + ": sent\n", "  email oncall@example.com: sent\n", "Sent a test message to 2 channel(s) (key prod/alert/low_orders/"} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "Nothing was sent") {
		t.Errorf("--send says nothing was sent:\n%s", out)
	}
	keys := hook.received()
	if len(keys) != 1 {
		t.Fatalf("the webhook received %v, want one test message", keys)
	}
	for k := range keys {
		if !strings.HasPrefix(k, "prod/alert/low_orders/") || !strings.HasSuffix(k, "/test") {
			t.Errorf("key %q: want prod/alert/low_orders/<now>/test", k)
		}
		if mails.received()[findMessageID(mails, k)] != k {
			t.Errorf("the email with key %s did not arrive: %v", k, mails.received())
		}
	}
	if b := hook.bodies[0]; b.State != notify.StateTest || b.Value == nil || *b.Value != 1 {
		t.Errorf("webhook body: state %q value %v, want test and 1", b.State, b.Value)
	}

	// Without a mail server the email fails; the webhook is sent anyway.
	t.Setenv("BIC_SMTP_URL", "")
	time.Sleep(time.Second) // a key of its own: the current second
	code, out, errOut = runBic(t, "alerts", "test", "low_orders", "-p", dir, "--at", at, "--send")
	if code != 3 || !strings.Contains(out, "  email oncall@example.com: failed after") || !strings.Contains(errOut, "failed on 1 of 2 channel(s)") {
		t.Errorf("--send without BIC_SMTP_URL: exit %d, want 3 naming the email\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if got := hook.received(); len(got) != 2 {
		t.Errorf("the webhook received %v, want a second test message with a key of its own", got)
	}
}

func findMessageID(m *mailReceiver, key string) string {
	for id, k := range m.received() {
		if k == key {
			return id
		}
	}
	return ""
}

// TestAlertsHistory: bic alerts history lists the evaluations the runners
// recorded, newest first, as text and JSON; alerts test starts from the
// recorded state.
func TestAlertsHistory(t *testing.T) {
	t.Setenv("BIC_METADATA_URL", "")
	t.Setenv("ALERT_WEBHOOK_URL", "https://hooks.example.com/x")
	dir := alertsProject(t, 5)
	wantRun(t, 0, "", "", "migrate", "-p", dir)
	wantRun(t, 0, "Alert low_orders has no evaluations in prod.\n", "", "alerts", "history", "low_orders", "-p", dir)

	// The environments, as an apply and a preview would have made them.
	db, err := sql.Open("sqlite", filepath.Join(dir, ".bic", "bic.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO environments (name, kind, created_at) VALUES ('prod', 'persistent', '2026-01-01T00:00:00Z'), ('pr-1', 'preview', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wantRun(t, 0, "never evaluated in prod", "", "alerts", "test", "low_orders", "-p", dir)
	ctx := context.Background()
	st, err := metadata.Open(ctx, "sqlite://.bic/bic.db", dir)
	if err != nil {
		t.Fatal(err)
	}
	one, five := 1.0, 5.0
	first, second := tickAfter(4).UTC(), tickAfter(3).UTC()
	for _, ev := range []metadata.Evaluation{
		{At: first.Add(2 * time.Second), Tick: first, State: "firing", Value: &one, Message: "value 1 (condition: < 3)", Notify: true},
		{At: second.Add(time.Second), Tick: second, State: "ok", Value: &five, Message: "value 5 (condition: < 3)", Notify: true, Since: first},
	} {
		if _, err := st.RecordEvaluation(ctx, "prod", "low_orders", ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RecordEvaluation(ctx, "pr-1", "low_orders", metadata.Evaluation{At: first.Add(time.Second), Tick: first, State: "firing", Value: &one, Message: "value 1", Notify: true, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errOut := runBic(t, "alerts", "history", "low_orders", "-p", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "AT") || !strings.Contains(lines[1], second.Format(time.DateTime)) ||
		!strings.Contains(lines[1], "  ok  ") || !strings.Contains(lines[2], "  firing  ") || !strings.Contains(lines[2], "value 1 (condition: < 3)") {
		t.Errorf("history, newest first:\n%s", out)
	}
	wantRun(t, 0, "dry run", "", "alerts", "history", "low_orders", "--env", "pr-1", "-p", dir)
	wantRun(t, 0, "firing  1      yes       dry run  value 1\n", "", "alerts", "history", "low_orders", "--limit", "1", "--env", "pr-1", "-p", dir)

	code, out, _ = runBic(t, "alerts", "history", "low_orders", "-p", dir, "--format", "json", "--limit", "1")
	var got []evaluationJSON
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || len(got) != 1 || got[0].State != "ok" || got[0].Tick == nil || !got[0].Tick.Equal(second) || !got[0].Notified || got[0].DryRun {
		t.Errorf("--format json --limit 1: exit %d, %v: %s", code, err, out)
	}
	// alerts test now starts from the recorded ok.
	wantRun(t, 0, "state:     ok → firing", "", "alerts", "test", "low_orders", "-p", dir, "--at", tickAfter(4).Format(time.RFC3339))
	wantRun(t, 0, "recorded: ok since the tick of "+second.Format("2006-01-02 15:04 UTC"), "", "alerts", "test", "low_orders", "-p", dir)
	wantRun(t, 1, "", `no alert "nope"`, "alerts", "history", "nope", "-p", dir)
	wantRun(t, 2, "", "unknown --format", "alerts", "history", "low_orders", "-p", dir, "--format", "yaml")
}

// TestSchedules: bic schedules lists the project's alerts, reports and
// refreshes with their next runs in their own zone, and which run in the
// environment.
func TestSchedules(t *testing.T) {
	t.Setenv("BIC_METADATA_URL", "")
	t.Setenv("ALERT_WEBHOOK_URL", "https://hooks.example.com/x")
	dir := alertsProject(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Now().In(berlin)
	next := time.Date(now.Year(), now.Month(), now.Day(), 6, 30, 0, 0, berlin)
	if !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	runs := []string{}
	for i := range 3 {
		runs = append(runs, next.AddDate(0, 0, i).Format("2006-01-02 15:04 MST"))
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{name: "prod runs them", want: []string{"KIND     NAME        SCHEDULE    TIME ZONE      CATCH-UP  IN PROD  NEXT RUNS\n",
			"alert    low_orders  30 6 * * *  Europe/Berlin  latest    runs     " + strings.Join(runs, ", ") + "\n",
			"refresh  orders      0 * * * *   UTC            latest    runs     "}},
		{name: "a preview dry-runs alerts and refreshes nothing", args: []string{"--env", "pr-1", "--next", "1"},
			want: []string{"IN PR-1", "low_orders  30 6 * * *  Europe/Berlin  latest    dry run  " + runs[0] + "\n", "orders      0 * * * *   UTC            latest    off      "}},
		{name: "a bad --next", args: []string{"--next", "-1"}, code: 2},
		{name: "a bad --format", args: []string{"--format", "yaml"}, code: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runBic(t, append([]string{"schedules", "-p", dir}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
	code, out, _ := runBic(t, "schedules", "-p", dir, "--format", "json", "--next", "2")
	var got []scheduled
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || len(got) != 2 {
		t.Fatalf("--format json: exit %d, %v: %s", code, err, out)
	}
	if a := got[0]; a.Kind != "alert" || a.Runs != "runs" || len(a.Next) != 2 || !a.Next[0].Equal(next) || a.Next[0].Format("-07:00") != next.Format("-07:00") {
		t.Errorf("the alert in JSON: %+v, want next runs from %s in Berlin's offset", a, next)
	}
}
