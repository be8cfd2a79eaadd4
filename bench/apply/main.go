// Command apply measures plan and apply on the synthetic project of 1,000
// dashboards and 10,000 charts, against the metadata databases: SQLite and,
// when -postgres is set, PostgreSQL. It prints a table.
//
//	go run ./bench/apply -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"testing/fstest"
	"text/tabwriter"
	"time"

	"github.com/bic-dev/bic/bench/synth"
	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
)

func main() {
	pgURL := flag.String("postgres", os.Getenv("BIC_TEST_POSTGRES_URL"), "PostgreSQL URL for a scratch schema (empty: SQLite only)")
	runs := flag.Int("runs", 5, "no-op plans to time; the median is reported")
	flag.Parse()
	ctx := context.Background()

	s, err := compiler.NewSchema()
	if err != nil {
		log.Fatal(err)
	}
	c := compiler.New(s)
	base := compileSynth(c, "sum(value_0)")
	changed := compileSynth(c, "sum(value_0) * 2")
	fmt.Printf("synthetic project: %d datasets, %d dashboards, %d charts (%d objects)\n\n", len(base.Datasets), len(base.Dashboards), len(base.Charts), len(base.Objects()))

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "database\tfirst plan+apply\tno-op plan (median)\tplan after 1 dataset change\tchanges listed\tjobs\tapply of the change\t")
	targets := map[string]string{"sqlite": ""}
	if *pgURL != "" {
		targets["postgres"] = *pgURL
	}
	for _, name := range []string{"sqlite", "postgres"} {
		raw, ok := targets[name]
		if !ok {
			continue
		}
		st, cleanup := open(ctx, name, raw)
		first := timeIt(func() { mustApply(ctx, st, base, mustPlan(ctx, st, base)) })
		var noops []time.Duration
		for range *runs {
			noops = append(noops, timeIt(func() {
				if mustPlan(ctx, st, base).HasChanges() {
					log.Fatal("a no-op plan has changes")
				}
			}))
		}
		var p *compiler.Plan
		planChange := timeIt(func() { p = mustPlan(ctx, st, changed) })
		applyChange := timeIt(func() { mustApply(ctx, st, changed, p) })
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t\n", name, round(first), round(median(noops)), round(planChange), len(p.Changes), len(p.Jobs), round(applyChange))
		checkDependents(p)
		cleanup()
	}
	tw.Flush()
}

// compileSynth compiles the synthetic project with dataset ds_000's first
// metric set to expr.
func compileSynth(c *compiler.Compiler, expr string) *compiler.Manifest {
	fsys := fstest.MapFS{}
	for name, data := range synth.Files(synth.Large) {
		if name == "datasets/ds_000.yaml" {
			data = []byte(strings.Replace(string(data), "m_0: {expr: sum(value_0)", "m_0: {expr: "+expr, 1))
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	res, err := c.Compile(context.Background(), fsys)
	if err != nil {
		log.Fatal(err)
	}
	if res.Manifest == nil {
		log.Fatalf("synthetic project: %v", res.Diagnostics[:min(3, len(res.Diagnostics))])
	}
	return res.Manifest
}

// checkDependents verifies that the plan lists exactly ds_000 and what
// depends on it: the charts of the dashboards built on it, and those dashboards.
func checkDependents(p *compiler.Plan) {
	want := 1 // the dataset
	dashboards := synth.Large.Dashboards / synth.Large.Datasets
	want += dashboards * (synth.Large.Charts + 1)
	if len(p.Changes) != want {
		log.Fatalf("the plan lists %d changes, want exactly %d (ds_000, %d dashboards and their charts)", len(p.Changes), want, dashboards)
	}
	for _, c := range p.Changes {
		if c.ID != "dataset/ds_000" && !strings.HasPrefix(c.ID, "chart/dash_") && !strings.HasPrefix(c.ID, "dashboard/dash_") {
			log.Fatalf("unexpected change %s", c.ID)
		}
	}
}

func open(ctx context.Context, name, raw string) (*metadata.Store, func()) {
	if name == "sqlite" {
		dir, err := os.MkdirTemp("", "bic-bench-meta-*")
		if err != nil {
			log.Fatal(err)
		}
		st, err := metadata.Open(ctx, "sqlite://meta.db", dir)
		if err != nil {
			log.Fatal(err)
		}
		return st, func() { st.Close(); os.RemoveAll(dir) }
	}
	schema := fmt.Sprintf("bic_bench_%d", time.Now().UnixNano())
	admin, err := sql.Open("pgx", raw)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		log.Fatal(err)
	}
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	st, err := metadata.Open(ctx, raw+sep+"search_path="+schema, "")
	if err != nil {
		log.Fatal(err)
	}
	return st, func() {
		st.Close()
		admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	}
}

func mustPlan(ctx context.Context, st *metadata.Store, m *compiler.Manifest) *compiler.Plan {
	p, err := publish.Plan(ctx, st, m, "prod", "")
	if err != nil {
		log.Fatal(err)
	}
	return p
}

func mustApply(ctx context.Context, st *metadata.Store, m *compiler.Manifest, p *compiler.Plan) {
	if _, err := st.Apply(ctx, metadata.ApplyRequest{Env: "prod", Plan: p, Manifest: m, AppliedBy: "bench"}); err != nil {
		log.Fatal(err)
	}
}

func timeIt(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func round(d time.Duration) string { return d.Round(time.Millisecond).String() }
