package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// reply is what a test receiver answers to one request.
type reply struct {
	status     int
	retryAfter string
	body       string
}

// request is what a test receiver saw.
type request struct {
	at     time.Time
	header http.Header
	body   []byte
	path   string
}

// receiver is a real HTTP server on loopback that answers from a script
// (the last reply repeats) and records every request.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	script   []reply
	requests []request
}

func newReceiver(t *testing.T, script ...reply) *receiver {
	t.Helper()
	rc := &receiver{script: script}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.requests)
		rc.requests = append(rc.requests, request{at: time.Now(), header: r.Header.Clone(), body: body, path: r.URL.RequestURI()})
		rp := reply{status: http.StatusOK, body: "ok"}
		if len(rc.script) > 0 {
			rp = rc.script[min(n, len(rc.script)-1)]
		}
		rc.mu.Unlock()
		if rp.retryAfter != "" {
			w.Header().Set("Retry-After", rp.retryAfter)
		}
		w.WriteHeader(rp.status)
		io.WriteString(w, rp.body)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) seen() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.requests...)
}

// TestWebhookSignedBody: the receiver checks the documented signature
// (HMAC-SHA256 of "<timestamp>.<body>", computed here by hand), the
// timestamp, the idempotency header, and the versioned body: images by
// URL, inline base64 only without a URL and under the bound.
func TestWebhookSignedBody(t *testing.T) {
	secret := []byte("webhook-signing-key")
	rc := newReceiver(t)
	now := time.Now()
	w, err := NewWebhook(rc.URL+"/hook", secret, Options{Retry: fastRetry, MaxInline: 64, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("")
	m.Images = append(m.Images,
		Attachment{Name: "small.png", ContentType: "image/png", Data: []byte("tiny")},
		Attachment{Name: "big.png", ContentType: "image/png", Data: make([]byte, 65)})
	if err := w.Notify(context.Background(), m); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	reqs := rc.seen()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	ts := r.header.Get("X-Bic-Timestamp")
	if ts != strconv.FormatInt(now.Unix(), 10) {
		t.Errorf("X-Bic-Timestamp = %q, want %d", ts, now.Unix())
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "." + string(r.body)))
	if got, want := r.header.Get("X-Bic-Signature"), "sha256="+hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("X-Bic-Signature = %q, want %q", got, want)
	}
	if err := Verify(secret, r.header, r.body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := Verify([]byte("another key"), r.header, r.body, time.Now(), 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify with another key = %v, want ErrBadSignature", err)
	}
	if err := Verify(secret, r.header, r.body, now.Add(10*time.Minute), 5*time.Minute); !errors.Is(err, ErrStale) {
		t.Errorf("Verify ten minutes later = %v, want ErrStale (a replay)", err)
	}
	tampered := append([]byte(nil), r.body...)
	tampered[len(tampered)-2] = ' '
	if err := Verify(secret, r.header, tampered, time.Now(), 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify of a changed body = %v, want ErrBadSignature", err)
	}
	for h, want := range map[string]string{
		"Content-Type":          "application/json",
		"X-Bic-Idempotency-Key": m.IdempotencyKey,
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"version": 1.0, "kind": "alert", "name": "revenue_drop", "env": "prod", "state": "firing",
		"title": m.Title, "text": m.Text, "tick": "2026-11-30T09:00:00Z", "value": 10234.0, "previous": 13360.0,
		"url": m.URL, "idempotency_key": m.IdempotencyKey,
		"images": []any{
			map[string]any{"name": "revenue.png", "content_type": "image/png", "size": float64(len(pngBytes)), "url": "https://cdn.example.com/revenue.png?sig=abc"},
			map[string]any{"name": "small.png", "content_type": "image/png", "size": 4.0, "data_base64": "dGlueQ=="},
			map[string]any{"name": "big.png", "content_type": "image/png", "size": 65.0, "omitted": true},
		},
		"files": []any{
			map[string]any{"name": "revenue.csv", "content_type": "text/csv", "size": 30.0, "data_base64": "d2VlayxyZXZlbnVlCjIwMjYtMTEtMjMsMTAyMzQK"},
		},
	}
	if d := cmp.Diff(want, body); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}
}

// TestWebhookRetries: 5xx and 429 are retried with backoff (Retry-After
// honoured), other 4xx are not, and every failure says how many attempts
// it took and what the receiver answered.
func TestWebhookRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		script    []reply
		retry     Retry
		wantErr   string // "" for delivered
		wantReqs  int
		minGap    time.Duration // between consecutive requests
		permanent bool
		status    int
	}{
		{
			name:     "503 twice then accepted",
			script:   []reply{{status: 503, body: "down"}, {status: 503, body: "down"}, {status: 204}},
			retry:    fastRetry,
			wantReqs: 3,
			minGap:   fastRetry.Initial / 2,
		},
		{
			name:     "429 with Retry-After",
			script:   []reply{{status: 429, retryAfter: "1", body: "rate_limited"}, {status: 200}},
			retry:    fastRetry,
			wantReqs: 2,
			minGap:   time.Second,
		},
		{
			name:      "400 is not retried",
			script:    []reply{{status: 400, body: "invalid_payload\n<script>" + strings.Repeat("x", 300)}},
			retry:     fastRetry,
			wantReqs:  1,
			wantErr:   `status 400 Bad Request: "invalid_payload\n<script>xxx`,
			permanent: true,
			status:    400,
		},
		{
			name:     "500 every time",
			script:   []reply{{status: 500, body: "boom"}},
			retry:    fastRetry,
			wantReqs: 3,
			wantErr:  `3 attempts: status 500 Internal Server Error: "boom"`,
			status:   500,
		},
		{
			name:     "Retry-After beyond the limit",
			script:   []reply{{status: 429, retryAfter: "3600"}},
			retry:    fastRetry,
			wantReqs: 1,
			wantErr:  "asked to retry after 1h0m0s, more than the limit",
			status:   429,
		},
		{
			name:     "redirect is not followed",
			script:   []reply{{status: 307}},
			retry:    fastRetry,
			wantReqs: 1,
			wantErr:  "status 307",
			status:   307, permanent: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, tc.script...)
			w, err := NewWebhook(rc.URL, []byte("k"), Options{Retry: tc.retry})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Notify(context.Background(), testMessage(""))
			reqs := rc.seen()
			if len(reqs) != tc.wantReqs {
				t.Errorf("%d requests, want %d", len(reqs), tc.wantReqs)
			}
			for i := 1; i < len(reqs); i++ {
				if gap := reqs[i].at.Sub(reqs[i-1].at); gap < tc.minGap {
					t.Errorf("request %d came %s after the previous, want at least %s", i+1, gap, tc.minGap)
				}
				if reqs[i].header.Get(HeaderIdempotencyKey) != reqs[0].header.Get(HeaderIdempotencyKey) {
					t.Errorf("the idempotency key changed between attempts")
				}
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Notify: %v", err)
				}
				return
			}
			var ne *Error
			if !errors.As(err, &ne) {
				t.Fatalf("Notify = %v, want an *Error", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			if ne.Attempts != tc.wantReqs || ne.Status != tc.status || ne.Permanent != tc.permanent {
				t.Errorf("attempts %d status %d permanent %v, want %d %d %v", ne.Attempts, ne.Status, ne.Permanent, tc.wantReqs, tc.status, tc.permanent)
			}
			t.Logf("error: %v", err)
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long: the body excerpt is not bounded", len(err.Error()))
			}
		})
	}
}

// TestWebhookReceiverDown: nothing listens; the notifier retries and then
// fails within its bounds, and says so.
func TestWebhookReceiverDown(t *testing.T) {
	w, err := NewWebhook("http://"+closedAddr(t)+"/hook", nil, Options{Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = w.Notify(context.Background(), testMessage(""))
	elapsed := time.Since(start)
	var ne *Error
	if !errors.As(err, &ne) {
		t.Fatalf("Notify = %v, want an *Error", err)
	}
	if ne.Attempts != 3 || ne.Permanent || ne.Status != 0 {
		t.Errorf("attempts %d permanent %v status %d, want 3 false 0", ne.Attempts, ne.Permanent, ne.Status)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q does not say the connection was refused", err)
	}
	if elapsed < fastRetry.Initial/2+fastRetry.Initial || elapsed > fastRetry.Total {
		t.Errorf("took %s: no backoff, or beyond the total bound %s", elapsed, fastRetry.Total)
	}
}

// TestWebhookSlowReceiver: an attempt that outlives PerAttempt is cut and
// retried, and the whole delivery stops at Total.
func TestWebhookSlowReceiver(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // the server notices a client gone only once the body is read
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	r := Retry{Attempts: 10, Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Total: 2 * time.Second, PerAttempt: 100 * time.Millisecond}
	w, err := NewWebhook(srv.URL, nil, Options{Retry: r})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = w.Notify(context.Background(), testMessage(""))
	if err == nil {
		t.Fatal("Notify to a receiver that never answers succeeded")
	}
	if d := time.Since(start); d > r.Total+time.Second {
		t.Errorf("took %s, beyond the total bound %s", d, r.Total)
	}
	var ne *Error
	if !errors.As(err, &ne) || ne.Attempts < 2 {
		t.Errorf("Notify = %v, want an *Error after several attempts", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"-3", 0}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := retryAfter(tc.in, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestBackoff: each wait is within [d/2, d] of Initial·2^(n-1), and never
// beyond Max.
func TestBackoff(t *testing.T) {
	r := Retry{Initial: 100 * time.Millisecond, Max: time.Second}.withDefaults()
	for n := 1; n <= 8; n++ {
		d := min(r.Initial<<(n-1), r.Max)
		for range 50 {
			if got := r.backoff(n); got < d/2 || got > d {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, got, d/2, d)
			}
		}
	}
}
