package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/compiler"
)

func outcomes(r Report) []string {
	var out []string
	for _, d := range r.Deliveries {
		out = append(out, d.Outcome.String())
	}
	return out
}

// TestDeliverOnce: a second Deliver of the same key (a redelivered job)
// sends nothing; a new key (the next tick) sends again; the ledger holds
// the outcomes.
func TestDeliverOnce(t *testing.T) {
	hook, slack := newReceiver(t), newReceiver(t)
	cert, pool := selfSigned(t)
	smtpSrv := newSMTPServer(t, &cert)
	smtpCfg := smtpSrv.config(t, pool)
	cfg := Config{Options: Options{Retry: fastRetry}, WebhookSecret: []byte("k"), SMTP: &smtpCfg}
	channels := []Channel{
		{Type: TypeWebhook, URL: hook.URL + "/hook"},
		{Type: TypeSlack, URL: slack.URL + "/services/T/B/X", Channel: "#alerts"},
		{Type: TypeEmail, To: []string{"ops@example.com"}},
	}
	ledger := newMemLedger()
	m := testMessage("")
	counts := func() []int { return []int{len(hook.seen()), len(slack.seen()), len(smtpSrv.received())} }

	rep, err := cfg.Deliver(context.Background(), ledger, channels, m)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if d := cmp.Diff([]string{"sent", "sent", "sent"}, outcomes(rep)); d != "" || rep.Err() != nil {
		t.Fatalf("first delivery (-want +got):\n%s%v", d, rep.Err())
	}
	for _, ch := range channels {
		if d, ok := ledger.get(m.IdempotencyKey, ch.ID()); !ok || d.Outcome != Sent || d.Attempts != 1 {
			t.Errorf("ledger for %s = %+v, %v", ch, d, ok)
		}
	}
	rep, err = cfg.Deliver(context.Background(), ledger, channels, m)
	if err != nil {
		t.Fatalf("second Deliver: %v", err)
	}
	if d := cmp.Diff([]string{"skipped", "skipped", "skipped"}, outcomes(rep)); d != "" {
		t.Errorf("redelivery (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{1, 1, 1}, counts()); d != "" {
		t.Errorf("messages received after a redelivery (-want +got):\n%s", d)
	}
	next := testMessage(Key("prod", KindAlert, "revenue_drop", m.Tick.Add(24*60*60e9), StateFiring))
	if _, err := cfg.Deliver(context.Background(), ledger, channels, next); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int{2, 2, 2}, counts()); d != "" {
		t.Errorf("messages received after the next tick (-want +got):\n%s", d)
	}
}

// TestDeliverFailureIsolated: a receiver that is down, one that refuses,
// and an email channel with no SMTP server fail and are recorded so,
// with their reasons; the working channel is sent all the same; a
// redelivery tries the failed ones again and not the sent one.
func TestDeliverFailureIsolated(t *testing.T) {
	ok, refusing := newReceiver(t), newReceiver(t, reply{status: 400, body: "no_text"})
	cfg := Config{Options: Options{Retry: fastRetry}}
	channels := []Channel{
		{Type: TypeWebhook, URL: "http://" + closedAddr(t) + "/hook"},
		{Type: TypeSlack, URL: refusing.URL + "/services/T/B/X"},
		{Type: TypeEmail, To: []string{"ops@example.com"}},
		{Type: TypeWebhook, URL: ok.URL + "/hook"},
		{Type: TypeWebhook, URL: ok.URL + "/hook"}, // listed twice: sent once
	}
	ledger := newMemLedger()
	m := testMessage("")
	rep, err := cfg.Deliver(context.Background(), ledger, channels, m)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if d := cmp.Diff([]string{"failed", "failed", "failed", "sent", "skipped"}, outcomes(rep)); d != "" {
		t.Fatalf("outcomes (-want +got):\n%s", d)
	}
	for i, want := range []struct {
		attempts, status int
		reason           string
	}{
		{3, 0, "connection refused"},
		{1, 400, `status 400 Bad Request: "no_text"`},
		{0, 0, "BIC_SMTP_URL"},
	} {
		d := rep.Deliveries[i]
		if d.Attempts != want.attempts || d.Status != want.status || !strings.Contains(d.Reason, want.reason) {
			t.Errorf("delivery %d = %+v, want attempts %d status %d reason containing %q", i, d, want.attempts, want.status, want.reason)
		}
		if rec, _ := ledger.get(m.IdempotencyKey, channels[i].ID()); rec.Outcome != Failed || rec.Reason != d.Reason {
			t.Errorf("ledger for %s = %+v, want the failure recorded", channels[i], rec)
		}
	}
	if err := rep.Err(); err == nil || len(rep.Failed()) != 3 {
		t.Errorf("Report.Err = %v, Failed = %d, want three failures", err, len(rep.Failed()))
	}
	if n := len(ok.seen()); n != 1 {
		t.Errorf("the working receiver got %d requests, want 1", n)
	}
	rep, _ = cfg.Deliver(context.Background(), ledger, channels, m)
	if d := cmp.Diff([]string{"failed", "failed", "failed", "skipped", "skipped"}, outcomes(rep)); d != "" {
		t.Errorf("redelivery (-want +got):\n%s", d)
	}
	if n := len(refusing.seen()); n != 2 {
		t.Errorf("the refusing receiver got %d requests, want 2 (tried again on redelivery)", n)
	}
}

// TestDeliverLedgerErrors: without the ledger's answer nothing is sent;
// an outcome that cannot be recorded is an ErrLedger, so that the caller
// does not ack.
func TestDeliverLedgerErrors(t *testing.T) {
	for _, failOn := range []string{"begin", "done"} {
		t.Run(failOn, func(t *testing.T) {
			rc := newReceiver(t)
			ledger := newMemLedger()
			ledger.failOn = failOn
			cfg := Config{Options: Options{Retry: fastRetry}}
			_, err := cfg.Deliver(context.Background(), ledger, []Channel{{Type: TypeWebhook, URL: rc.URL}}, testMessage(""))
			if !errors.Is(err, ErrLedger) || !errors.Is(err, errLedgerDown) {
				t.Errorf("Deliver = %v, want ErrLedger wrapping the ledger's error", err)
			}
			want := map[string]int{"begin": 0, "done": 1}[failOn]
			if n := len(rc.seen()); n != want {
				t.Errorf("%d requests, want %d", n, want)
			}
		})
	}
}

// TestDeliverRedactsSecrets: a webhook URL with a token in its path,
// query and userinfo (from ${env:…}), a Slack webhook URL (whose path is
// its secret) that echoes the request, and an SMTP password: no report,
// ledger record, channel ID or description holds them.
func TestDeliverRedactsSecrets(t *testing.T) {
	const token, slackSecret = "tok-3f9a8b7c6d5e", "B0123/SLACKSECRET42"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("cannot post to " + r.URL.String()))
	}))
	defer echo.Close()
	env := map[string]string{"HOOK_TOKEN": token, "SLACK_URL": echo.URL + "/services/T0/" + slackSecret}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	down := closedAddr(t)
	var channels []Channel
	for _, n := range []compiler.Notify{
		{Type: TypeWebhook, URL: "http://bic:${env:HOOK_TOKEN}@" + down + "/hooks/${env:HOOK_TOKEN}?token=${env:HOOK_TOKEN}"},
		{Type: TypeWebhook, URL: echo.URL + "/hooks/${env:HOOK_TOKEN}"},
		{Type: TypeSlack, WebhookURL: "${env:SLACK_URL}", Channel: "#alerts"},
		{Type: TypeEmail, To: []string{"ops@example.com"}},
	} {
		ch, err := ChannelFromNotify(n, lookup)
		if err != nil {
			t.Fatal(err)
		}
		channels = append(channels, ch)
	}
	cert, pool := selfSigned(t)
	srv := newSMTPServer(t, &cert)
	smtpCfg := srv.config(t, pool)
	smtpCfg.Password = "wrong-" + token
	cfg := Config{Options: Options{Retry: fastRetry}, SMTP: &smtpCfg}
	ledger := newMemLedger()
	rep, err := cfg.Deliver(context.Background(), ledger, channels, testMessage(""))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{token, slackSecret, "SLACKSECRET42"}
	texts := []string{rep.Err().Error()}
	for i, d := range rep.Deliveries {
		if d.Outcome != Failed {
			t.Errorf("delivery %d: %s, want failed", i, d.Outcome)
		}
		rec, _ := ledger.get(rep.Key, d.Channel)
		texts = append(texts, d.Reason, d.Channel, rec.Reason, channels[i].String(), channels[i].ID())
	}
	assertNoSecret(t, secrets, texts...)
}

func TestChannelFromNotify(t *testing.T) {
	lookup := func(k string) (string, bool) { return map[string]string{"PASS": "p@ss word"}[k], k == "PASS" }
	ch, err := ChannelFromNotify(compiler.Notify{Type: TypeWebhook, URL: "https://bic:${env:PASS}@hooks.example.com/x"}, lookup)
	if err != nil || ch.URL != "https://bic:p%40ss%20word@hooks.example.com/x" {
		t.Errorf("ChannelFromNotify = %+v, %v", ch, err)
	}
	_, err = ChannelFromNotify(compiler.Notify{Type: TypeSlack, WebhookURL: "${env:SLACK_HOOK}"}, lookup)
	if !errors.Is(err, ErrMissingEnv) || !strings.Contains(err.Error(), "SLACK_HOOK") {
		t.Errorf("missing variable: %v, want ErrMissingEnv naming SLACK_HOOK", err)
	}
	a, _ := ChannelFromNotify(compiler.Notify{Type: TypeWebhook, URL: "https://hooks.example.com/a"}, nil)
	again, _ := ChannelFromNotify(compiler.Notify{Type: TypeWebhook, URL: "https://hooks.example.com/a"}, nil)
	b, _ := ChannelFromNotify(compiler.Notify{Type: TypeWebhook, URL: "https://hooks.example.com/b"}, nil)
	if a.ID() == b.ID() || a.ID() != again.ID() || !strings.HasPrefix(a.ID(), "webhook:hooks.example.com:") {
		t.Errorf("IDs %q and %q: want stable, distinct, named by host", a.ID(), b.ID())
	}
}

// TestWebhookOwnSecret: a webhook with a secret of its own is signed with
// it, one without with the binary's key for all webhooks; a secret whose
// variable is not set is an error, never an unsigned request; neither the
// channel's ID nor its description holds the key.
func TestWebhookOwnSecret(t *testing.T) {
	rc := newReceiver(t)
	env := map[string]string{"HOOK_KEY": "the-channel's-own-key"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	shared := []byte("the-key-of-every-webhook")
	cfg := Config{Options: Options{Retry: fastRetry}, WebhookSecret: shared}
	for _, tc := range []struct {
		name   string
		notify compiler.Notify
		key    []byte // the key the request is signed with; nil: none is sent
	}{
		{"its own", compiler.Notify{Type: TypeWebhook, URL: rc.URL + "/own", Secret: "${env:HOOK_KEY}"}, []byte(env["HOOK_KEY"])},
		{"every webhook's", compiler.Notify{Type: TypeWebhook, URL: rc.URL + "/shared"}, shared},
		{"its own, unset", compiler.Notify{Type: TypeWebhook, URL: rc.URL + "/unset", Secret: "${env:NO_SUCH_KEY}"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rc.seen())
			ch, err := ChannelFromNotify(tc.notify, lookup)
			if tc.key == nil {
				if !errors.Is(err, ErrMissingEnv) || !strings.Contains(err.Error(), "NO_SUCH_KEY") {
					t.Fatalf("ChannelFromNotify = %v, want ErrMissingEnv naming NO_SUCH_KEY", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertNoSecret(t, []string{env["HOOK_KEY"]}, ch.ID(), ch.String())
			n, err := cfg.Notifier(ch)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Notify(context.Background(), testMessage("")); err != nil {
				t.Fatal(err)
			}
			reqs := rc.seen()
			if len(reqs) != before+1 {
				t.Fatalf("%d requests, want %d", len(reqs), before+1)
			}
			r := reqs[len(reqs)-1]
			if err := Verify(tc.key, r.header, r.body, time.Now(), 5*time.Minute); err != nil {
				t.Errorf("signed with another key than %q: %v", tc.key, err)
			}
		})
	}
}
