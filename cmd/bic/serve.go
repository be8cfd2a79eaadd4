package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/site"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/queue"
	"github.com/bic-dev/bic/server"
)

// openStorage opens the object storage that --storage, $BIC_STORAGE_URL or
// the project's bic.yaml names (the project is compiled only for the
// last), or the embedded default in the project folder.
func openStorage(cmd *cobra.Command, dir, flag string) (storage.Store, error) {
	r := runtimeFlags{storage: flag}
	m := &compiler.Manifest{}
	if flag == "" && os.Getenv("BIC_STORAGE_URL") == "" {
		if _, err := os.Stat(filepath.Join(dir, "bic.yaml")); err == nil {
			if m, err = compileProject(cmd, dir); err != nil {
				return nil, err
			}
		}
	}
	url, err := r.storageURL(m, dir)
	if err != nil {
		return nil, &exitError{code: exitInvalid, err: err}
	}
	st, err := storage.Open(cmd.Context(), url)
	if err != nil {
		return nil, &exitError{code: exitRuntime, err: err}
	}
	return st, nil
}

// onDemand connects to the runners for filter states that were not
// precomputed: with a NATS server named by --nats or $BIC_NATS_URL, the
// runners answer; without one (or with the embedded server, which lives
// inside another process) such a state is answered "not precomputed".
func onDemand(natsFlag string) (*server.NATSOnDemand, func(), error) {
	url := cmp.Or(natsFlag, os.Getenv("BIC_NATS_URL"))
	if url == "" || url == queue.EmbeddedURL {
		return nil, func() {}, nil
	}
	nc, err := nats.Connect(url, nats.Name("bic serve"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, nil, fmt.Errorf("NATS for on-demand filter states: %w", compiler.RedactError(err))
	}
	subject := queue.RequestSubject(os.Getenv("BIC_NATS_STREAM"), "ondemand")
	return &server.NATSOnDemand{Conn: nc, Subject: subject}, nc.Close, nil
}

func newServeCmd() *cobra.Command {
	var (
		dir, storageURL, addr, natsURL string
		auth                           string
	)
	cmd := &cobra.Command{
		Use:   "serve [DIR]",
		Short: "Serve the published dashboards of every environment from object storage",
		Long: `Serve reads only object storage: each environment's pointer, the release it
names and the blobs of pages and chart data. It needs no metadata database and
no warehouse, so any number of servers can run behind a load balancer. A
publish is visible within about a second. Routes: / (environments and
dashboards), /e/ENV/d/DASHBOARD, /e/ENV/api/charts/DASHBOARD/CHART?FILTER=…,
/e/ENV/csv/DASHBOARD/CHART, /healthz, /readyz, /metrics.

With --auth token, an environment is served only to a token of it (bic token
create) or a signed link (bic link create), checked against the allow-list
that bic token publishes to storage; without an allow-list every environment
is refused. /assets/, /healthz, /readyz and /metrics stay open: bind /metrics
where only operators reach it.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			authMode, err := server.ParseAuth(auth)
			if err != nil {
				return usageErrorf("%v", err)
			}
			st, err := openStorage(cmd, dir, storageURL)
			if err != nil {
				return err
			}
			defer st.Close()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			od, closeNATS, err := onDemand(natsURL)
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			defer closeNATS()
			// BIC_LINK_SECRET, shared with the runners, opens the links to
			// alerts' and reports' pictures (/images/).
			opts := server.Options{Storage: st, Log: log, Registry: reg, Auth: authMode, ImageSecret: []byte(os.Getenv("BIC_LINK_SECRET"))}
			if od != nil {
				opts.OnDemand = od
			}
			srv := server.New(opts)
			fmt.Fprintf(cmd.OutOrStdout(), "Serving %s at http://%s/ (auth: %s)\n", st, addr, authMode)
			if err := srv.Serve(cmd.Context(), addr); err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			return nil
		},
	}
	addProjectFlag(cmd, &dir, 0)
	cmd.Flags().StringVar(&storageURL, "storage", "", "the object storage URL (default: $BIC_STORAGE_URL, bic.yaml's storage, or "+defaultStorageURL+" in the project folder)")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "the address to listen on")
	cmd.Flags().StringVar(&auth, "auth", "none", "who may read the environments: none (anyone who reaches the server), or token (a token or signed link of bic token / bic link for each environment)")
	cmd.Flags().StringVar(&natsURL, "nats", "", "a NATS server whose runners compute filter states that were not precomputed (default: $BIC_NATS_URL)")
	return cmd
}

func newPublishCmd() *cobra.Command {
	var (
		dir, storageURL, out string
		env                  string
	)
	cmd := &cobra.Command{
		Use:   "publish --out DIR [PROJECT]",
		Short: "Write an environment's live release as a static site",
		Long: `Publish writes the release that an environment's pointer names as plain files
that any static host serves: index.html, e/ENV/d/DASHBOARD.html for each
dashboard, its assets and CSVs. Pages show the precomputed data; a filter
state that was not precomputed says so in the page.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErrorf("bic publish needs --out DIR, the folder to write the site to")
			}
			st, err := openStorage(cmd, dir, storageURL)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := exportSite(cmd.Context(), st, env, out)
			if errors.Is(err, release.ErrNone) {
				return &exitError{code: exitInvalid, err: fmt.Errorf("%w: run bic apply --env %s --wait first", err, env)}
			}
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s: %d files (open %s).\n", out, n, filepath.Join(out, "index.html"))
			return nil
		},
	}
	addProjectFlag(cmd, &dir, 0)
	cmd.Flags().StringVar(&storageURL, "storage", "", "the object storage URL (default: $BIC_STORAGE_URL, bic.yaml's storage, or "+defaultStorageURL+" in the project folder)")
	cmd.Flags().Var(envNameFlag{&env}, "env", "the environment to export")
	env = "prod"
	cmd.Flags().StringVar(&out, "out", "", "the folder to write the site to")
	return cmd
}

// exportSite writes env's live release under out, in the server's layout
// (pages as DASHBOARD.html, at the same depth as the server's
// /e/ENV/d/DASHBOARD, so their relative references resolve the same). It
// returns the number of files written.
func exportSite(ctx context.Context, st storage.Store, env, out string) (int, error) {
	rel, _, err := release.Current(ctx, st, env)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	root, err := os.OpenRoot(out)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	n := 0
	copyBlob := func(key, to string) error {
		rc, err := st.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("%s: %w", to, err)
		}
		defer rc.Close()
		if err := root.MkdirAll(path.Dir(to), 0o755); err != nil {
			return err
		}
		f, err := root.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, rc); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", to, err)
		}
		n++
		return f.Close()
	}
	base := "e/" + env
	for name, key := range rel.Assets {
		if err := copyBlob(key, base+"/assets/"+name); err != nil {
			return n, err
		}
	}
	names := make([]string, 0, len(rel.Dashboards))
	for name := range rel.Dashboards {
		names = append(names, name)
	}
	sort.Strings(names)
	var dashboards []site.IndexDashboard
	for _, name := range names {
		d := rel.Dashboards[name]
		if err := copyBlob(d.Page, base+"/d/"+name+".html"); err != nil {
			return n, err
		}
		// The pages of precomputed states, and the CSV blobs they link.
		for key, page := range d.StatePages {
			if err := copyBlob(page, base+"/d/"+site.StatePageFile(name, key, false)); err != nil {
				return n, err
			}
			for _, ref := range d.Charts {
				if data, ok := rel.Charts[ref].States[key]; ok && data.CSV != "" {
					if err := copyBlob(data.CSV, base+"/"+data.CSV); err != nil {
						return n, err
					}
				}
			}
		}
		for _, ref := range d.Charts {
			c, ok := rel.Charts[ref]
			if !ok {
				continue
			}
			if data, ok := c.States[c.Default]; ok && data.CSV != "" {
				if err := copyBlob(data.CSV, base+"/csv/"+ref); err != nil {
					return n, err
				}
			}
		}
		id := site.IndexDashboard{Name: name, Title: d.Title, Description: d.Description, URL: base + "/d/" + name + ".html"}
		if d.Thumbnail != "" {
			id.ThumbnailURL = base + "/thumbs/" + name + ".png"
			if err := copyBlob(d.Thumbnail, id.ThumbnailURL); err != nil {
				return n, err
			}
		}
		dashboards = append(dashboards, id)
	}
	index, err := site.RenderIndex([]site.IndexEnv{{Name: env, Revision: rel.Revision, PublishedAt: rel.PublishedAt, Dashboards: dashboards}})
	if err != nil {
		return n, err
	}
	// The index loads its stylesheet from assets/ beside it.
	for name, key := range rel.Assets {
		if strings.HasSuffix(name, ".css") {
			if err := copyBlob(key, "assets/"+name); err != nil {
				return n, err
			}
		}
	}
	if err := root.WriteFile("index.html", index, 0o644); err != nil {
		return n, err
	}
	return n + 1, nil
}
