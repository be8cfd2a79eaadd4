package notify

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/bic-dev/bic/compiler"
)

// The channel types of the language (#Notify's type).
const (
	TypeWebhook = "webhook"
	TypeSlack   = "slack"
	TypeEmail   = "email"
)

// Channel is one place a notification goes, with its secrets expanded:
// a #Notify of an alert or a report, ready to build a notifier from.
type Channel struct {
	Type    string   // webhook, slack or email
	URL     string   // the webhook's url or Slack's webhook_url, expanded: it may hold secrets
	Channel string   // Slack: the channel, optional
	To      []string // email: the recipients
	Subject string   // email: the subject line, optional
	// Secret is a webhook's own signing key, expanded; empty: the one of
	// every webhook (Config.WebhookSecret). It is in neither ID nor
	// String: a new key is the same receiver, and keys are not shown.
	Secret []byte
}

// ErrMissingEnv marks a channel whose ${env:NAME} is not set.
var ErrMissingEnv = errors.New("notify: an environment variable is not set")

// ChannelFromNotify expands a compiled #Notify's ${env:NAME} references
// with lookup (os.LookupEnv in the binary).
func ChannelFromNotify(n compiler.Notify, lookup func(name string) (string, bool)) (Channel, error) {
	c := Channel{Type: n.Type, Channel: n.Channel, To: slices.Clone(n.To), Subject: n.Subject}
	var tmpl, field string
	switch n.Type {
	case TypeWebhook:
		tmpl, field = n.URL, "url"
	case TypeSlack:
		tmpl, field = n.WebhookURL, "webhook_url"
	case TypeEmail:
		return c, nil
	default:
		return Channel{}, fmt.Errorf("notify: unknown channel type %q", n.Type)
	}
	out, missing := compiler.ExpandURL(tmpl, lookup)
	if missing != "" {
		return Channel{}, fmt.Errorf("%w: %s %s needs ${env:%s}", ErrMissingEnv, n.Type, field, missing)
	}
	c.URL = out
	if n.Secret != "" {
		key, missing := compiler.ExpandEnv(n.Secret, lookup)
		if missing != "" || key == "" {
			// An unset key must not leave the requests unsigned.
			return Channel{}, fmt.Errorf("%w: webhook secret needs ${env:%s}", ErrMissingEnv, cmp.Or(missing, strings.Join(compiler.EnvRefs(n.Secret), ",")))
		}
		c.Secret = []byte(key)
	}
	return c, nil
}

// ID names the channel in the ledger, stably and without its secrets: the
// type, the host or the recipients, and a hash of everything that makes
// it (a changed URL is a new channel, which has received nothing yet).
func (c Channel) ID() string {
	h := sha256.New()
	for _, s := range append([]string{c.Type, c.URL, c.Channel, c.Subject}, c.To...) {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	sum := hex.EncodeToString(h.Sum(nil)[:8])
	switch c.Type {
	case TypeEmail:
		return "email:" + strings.Join(c.To, ",") + ":" + sum
	default:
		host := "?"
		if u, err := url.Parse(c.URL); err == nil && u.Host != "" {
			host = u.Hostname()
		}
		if c.Channel != "" {
			host += c.Channel
		}
		return c.Type + ":" + host + ":" + sum
	}
}

// String describes the channel for messages, without its secrets.
func (c Channel) String() string {
	switch c.Type {
	case TypeEmail:
		return "email " + strings.Join(c.To, ", ")
	case TypeSlack:
		s := "slack " + describeURL(c.URL)
		if c.Channel != "" {
			s += " " + c.Channel
		}
		return s
	default:
		return c.Type + " " + describeURL(c.URL)
	}
}
