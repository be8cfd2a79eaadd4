package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook request.
const (
	HeaderIdempotencyKey = "X-Bic-Idempotency-Key"
	HeaderSignature      = "X-Bic-Signature"
	HeaderTimestamp      = "X-Bic-Timestamp"
)

// WebhookVersion is the version of the webhook body; a change that is not
// an added field makes a new version.
const WebhookVersion = 1

// Webhook POSTs a message as JSON to a URL, signed with HMAC-SHA256.
type Webhook struct {
	post      poster
	secret    []byte
	maxInline int
	now       func() time.Time
}

// NewWebhook is a notifier for url (expanded: no ${env:…} left), signing
// with secret: the channel's own (its secret: ${env:NAME}), or else the
// one the binary has for all webhooks (BIC_WEBHOOK_SECRET); with an empty
// secret the requests carry no X-Bic-Signature.
func NewWebhook(url string, secret []byte, o Options) (*Webhook, error) {
	if err := checkHTTPURL("webhook", url); err != nil {
		return nil, err
	}
	if err := o.Retry.Validate(); err != nil {
		return nil, err
	}
	limit := o.MaxInline
	if limit == 0 {
		limit = DefaultMaxInline
	}
	return &Webhook{post: newPoster(TypeWebhook, url, o), secret: secret, maxInline: limit, now: o.now}, nil
}

// WebhookBody is the JSON a webhook receives (version 1).
type WebhookBody struct {
	Version        int           `json:"version"`
	Kind           Kind          `json:"kind"`
	Name           string        `json:"name"`
	Env            string        `json:"env,omitempty"`
	State          State         `json:"state"`
	Title          string        `json:"title"`
	Text           string        `json:"text"`
	Tick           string        `json:"tick,omitempty"` // RFC 3339, UTC
	Value          *float64      `json:"value,omitempty"`
	Previous       *float64      `json:"previous,omitempty"`
	URL            string        `json:"url,omitempty"`
	IdempotencyKey string        `json:"idempotency_key"`
	Images         []WebhookFile `json:"images"`
	Files          []WebhookFile `json:"files"`
}

// WebhookFile is an image or a file in a webhook body: by URL when it has
// one, else inline as base64 when small enough, else listed as omitted.
type WebhookFile struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Size        int    `json:"size"`
	URL         string `json:"url,omitempty"`
	Data        []byte `json:"data_base64,omitempty"`
	Omitted     bool   `json:"omitted,omitempty"`
}

// Body is the webhook body of m.
func (w *Webhook) Body(m Message) WebhookBody {
	b := WebhookBody{
		Version: WebhookVersion, Kind: m.Kind, Name: m.Name, Env: m.Env, State: m.State,
		Title: m.title(), Text: m.Text, Value: finite(m.Value), Previous: finite(m.Previous),
		URL: m.URL, IdempotencyKey: m.IdempotencyKey,
		Images: w.files(m.Images), Files: w.files(m.Files),
	}
	if !m.Tick.IsZero() {
		b.Tick = m.Tick.UTC().Format(time.RFC3339)
	}
	return b
}

func (w *Webhook) files(as []Attachment) []WebhookFile {
	out := make([]WebhookFile, 0, len(as))
	for _, a := range as {
		f := WebhookFile{Name: a.Name, ContentType: a.ContentType, Size: len(a.Data), URL: a.URL}
		if a.URL == "" {
			if w.maxInline >= 0 && len(a.Data) <= w.maxInline {
				f.Data = a.Data
			} else {
				f.Omitted = true
			}
		}
		out = append(out, f)
	}
	return out
}

// finite drops a value JSON cannot carry (NaN, ±Inf).
func finite(v *float64) *float64 {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return nil
	}
	return v
}

// Notify POSTs m, retrying network errors, 5xx and 429.
func (w *Webhook) Notify(ctx context.Context, m Message) error {
	_, err := w.notify(ctx, m)
	return err
}

func (w *Webhook) notify(ctx context.Context, m Message) (int, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	body, err := json.Marshal(w.Body(m))
	if err != nil {
		return 0, fmt.Errorf("notify: encode webhook body: %w", err)
	}
	return w.post.post(ctx, body, func(h http.Header) {
		h.Set(HeaderIdempotencyKey, m.IdempotencyKey)
		ts := strconv.FormatInt(w.now().Unix(), 10)
		h.Set(HeaderTimestamp, ts)
		if len(w.secret) > 0 {
			h.Set(HeaderSignature, Sign(w.secret, ts, body))
		}
	})
}

// Sign is the X-Bic-Signature of a body sent at timestamp (Unix seconds,
// as in X-Bic-Timestamp): "sha256=" and the hex HMAC-SHA256, keyed with
// secret, of the timestamp, a ".", and the body's bytes.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("notify: the signature does not match")
	ErrStale        = errors.New("notify: the timestamp is outside the tolerance")
)

// Verify checks a received webhook request, as a receiver written in Go
// would: the signature over the timestamp and body, and a timestamp
// within tolerance of now (which stops a captured request from being
// replayed later).
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrStale, HeaderTimestamp, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s off by %s", ErrStale, HeaderTimestamp, d.Round(time.Second))
	}
	got := h.Get(HeaderSignature)
	if !strings.HasPrefix(got, "sha256=") || !hmac.Equal([]byte(got), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}
