package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Slack posts a message to a Slack incoming webhook.
type Slack struct {
	post    poster
	channel string
}

// NewSlack is a notifier for a Slack incoming webhook (expanded); channel
// is optional ("#alerts"), for webhooks that may post elsewhere than
// their default channel.
func NewSlack(webhookURL, channel string, o Options) (*Slack, error) {
	if err := checkHTTPURL("slack", webhookURL); err != nil {
		return nil, err
	}
	if err := o.Retry.Validate(); err != nil {
		return nil, err
	}
	return &Slack{post: newPoster(TypeSlack, webhookURL, o), channel: channel}, nil
}

// SlackPayload is what a Slack incoming webhook receives.
type SlackPayload struct {
	Text    string       `json:"text"` // the notification's fallback text
	Channel string       `json:"channel,omitempty"`
	Blocks  []SlackBlock `json:"blocks"`
}

// SlackBlock is a Block Kit block: header, section, image or context.
type SlackBlock struct {
	Type     string       `json:"type"`
	Text     *SlackText   `json:"text,omitempty"`
	ImageURL string       `json:"image_url,omitempty"`
	AltText  string       `json:"alt_text,omitempty"`
	Title    *SlackText   `json:"title,omitempty"`
	Elements []*SlackText `json:"elements,omitempty"`
}

// SlackText is a Block Kit text object.
type SlackText struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

// Slack's limits on block texts.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackAltMax     = 2000
)

// Payload is the Slack payload of m: a header with the title, a section
// with the text and the link, an image block per image that has a signed
// link (Slack fetches images by URL; bytes cannot be posted to a webhook),
// and a context line with the environment and the tick.
func (s *Slack) Payload(m Message) SlackPayload {
	title := m.title()
	section := slackEscape(m.Text)
	if section == "" {
		section = slackEscape(title)
	}
	if m.URL != "" {
		section += fmt.Sprintf("\n<%s|Open in bic>", slackEscape(m.URL))
	}
	p := SlackPayload{
		Text:    truncate(title+": "+m.Text, slackSectionMax),
		Channel: s.channel,
		Blocks: []SlackBlock{
			{Type: "header", Text: &SlackText{Type: "plain_text", Text: truncate(title, slackHeaderMax)}},
			{Type: "section", Text: &SlackText{Type: "mrkdwn", Text: truncate(section, slackSectionMax)}},
		},
	}
	if m.Text == "" {
		p.Text = truncate(title, slackSectionMax)
	}
	for _, img := range m.Images {
		if img.URL == "" {
			continue
		}
		p.Blocks = append(p.Blocks, SlackBlock{
			Type: "image", ImageURL: img.URL, AltText: truncate(title, slackAltMax),
			Title: &SlackText{Type: "plain_text", Text: truncate(img.Name, slackHeaderMax)},
		})
	}
	var ctx []string
	if m.Env != "" {
		ctx = append(ctx, "env "+m.Env)
	}
	if !m.Tick.IsZero() {
		ctx = append(ctx, m.Tick.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if len(ctx) > 0 {
		p.Blocks = append(p.Blocks, SlackBlock{Type: "context", Elements: []*SlackText{{Type: "mrkdwn", Text: slackEscape(strings.Join(ctx, " · "))}}})
	}
	return p
}

// Notify posts m, retrying network errors, 5xx and 429 (Slack's rate
// limit, whose Retry-After is honoured).
func (s *Slack) Notify(ctx context.Context, m Message) error {
	_, err := s.notify(ctx, m)
	return err
}

func (s *Slack) notify(ctx context.Context, m Message) (int, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	body, err := json.Marshal(s.Payload(m))
	if err != nil {
		return 0, fmt.Errorf("notify: encode slack payload: %w", err)
	}
	return s.post.post(ctx, body, func(h http.Header) {
		h.Set(HeaderIdempotencyKey, m.IdempotencyKey)
	})
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most n runes, ending with … when cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
