// Package notify delivers the messages of alerts and reports to their
// channels: a generic webhook, a Slack incoming webhook, and email over
// SMTP. It is a library: the runner builds a Message per tick, the
// channels from the compiled #Notify list (ChannelFromNotify), and calls
// Config.Deliver with a Ledger kept in the metadata DB.
//
// # Webhook
//
// A POST with Content-Type application/json and the body WebhookBody,
// version 1 (fields are only ever added within a version):
//
//	{"version":1, "kind":"alert", "name":"revenue_drop", "env":"prod",
//	 "state":"firing", "title":"…", "text":"…", "tick":"2026-11-30T09:00:00Z",
//	 "value":10234, "previous":13360, "url":"https://…",
//	 "idempotency_key":"prod/alert/revenue_drop/2026-11-30T09:00:00Z/firing",
//	 "images":[{"name":"revenue.png","content_type":"image/png","size":5120,"url":"https://…signed…"}],
//	 "files":[{"name":"revenue.csv","content_type":"text/csv","size":30,"data_base64":"…"}]}
//
// kind is alert or report; state is firing, resolved, report or test;
// value and previous are left out when there are none. An image or file
// goes by its signed URL when it has one; without one it is inline as
// data_base64 up to Options.MaxInline bytes (256 KiB), else listed with
// "omitted":true.
//
// The headers: X-Bic-Idempotency-Key (the body's idempotency_key),
// X-Bic-Timestamp (Unix seconds at the attempt), and X-Bic-Signature:
// "sha256=" followed by the hex HMAC-SHA256, keyed with the webhook
// secret, of the string
//
//	X-Bic-Timestamp + "." + body
//
// (the body's exact bytes). A receiver recomputes it, compares in
// constant time, and rejects a timestamp more than a few minutes from its
// clock, which stops a captured request from being replayed; Verify does
// all of it. A webhook is signed with its own key when its #Notify has
// one (secret: ${env:NAME}, expanded by the runner that sends), else with
// the binary's key for all webhooks, BIC_WEBHOOK_SECRET
// (Config.WebhookSecret); with neither the requests carry no signature.
//
// # Slack
//
// An incoming-webhook payload (SlackPayload): text (the fallback), the
// channel when the #Notify names one, and blocks: a header (the title), a
// mrkdwn section (the text, escaped, and a link to the dashboard), an
// image block per image with a signed link (Slack fetches images by URL;
// an image without one is left out), and a context line (environment,
// tick).
//
// # Email
//
// Through SMTPConfig's server (ParseSMTPURL reads BIC_SMTP_URL), with
// STARTTLS mandatory unless tls=tls (SMTPS) or tls=none (STARTTLS when
// offered: a relay on loopback only), AUTH when a user is given. The
// message is multipart: a plain-text and an HTML alternative, the PNG
// images inline (the HTML shows them by Content-ID), the CSV files as
// attachments. Its Message-ID is derived from the idempotency key
// (Email.MessageID), and it carries X-Bic-Idempotency-Key.
//
// # Retries
//
// Every notifier retries network errors, timeouts, HTTP 5xx and 429, and
// temporary (4xx) SMTP replies, with exponential backoff and jitter
// (Retry: 5 attempts, 1s doubling up to 20s, 10s per attempt, 1 minute in
// all, by default). A Retry-After (seconds or a date) is waited for, up to
// Retry.Max; a longer one ends the delivery. Other 4xx, redirects (never
// followed, so a signed body cannot be sent elsewhere), 5xx SMTP replies
// and TLS failures are not retried. A failure is an *Error: the channel,
// the attempts, the last status and a short, quoted excerpt of the
// receiver's answer.
//
// # Idempotency
//
// Each Message carries an idempotency key made from (environment, kind,
// name, tick, state) by Key. Deliver asks the Ledger, per (key, channel),
// whether it was delivered, skips the channels that were, sends to the
// others in parallel, and records every outcome (sent, or failed with the
// reason and the attempts) before it returns, so that the caller acks the
// job only after the record is written: a runner killed after Done and
// before the ack does not send again when the job is redelivered. The
// window that remains is between the receiver accepting and Done being
// written: a runner killed there sends again on redelivery. Receivers can
// close it themselves with the key (X-Bic-Idempotency-Key, the
// Message-ID, which are the same on every attempt and every redelivery).
// One channel failing never stops the others; its failure is recorded,
// for bic status, and tried again only if the job is redelivered.
//
// # Secrets
//
// Webhook and Slack URLs hold secrets (a Slack webhook's is its path), as
// do SMTP passwords. No error, Delivery or Channel.String/ID holds more of
// a URL than its scheme and host, nor a password: errors of the HTTP
// client are stripped of the URL they quote, and receivers' answers are
// redacted before they are quoted.
//
// The package imports compiler (for Notify and the ${env:…} helpers) and
// go-mail; it reads no environment and no configuration itself.
package notify
