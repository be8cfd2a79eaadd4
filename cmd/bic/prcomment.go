package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner"
	"github.com/bic-dev/bic/runner/alert"
)

// previewComment is what `bic preview --format markdown` prints for a CI
// job to post on the pull request: the plan, a link to each of the
// preview's dashboards, the before and after thumbnails of those that
// changed (the base environment's picture beside the preview's), and each
// alert evaluated now as a dry run.
type previewComment struct {
	env, base string
	number    int  // the revision applied; 0 when nothing was
	live      bool // the revision is live (--wait)
	// plan is the project planned against base: what merging changes.
	plan     *compiler.Plan
	manifest *compiler.Manifest
	// publicURL is where viewers reach bic serve; without it nothing can
	// be linked or pictured.
	publicURL string
	// linkSecret, shared with the servers, signs the pictures' links so
	// they load under any --auth; without it they are the servers'
	// /e/ENV/thumbs/ routes, which need --auth none.
	linkSecret []byte
	storage    storage.Reader
	alerts     []alertDryRun
	now        time.Time
}

// alertDryRun is one alert evaluated for the comment.
type alertDryRun struct {
	spec compiler.Alert
	out  runner.AlertOutcome
	err  error
}

// pictureLinkTTL is how long the comment's signed pictures load: a pull
// request is reviewed within it, and bic gc keeps what a release names
// for its retention.
const pictureLinkTTL = 30 * 24 * time.Hour

func (c *previewComment) write(ctx context.Context, w io.Writer) error {
	var b strings.Builder
	switch {
	case c.number == 0:
		fmt.Fprintf(&b, "## bic preview `%s`: up to date and live\n\n", c.env)
	case c.live:
		fmt.Fprintf(&b, "## bic preview `%s`: revision %d is live\n\n", c.env, c.number)
	default:
		fmt.Fprintf(&b, "## bic preview `%s`: revision %d applied\n\nIts jobs run on the runners; thumbnails appear here once it is live (`bic preview --wait`).\n\n", c.env, c.number)
	}
	fmt.Fprintf(&b, "What merging changes in `%s`:\n\n", c.base)
	if err := compiler.WritePlanMarkdown(&b, c.plan); err != nil {
		return err
	}
	b.WriteString("\n")
	c.dashboards(ctx, &b)
	c.alertTable(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// dashboards is the table of the preview's dashboards, changed ones first.
func (c *previewComment) dashboards(ctx context.Context, b *strings.Builder) {
	if len(c.manifest.Dashboards) == 0 {
		return
	}
	changed := changedDashboards(c.plan)
	var after, before *release.Release
	if c.live && c.storage != nil {
		after, _, _ = release.Current(ctx, c.storage, c.env)
		before, _, _ = release.Current(ctx, c.storage, c.base)
	}
	names := make([]string, 0, len(c.manifest.Dashboards))
	titles := map[string]string{}
	for _, d := range c.manifest.Dashboards {
		names = append(names, d.Spec.Name)
		titles[d.Spec.Name] = cmp.Or(d.Spec.Title, d.Spec.Name)
	}
	slices.SortStableFunc(names, func(x, y string) int {
		if changed[x] != changed[y] {
			if changed[x] {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	})
	fmt.Fprintf(b, "#### Dashboards\n\n| dashboard | `%s` (before) | `%s` (after) |\n|---|---|---|\n", c.base, c.env)
	for _, name := range names {
		title := mdText(titles[name])
		if u := c.pageURL(c.env, name); u != "" {
			title = "[" + title + "](" + u + ")"
		}
		if !changed[name] {
			fmt.Fprintf(b, "| %s | unchanged | |\n", title)
			continue
		}
		fmt.Fprintf(b, "| **%s** | %s | %s |\n", title, c.picture(before, c.base, name), c.picture(after, c.env, name))
	}
	if c.publicURL == "" {
		b.WriteString("\nSet `BIC_PUBLIC_URL` (or `--url`) to where `bic serve` answers, to link the dashboards and show their thumbnails.\n")
	}
	b.WriteString("\n")
}

// picture is a dashboard's thumbnail in rel as an image tag, or why there
// is none.
func (c *previewComment) picture(rel *release.Release, env, name string) string {
	if rel == nil {
		if c.live {
			return "none"
		}
		return ""
	}
	d, ok := rel.Dashboards[name]
	switch {
	case !ok:
		return "new"
	case d.Thumbnail == "":
		return "no thumbnail"
	case c.publicURL == "":
		return "drawn"
	}
	src := c.publicURL + access.ThumbnailPath(env, name)
	if hash := storage.BlobHash(d.Thumbnail); hash != "" && len(c.linkSecret) > 0 {
		src = c.publicURL + access.ImagePath(hash) + "?" + access.SignImage(c.linkSecret, hash, c.now.Add(pictureLinkTTL))
	}
	tag := fmt.Sprintf(`<img src="%s" width="300" alt="%s in %s">`, html.EscapeString(src), html.EscapeString(name), html.EscapeString(env))
	if d.ThumbnailStale {
		tag += "<br>(not redrawn: the earlier picture)"
	}
	return tag
}

func (c *previewComment) pageURL(env, dashboard string) string {
	if c.publicURL == "" {
		return ""
	}
	return c.publicURL + access.DashboardPath(env, dashboard)
}

// alertTable is each alert evaluated now on the warehouse, as the
// preview's runners evaluate it: a dry run that sends nothing.
func (c *previewComment) alertTable(b *strings.Builder) {
	if len(c.alerts) == 0 {
		return
	}
	fmt.Fprintf(b, "#### Alerts, evaluated now (a dry run: `%s` sends nothing)\n\n| alert | value | previous | condition | outcome |\n|---|---|---|---|---|\n", c.env)
	for _, a := range c.alerts {
		if a.err != nil {
			fmt.Fprintf(b, "| `%s` | | | %s | could not be evaluated: %s |\n", a.spec.Name, mdText(conditionText(a.spec)), mdText(compiler.RedactError(a.err).Error()))
			continue
		}
		outcome := mdText(a.out.Observation.Text)
		switch a.out.Notice {
		case alert.Fire:
			outcome = "**would fire** and notify " + channelCount(a.spec) + ": " + outcome
		case alert.Resolve:
			outcome = "would resolve: " + outcome
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", a.spec.Name, mdText(valueText(a.out.Current)), mdText(valueText(a.out.Previous)), mdText(conditionText(a.spec)), outcome)
	}
	b.WriteString("\n")
}

func channelCount(a compiler.Alert) string {
	if n := len(a.Notify); n != 1 {
		return fmt.Sprintf("%d channels", n)
	}
	return "1 channel"
}

// changedDashboards are the dashboards that the plan creates or updates,
// or one of whose charts it changes.
func changedDashboards(p *compiler.Plan) map[string]bool {
	out := map[string]bool{}
	for _, ch := range p.Changes {
		if ch.Action == compiler.ActionDelete {
			continue
		}
		name := compiler.ObjectID(ch.ID).Name()
		switch ch.Kind {
		case "dashboard":
			out[name] = true
		case "chart":
			if dash, _, ok := strings.Cut(name, "/"); ok {
				out[dash] = true
			}
		}
	}
	return out
}

// evaluateAlerts evaluates every alert of m now from its state in env.
func evaluateAlerts(ctx context.Context, w *runner.Worker, st *metadata.Store, m *compiler.Manifest, env string, now time.Time) []alertDryRun {
	var out []alertDryRun
	for _, a := range m.Alerts {
		state, err := st.AlertState(ctx, env, a.Spec.Name)
		if err != nil && !errors.Is(err, metadata.ErrNotMigrated) {
			out = append(out, alertDryRun{spec: a.Spec, err: err})
			continue
		}
		o, err := w.EvaluateAlert(ctx, m, a.Spec.Name, now, state, now)
		out = append(out, alertDryRun{spec: a.Spec, out: o, err: err})
	}
	return out
}

// publicURL is --url, else $BIC_PUBLIC_URL, checked and without a final /.
func publicURL(flag string) (string, error) {
	raw := cmp.Or(flag, os.Getenv("BIC_PUBLIC_URL"))
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("the public URL: expected the server's address such as https://bic.example.com, found %q", excerptArg(compiler.RedactURL(raw)))
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// mdText escapes text for a markdown table cell.
func mdText(s string) string { return mdCell.Replace(s) }

var mdCell = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "'", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`)
