package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSlackPayload: a real receiver gets Slack's incoming-webhook shape:
// text, channel, and header, section, image (the signed link) and
// context blocks, with mrkdwn's special characters escaped.
func TestSlackPayload(t *testing.T) {
	for _, tc := range []struct {
		name       string
		channel    string
		images     []Attachment
		wantBlocks []string
		wantImage  string
	}{
		{
			name: "image by signed link", channel: "#alerts",
			images:     []Attachment{{Name: "revenue.png", Data: pngBytes, URL: "https://cdn.example.com/revenue.png?sig=abc"}},
			wantBlocks: []string{"header", "section", "image", "context"},
			wantImage:  "https://cdn.example.com/revenue.png?sig=abc",
		},
		{
			name:       "image without a link is left out",
			images:     []Attachment{{Name: "revenue.png", Data: pngBytes}},
			wantBlocks: []string{"header", "section", "context"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t)
			s, err := NewSlack(rc.URL+"/services/T000/B000/XXXX", tc.channel, Options{Retry: fastRetry})
			if err != nil {
				t.Fatal(err)
			}
			m := testMessage("")
			m.Images = tc.images
			if err := s.Notify(context.Background(), m); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			reqs := rc.seen()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if got := reqs[0].header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			var p struct {
				Text    string `json:"text"`
				Channel string `json:"channel"`
				Blocks  []struct {
					Type     string `json:"type"`
					Text     *struct{ Type, Text string }
					ImageURL string `json:"image_url"`
					AltText  string `json:"alt_text"`
				} `json:"blocks"`
			}
			if err := json.Unmarshal(reqs[0].body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Channel != tc.channel {
				t.Errorf("channel = %q, want %q", p.Channel, tc.channel)
			}
			if !strings.Contains(p.Text, "revenue fell 23.4%") {
				t.Errorf("text = %q, want the summary", p.Text)
			}
			var types []string
			for _, b := range p.Blocks {
				types = append(types, b.Type)
				switch b.Type {
				case "header":
					if b.Text == nil || b.Text.Type != "plain_text" || b.Text.Text != m.Title {
						t.Errorf("header = %+v", b.Text)
					}
				case "section":
					if b.Text == nil || b.Text.Type != "mrkdwn" || !strings.Contains(b.Text.Text, "&lt;b&gt;") ||
						!strings.Contains(b.Text.Text, "<"+m.URL+"|Open in bic>") {
						t.Errorf("section = %+v, want the escaped text and the link", b.Text)
					}
				case "image":
					if b.ImageURL != tc.wantImage || b.AltText == "" {
						t.Errorf("image block url %q alt %q, want %q", b.ImageURL, b.AltText, tc.wantImage)
					}
				}
			}
			if d := cmp.Diff(tc.wantBlocks, types); d != "" {
				t.Errorf("blocks (-want +got):\n%s", d)
			}
		})
	}
}

// TestSlackRateLimited: Slack answers 429 with Retry-After; the notifier
// waits that long and sends again.
func TestSlackRateLimited(t *testing.T) {
	rc := newReceiver(t, reply{status: http.StatusTooManyRequests, retryAfter: "1", body: "rate_limited"}, reply{status: 200, body: "ok"})
	s, err := NewSlack(rc.URL+"/services/T/B/X", "", Options{Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Notify(context.Background(), testMessage("")); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	reqs := rc.seen()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap < time.Second {
		t.Errorf("retried after %s, before Retry-After's 1s", gap)
	}
}
