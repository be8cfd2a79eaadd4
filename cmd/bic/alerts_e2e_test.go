package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/runner/notify"
	"github.com/bic-dev/bic/runner/servicetest"
)

// everyTickAlert fires at every tick (any count of orders, 0 too, is >=
// 0), and reminds at each next one: its cooldown is shorter than
// the 10 s between ticks. So every tick of prod sends one notification of
// its own key to each channel, and a key seen twice is a tick sent twice.
const everyTickAlert = `alert: every_tick
dataset: orders
metric: orders
period: day
condition: {op: ">=", value: 0}
schedule: "@every 10s"
timezone: Europe/Berlin
cooldown: 5s
notify:
  - type: webhook
    url: ${env:ALERT_WEBHOOK_URL}
  - type: email
    to: [oncall@example.com]
`

// TestAlertsExactlyOnce is issue 11's exactly-once test: three bic runner
// processes on real NATS and PostgreSQL schedule an alert of every 10
// seconds; each tick notifies each channel once, a runner SIGKILLed after
// recording a tick's deliveries and before acking its message makes the
// runner it is redelivered to send nothing new, and a preview of the
// project with the same alert records dry runs and sends nothing.
//
// The runners' clock is the real one (the binary takes no other): @every
// 10s ticks at the multiples of 10 s since the epoch.
func TestAlertsExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts runner processes and waits for a minute of ticks; not with -short")
	}
	servicetest.Postgres(t)
	servicetest.NATS(t)
	started := time.Now()
	bin := buildBic(t, t.TempDir())
	dir := newProject(t)
	if err := os.Remove(filepath.Join(dir, "alerts", "no_orders.yaml")); err != nil {
		t.Fatal(err)
	}
	writeRelFile(t, dir, "alerts/every_tick.yaml", everyTickAlert)

	hook := newWebhookReceiver(t, alertsTestSecret)
	mails := newMailReceiver(t)
	h := newRelHarness(t, bin, dir, relOptions{ackWait: "3s"})
	h.env = append(h.env,
		"ALERT_WEBHOOK_URL="+hook.URL+"/hook",
		"BIC_WEBHOOK_SECRET="+alertsTestSecret,
		"BIC_SMTP_URL="+mails.url(),
		"BIC_SCHEDULE_INTERVAL=1s",
		"BIC_THUMBNAILS=off",
	)
	killer := func(name string) *proc {
		env := h.env
		h.env = append(slices.Clone(env), "BIC_TEST_KILL_AFTER_TICK=1")
		defer func() { h.env = env }()
		return h.runner(name, 2)
	}
	var all []*proc

	// Three runners, ~4 ticks.
	for i := 1; i <= 3; i++ {
		all = append(all, h.runner(fmt.Sprintf("runner%d", i), 2))
	}
	h.mustBic(applyTimeout, "apply", "-p", dir, "--auto-approve", "--wait")
	h.waitFor(60*time.Second, "4 ticks of prod delivered", func() bool { return len(h.sentTicks("prod")) >= 4 && h.settled("prod") }, all...)
	stopAll(all[:3]...)

	// One runner at a time that dies after a tick's deliveries are
	// recorded, before the ack; a plain runner takes the message over.
	var crashed []time.Time
	for round := 1; round <= 2; round++ {
		k := killer(fmt.Sprintf("killer%d", round))
		all = append(all, k)
		select {
		case <-k.done:
		case <-time.After(30 * time.Second):
			t.Fatalf("killer%d did not die after a tick:\n%s", round, k.output())
		}
		if k.err == nil || !strings.Contains(k.err.Error(), "killed") {
			t.Fatalf("killer%d exited (%v), want killed by its hook:\n%s", round, k.err, k.output())
		}
		tick, ok := h.undoneTick("prod")
		if !ok {
			t.Fatalf("killer%d died, but no tick of prod is left undone:\n%s", round, k.output())
		}
		crashed = append(crashed, tick)
		r := h.runner(fmt.Sprintf("taker%d", round), 2)
		all = append(all, r)
		h.waitFor(30*time.Second, "the crashed tick done by another runner", func() bool { return h.tickDone("prod", tick) && h.settled("prod") }, r, k)
		stopAll(r)
	}

	// A preview with the same alert: dry runs, nothing sent.
	for i := 4; i <= 5; i++ {
		all = append(all, h.runner(fmt.Sprintf("runner%d", i), 2))
	}
	running := all[len(all)-2:]
	h.mustBic(applyTimeout, "preview", "-p", dir, "--env", "pr-1", "--wait")
	h.waitFor(40*time.Second, "2 ticks of pr-1 evaluated", func() bool { return h.evaluated("pr-1") >= 2 && h.settled("prod") }, running...)
	stopAll(running...)

	// Every notified tick of prod reached each channel once; nothing else did.
	want := map[string]bool{}
	for _, tick := range h.sentTicks("prod") {
		want[notify.Key("prod", notify.KindAlert, "every_tick", tick, notify.StateFiring)] = true
	}
	got := hook.received()
	mailKeys := map[string]int{}
	for id, key := range mails.received() {
		mailKeys[key]++
		if id != messageID(key) {
			t.Errorf("email of %s has Message-ID %s, want %s", key, id, messageID(key))
		}
	}
	dups := 0
	for key := range want {
		if got[key] != 1 || mailKeys[key] != 1 {
			t.Errorf("%s: %d webhook(s), %d email(s); want 1 of each", key, got[key], mailKeys[key])
		}
	}
	for key, n := range got {
		dups += n - 1
		if !want[key] {
			t.Errorf("the webhook received %s, which no recorded evaluation of prod notifies", key)
		}
		if strings.HasPrefix(key, "pr-1/") {
			t.Errorf("the preview sent %s", key)
		}
	}
	for key, n := range mailKeys {
		dups += n - 1
		if !want[key] {
			t.Errorf("the mail server received %s, which no recorded evaluation of prod notifies", key)
		}
	}
	// A crashed tick whose evaluation notified was checked above like the
	// others (once to each channel); one at least must have, else the
	// crash case proved nothing. (A killer may die on a tick that only
	// evaluates: one left queued by the runners stopped before it, within
	// the cooldown.)
	crashedSent := 0
	for _, tick := range crashed {
		if want[notify.Key("prod", notify.KindAlert, "every_tick", tick, notify.StateFiring)] {
			crashedSent++
		}
	}
	if crashedSent == 0 {
		t.Errorf("no crashed tick (%v) notified: the redelivery after a crash was not tested", crashed)
	}
	var previewDeliveries int
	if err := h.db.QueryRow(`SELECT count(*) FROM deliveries WHERE key LIKE 'pr-1/%'`).Scan(&previewDeliveries); err != nil || previewDeliveries != 0 {
		t.Errorf("the ledger holds %d deliveries of pr-1 (%v), want none", previewDeliveries, err)
	}
	out := h.mustBic(30*time.Second, "alerts", "history", "every_tick", "--env", "pr-1", "-p", dir, "--limit", "0")
	lines := strings.Split(strings.TrimSpace(out), "\n")[1:]
	for _, l := range lines {
		if !strings.Contains(l, "  dry run  ") {
			t.Errorf("bic alerts history --env pr-1: an evaluation that is not a dry run: %s", l)
		}
	}
	if len(lines) < 2 {
		t.Errorf("bic alerts history --env pr-1: want 2 evaluations or more:\n%s", out)
	}
	if n := h.evaluated("prod"); n < len(want) || len(want) < 6 {
		t.Errorf("prod: %d evaluations, %d notified ticks; want at least 6, each notified", n, len(want))
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	})
	t.Logf("prod: %d evaluations, %d notified ticks (%d of them crashed between delivery and ack), %d webhooks, %d emails, %d duplicates; pr-1: %d dry runs; in %s:\n%s",
		h.evaluated("prod"), len(want), crashedSent, len(got), len(mailKeys), dups, h.evaluated("pr-1"), time.Since(started).Round(time.Second), strings.Join(keys, "\n"))
}

// messageID is the Message-ID the email notifier gives a key.
func messageID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "bic." + hex.EncodeToString(sum[:16]) + "@example.com"
}

// sentTicks are the ticks of env's every_tick whose evaluation notifies
// and is not a dry run, oldest first.
func (h *relHarness) sentTicks(env string) []time.Time {
	h.t.Helper()
	rows, err := h.db.Query(`SELECT tick FROM alert_history WHERE env = $1 AND alert = 'every_tick' AND tick IS NOT NULL AND notified AND NOT dry_run ORDER BY tick`, env)
	if err != nil {
		h.t.Fatalf("read alert history: %v", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, t.UTC())
	}
	return out
}

// evaluated counts env's recorded evaluations of every_tick.
func (h *relHarness) evaluated(env string) int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRow(`SELECT count(*) FROM alert_history WHERE env = $1 AND alert = 'every_tick'`, env).Scan(&n); err != nil {
		h.t.Fatalf("count evaluations: %v", err)
	}
	return n
}

// settled: every notified tick of env has both channels' deliveries sent.
func (h *relHarness) settled(env string) bool {
	h.t.Helper()
	want := map[string]bool{}
	for _, tick := range h.sentTicks(env) {
		want[notify.Key(env, notify.KindAlert, "every_tick", tick, notify.StateFiring)] = true
	}
	rows, err := h.db.Query(`SELECT key FROM deliveries WHERE status = 'sent'`)
	if err != nil {
		h.t.Fatalf("read deliveries: %v", err)
	}
	defer rows.Close()
	sent := map[string]int{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			h.t.Fatal(err)
		}
		sent[k]++
	}
	for k := range want {
		if sent[k] != 2 {
			return false
		}
	}
	return true
}

// undoneTick is env's alert tick whose evaluation is recorded but which
// was never marked done (a runner died after handling it, before the ack):
// the latest, when there are several.
func (h *relHarness) undoneTick(env string) (time.Time, bool) {
	h.t.Helper()
	var ticks []time.Time
	rows, err := h.db.Query(`SELECT s.tick FROM schedule_ticks s JOIN alert_history a ON a.env = s.env AND a.alert = s.name AND a.tick = s.tick
		WHERE s.env = $1 AND s.kind = 'alert' AND s.done_at IS NULL`, env)
	if err != nil {
		h.t.Fatalf("read schedule ticks: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			h.t.Fatal(err)
		}
		ticks = append(ticks, t.UTC())
	}
	if len(ticks) == 0 {
		return time.Time{}, false
	}
	sort.Slice(ticks, func(i, j int) bool { return ticks[i].Before(ticks[j]) })
	return ticks[len(ticks)-1], true
}

func (h *relHarness) tickDone(env string, tick time.Time) bool {
	h.t.Helper()
	var done bool
	if err := h.db.QueryRow(`SELECT done_at IS NOT NULL FROM schedule_ticks WHERE env = $1 AND kind = 'alert' AND tick = $2`, env, tick).Scan(&done); err != nil {
		h.t.Fatalf("read tick %s: %v", tick.Format(time.RFC3339), err)
	}
	return done
}
