package runner_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/runner"
	"github.com/bic-dev/bic/runner/notify"
	"github.com/bic-dev/bic/runner/render"
	"github.com/bic-dev/bic/runner/schedule"
	"github.com/bic-dev/bic/runner/servicetest"
	"github.com/bic-dev/bic/server"
)

// webhookBody is what the tests read of a webhook delivery.
type webhookBody struct {
	Kind           string   `json:"kind"`
	Name           string   `json:"name"`
	State          string   `json:"state"`
	Text           string   `json:"text"`
	Value          *float64 `json:"value"`
	IdempotencyKey string   `json:"idempotency_key"`
	Images         []struct {
		Name string `json:"name"`
		Data string `json:"data_base64"`
		URL  string `json:"url"`
	} `json:"images"`
	Files []struct {
		Name string `json:"name"`
		Data string `json:"data_base64"`
	} `json:"files"`
}

// receiver is a webhook receiver on loopback that keeps what it got.
func receiver(t *testing.T) (*httptest.Server, func() []webhookBody) {
	var mu sync.Mutex
	var got []webhookBody
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body webhookBody
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		got = append(got, body)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []webhookBody { mu.Lock(); defer mu.Unlock(); return append([]webhookBody(nil), got...) }
}

// fetch GETs url and returns its body, failing unless it is 200.
func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// slackMessage is what the tests read of a Slack incoming-webhook post.
type slackMessage struct {
	Blocks []struct {
		Type     string `json:"type"`
		ImageURL string `json:"image_url"`
	} `json:"blocks"`
	raw []byte
}

// slackReceiver is a Slack incoming webhook on loopback.
func slackReceiver(t *testing.T) (*httptest.Server, func() []slackMessage) {
	var mu sync.Mutex
	var got []slackMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		m := slackMessage{raw: b}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("Slack body: %v", err)
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, func() []slackMessage { mu.Lock(); defer mu.Unlock(); return append([]slackMessage(nil), got...) }
}

// tick claims and enqueues a schedule tick as the scheduler does.
func (e *engine) tick(t *testing.T, kind, name string, rev int, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.store.ClaimTick(ctx, metadata.Tick{Env: "prod", Kind: kind, Name: name, Tick: at, Revision: rev}); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(schedule.Message{Env: "prod", Kind: kind, Name: name, Revision: rev, Tick: at})
	if _, err := e.queue.Publish(ctx, schedule.MsgID("prod", kind, name, at), kind, b); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEngineScheduleTicks: a report's tick delivers its dashboard drawn
// in Chromium and its charts' CSV files to a real webhook receiver; an
// alert's tick evaluates its metric on the warehouse, fires, notifies
// once with its chart's picture, and the same tick delivered again sends
// nothing more.
func TestEngineScheduleTicks(t *testing.T) {
	t.Setenv("BIC_CHROME", servicetest.Chrome(t))
	srv, got := receiver(t)
	slack, slackGot := slackReceiver(t)
	e := newEngine(t)
	// The public server that the alert's Slack message links its picture
	// on: bic serve's handler on the same storage, with the same secret.
	secret := []byte("the runners' and servers' link secret")
	public := httptest.NewServer(server.New(server.Options{Storage: e.storage, ImageSecret: secret}))
	t.Cleanup(public.Close)
	rend, err := render.New(context.Background(), render.Options{Storage: e.storage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rend.Close() })
	dir := engineDir(t, map[string]string{
		"orders.csv":           "country,channel,amount,ordered_at\nDE,web,10,2026-03-01 10:00:00\nDE,app,5,2026-03-01 11:00:00\nFR,web,7,2026-03-01 12:00:00\nUS,web,3,2026-02-28 09:00:00\n",
		"datasets/orders.yaml": strings.Replace(engineDataset, "  channel: {type: string}\n", "  channel: {type: string}\n  ordered_at: {type: time}\n", 1),
		"reports/daily.yaml":   "report: daily\ndashboard: sales\nschedule: \"0 7 * * *\"\nformat: both\nnotify:\n  - {type: webhook, url: \"" + srv.URL + "/report\"}\n",
		"alerts/busy.yaml":     "alert: busy\ndataset: orders\nmetric: orders\nperiod: day\ncondition: {op: \">\", value: 2}\nschedule: \"0 7 * * *\"\nimage: sales/by_country\nnotify:\n  - {type: webhook, url: \"" + srv.URL + "/alert\"}\n  - {type: slack, webhook_url: \"" + slack.URL + "/hook\"}\n",
	})
	e.worker(t, dir, "w1", func(w *runner.Worker) {
		w.Renderer = rend
		w.Notify = &notify.Config{Options: notify.Options{MaxInline: 16 << 20}, PublicURL: public.URL, LinkSecret: secret}
	})
	rev := e.apply(t, dir, "prod", "")
	e.waitFor(t, "prod", rev)

	at := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	e.tick(t, schedule.KindReport, "daily", rev, at)
	waitFor(t, "the report", func() bool { return len(got()) >= 1 })
	r := got()[0]
	if r.Kind != "report" || r.Name != "daily" || len(r.Images) != 1 || len(r.Files) != 3 {
		t.Fatalf("the report delivered kind %s name %s with %d images and %d files, want report daily with 1 picture and 3 CSVs", r.Kind, r.Name, len(r.Images), len(r.Files))
	}
	// With a public URL and a link secret, a webhook gets the picture as
	// a signed link rather than inline.
	if r.Images[0].Data != "" || !strings.HasPrefix(r.Images[0].URL, public.URL+"/images/") {
		t.Fatalf("the report's picture: inline %d bytes, link %q; want a link on %s", len(r.Images[0].Data), r.Images[0].URL, public.URL)
	}
	img, err := png.Decode(bytes.NewReader(fetch(t, r.Images[0].URL)))
	if err != nil || img.Bounds().Dx() != 1200 {
		t.Fatalf("the report's picture: %v, want a PNG 1200 wide", err)
	}
	for _, f := range r.Files {
		csv, _ := base64.StdEncoding.DecodeString(f.Data)
		if !strings.HasSuffix(f.Name, ".csv") || !bytes.Contains(csv, []byte("\n")) {
			t.Errorf("the report's file %s: %q", f.Name, csv)
		}
	}

	// The alert's day is 1 March: three orders, more than two.
	e.tick(t, schedule.KindAlert, "busy", rev, at)
	waitFor(t, "the alert", func() bool { return len(got()) >= 2 })
	a := got()[1]
	if a.Kind != "alert" || a.State != "firing" || a.Value == nil || *a.Value != 3 || len(a.Images) != 1 {
		t.Fatalf("the alert delivered %+v, want busy firing with value 3 and its chart's picture", a)
	}
	if !strings.HasPrefix(a.IdempotencyKey, "prod/alert/busy/2026-03-02T07:00:00Z/") {
		t.Errorf("idempotency key %q", a.IdempotencyKey)
	}
	// Slack got the picture as a signed link to the public server, which
	// serves that PNG, and the dashboard's link.
	waitFor(t, "the Slack message", func() bool { return len(slackGot()) >= 1 })
	sm := slackGot()[0]
	var imageURL string
	for _, b := range sm.Blocks {
		if b.Type == "image" {
			imageURL = b.ImageURL
		}
	}
	if !strings.HasPrefix(imageURL, public.URL+"/images/") {
		t.Fatalf("the Slack message's blocks %+v have no image linked on %s", sm.Blocks, public.URL)
	}
	if _, err := png.Decode(bytes.NewReader(fetch(t, imageURL))); err != nil {
		t.Errorf("the picture's link serves no PNG: %v", err)
	}
	if tampered, _ := http.Get(strings.Replace(imageURL, "exp=", "exp=1", 1)); tampered.StatusCode != 404 {
		t.Errorf("a tampered link: %d, want 404", tampered.StatusCode)
	}
	if !strings.Contains(string(sm.raw), public.URL+"/e/prod/d/sales") {
		t.Errorf("the Slack message does not link the dashboard: %s", sm.raw)
	}
	hist, err := e.store.AlertHistory(context.Background(), "prod", "busy", 10)
	if err != nil || len(hist) != 1 || hist[0].State != "firing" || !hist[0].Notify {
		t.Errorf("alert history %+v (%v), want one firing evaluation that notified", hist, err)
	}
	// The same tick once more (a redelivery): done, nothing sent.
	b, _ := json.Marshal(schedule.Message{Env: "prod", Kind: schedule.KindAlert, Name: "busy", Revision: rev, Tick: at})
	if _, err := e.queue.Publish(context.Background(), "again", schedule.KindAlert, b); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if n := len(got()); n != 2 {
		t.Errorf("%d deliveries after the tick came again, want still 2", n)
	}
}

// TestEngineRefreshTick: a dataset's refresh tick publishes a new release
// of the live revision, whose charts of that dataset were computed again
// after the tick; the revision stays the same.
func TestEngineRefreshTick(t *testing.T) {
	e := newEngine(t)
	dir := engineDir(t, map[string]string{"datasets/orders.yaml": engineDataset + "refresh: \"0 6 * * *\"\n"})
	var mu sync.Mutex
	clock := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	e.worker(t, dir, "w1", func(w *runner.Worker) { w.Now = now })
	rev := e.apply(t, dir, "prod", "")
	e.waitFor(t, "prod", rev)
	before := e.current(t, "prod")

	mu.Lock()
	clock = time.Date(2026, 3, 2, 6, 0, 5, 0, time.UTC)
	mu.Unlock()
	e.tick(t, schedule.KindRefresh, "orders", rev, time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC))
	waitFor(t, "a new release", func() bool { return e.current(t, "prod").PublishedAt.After(before.PublishedAt) })
	after := e.current(t, "prod")
	if after.Revision != rev {
		t.Errorf("the refresh published revision %d, want the live %d", after.Revision, rev)
	}
	c, old := after.Charts["sales/total"], before.Charts["sales/total"]
	if d := c.States[c.Default]; !d.ComputedAt.After(old.States[old.Default].ComputedAt) || d.InputKey != old.States[old.Default].InputKey {
		t.Errorf("sales/total after the refresh: computed %v (key %s), before %v (key %s); want the same key computed again", d.ComputedAt, d.InputKey[:8], old.States[old.Default].ComputedAt, old.States[old.Default].InputKey[:8])
	}
}
