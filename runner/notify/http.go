package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// Options are what every notifier shares. The zero value works: a fresh
// HTTP client, the default retries, the clock.
type Options struct {
	// HTTPClient sends webhook and Slack requests. Its redirects are never
	// followed (a redirect could carry the signed body elsewhere): a 3xx
	// fails the delivery.
	HTTPClient *http.Client
	Retry      Retry
	// MaxInline is the size up to which an attachment without a URL is put
	// in a webhook body as base64; larger ones are listed without their
	// bytes. 0 means DefaultMaxInline; negative, never.
	MaxInline int
	// Now is the clock for signatures and dates; nil is time.Now.
	Now func() time.Time
}

// DefaultMaxInline bounds the bytes of an attachment inlined in a webhook body.
const DefaultMaxInline = 256 << 10

const (
	userAgent = "bic-notify/1"
	// maxExcerpt is how much of a refusing receiver's body an error quotes.
	maxExcerpt = 200
	// maxDrain is how much of a response is read so that the connection
	// can be reused; the rest is dropped with the connection.
	maxDrain = 64 << 10
)

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// client is o's HTTP client with redirects turned off.
func (o Options) client() *http.Client {
	c := &http.Client{}
	if o.HTTPClient != nil {
		*c = *o.HTTPClient
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// checkHTTPURL accepts an absolute http or https URL, naming it without
// its secrets when it does not.
func checkHTTPURL(what, raw string) error {
	if raw == "" {
		return fmt.Errorf("notify: %s: no url", what)
	}
	if strings.Contains(raw, "${env:") {
		return fmt.Errorf("notify: %s %s: an ${env:…} reference is not expanded", what, describeURL(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("notify: %s: %q is not an http or https URL", what, compiler.RedactURL(describeURL(raw)))
	}
	return nil
}

// poster POSTs one JSON body to one URL with retries.
type poster struct {
	url     string
	desc    string   // the URL without secrets, for messages
	secrets []string // what to hide from errors
	client  *http.Client
	retry   Retry
}

func newPoster(kind, raw string, o Options) poster {
	return poster{url: raw, desc: kind + " " + describeURL(raw), secrets: urlSecrets(raw), client: o.client(), retry: o.Retry}
}

// post sends body, calling header before each attempt (a signature is
// made per attempt, with a fresh timestamp).
func (p poster) post(ctx context.Context, body []byte, header func(http.Header)) (int, error) {
	n, res := p.retry.run(ctx, func(ctx context.Context) result {
		return p.once(ctx, body, header)
	})
	if res.err == nil {
		return n, nil
	}
	return n, &Error{Channel: p.desc, Attempts: n, Status: res.status, Permanent: !res.retryable, Err: res.err}
}

func (p poster) once(ctx context.Context, body []byte, header func(http.Header)) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return result{err: p.redact(fmt.Errorf("build request: %w", unwrapURLError(err)))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	header(req.Header)
	resp, err := p.client.Do(req)
	if err != nil {
		// A network error or a timeout: the receiver may be back soon.
		return result{retryable: true, err: p.redact(fmt.Errorf("post: %w", unwrapURLError(err)))}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt+1))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return result{status: resp.StatusCode}
	}
	msg := "status " + resp.Status
	if len(bytes.TrimSpace(head)) > 0 {
		msg += ": " + excerpt(head, maxExcerpt, p.secrets)
	}
	res := result{status: resp.StatusCode, err: p.redact(errors.New(msg))}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		res.retryable = true
		res.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return res
}

func (p poster) redact(err error) error {
	return compiler.RedactError(err, p.secrets...)
}

// unwrapURLError drops the *url.Error around a client error: it names the
// whole URL, secrets and all.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryAfter reads a Retry-After header: seconds or an HTTP date. It is 0
// when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
