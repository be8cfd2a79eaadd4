package compiler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// slowYAML is a project of many large dashboard files: seconds of parsing,
// which stops between files.
func slowYAML(t testing.TB, files int) fstest.MapFS {
	fsys := fstest.MapFS{
		"bic.yaml":             {Data: []byte("name: slow\nconnections:\n  local: {type: duckdb}\n")},
		"datasets/orders.yaml": {Data: []byte("dataset: orders\ntable: orders\ndimensions:\n  ordered_at: {type: time}\nmetrics:\n  revenue: {expr: sum(amount)}\n")},
	}
	var b strings.Builder
	for i := range 350 {
		fmt.Fprintf(&b, "  - {name: chart_%d, type: line, dataset: orders, metrics: [revenue], x: ordered_at, grain: month}\n", i)
	}
	charts := b.String()
	for i := range files {
		fsys[fmt.Sprintf("dashboards/d%03d.yaml", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("dashboard: d%03d\ntitle: D\ncharts:\n%s", i, charts))}
	}
	return fsys
}

// slowCUE is a project whose CUE package takes about 13 ms an object to
// evaluate (much more under -race), in one call that cannot be interrupted.
func slowCUE(objects int) fstest.MapFS {
	var b strings.Builder
	b.WriteString("package slow\n\nimport \"list\"\n\nproject: {name: \"slow\", connections: local: type: \"duckdb\"}\n")
	for i := range objects {
		fmt.Fprintf(&b, "datasets: d%d: {table: \"t\", dimensions: n: {type: \"number\", expr: \"\\(len([for i in list.Range(0, 5000, 1) if i < 0 {i}]))\"}, metrics: m: expr: \"1\"}\n", i)
	}
	return fstest.MapFS{"bic.cue": {Data: []byte(b.String())}}
}

// TestCompileStopsWhenCanceled: Compile returns promptly, with the
// context's error, when it is canceled during a stage that cannot be
// interrupted (CUE was not, and SIGINT two seconds into an eight-second
// validate did nothing).
func TestCompileStopsWhenCanceled(t *testing.T) {
	c := newTestCompiler(t)
	for _, tc := range []struct {
		name  string
		fsys  fstest.MapFS
		after time.Duration
	}{
		// 400 files of 350 charts: about 5 s of work without -race.
		{"yaml", slowYAML(t, 400), 50 * time.Millisecond},
		// 60 slow objects: about 0.8 s without -race, ten times that with.
		{"cue", slowCUE(60), 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(tc.after, cancel)
			start := time.Now()
			_, err := c.Compile(ctx, tc.fsys)
			took := time.Since(start)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Compile returned %v, want a cancellation error", err)
			}
			if took > tc.after+300*time.Millisecond {
				t.Errorf("Compile returned %s after it was canceled", took-tc.after)
			}
		})
	}
	// A compile canceled before it starts does nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Compile(ctx, slowYAML(t, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Compile returned %v, want a cancellation error", err)
	}
}

// TestCUETimeout: a CUE evaluation that takes longer than the limit (a
// comprehension over 50 million items ran until SIGKILL) is abandoned
// with a diagnostic, and the rest of the project is still checked.
func TestCUETimeout(t *testing.T) {
	l := DefaultLimits()
	// 300ms is far more than parsing the small YAML files takes, even under
	// -race on a loaded machine, and far less than the CUE (about 1.7 s
	// without -race, ten times that with it): the diagnostic, not a clock,
	// shows that the step was stopped.
	l.StepTimeout = 300 * time.Millisecond
	c, err := newTestCompiler(t).WithLimits(l)
	if err != nil {
		t.Fatal(err)
	}
	fsys := slowCUE(150)
	fsys["bic.yaml"] = &fstest.MapFile{Data: []byte("name: slow\nconnections:\n  local: {type: duckdb}\n")}
	fsys["bic.cue"].Data = bytes.Replace(fsys["bic.cue"].Data, []byte("project: "), []byte("_project: "), 1)
	fsys["dashboards/bad.yaml"] = &fstest.MapFile{Data: []byte("dashboard: bad\ntitle: Bad\ncharts: {}\n")}
	start := time.Now()
	res := mustCompile(t, c, fsys)
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("Compile took %s", took)
	}
	var got []string
	for _, d := range res.Diagnostics {
		got = append(got, d.String())
	}
	// The step is the package's evaluation, or parsing bic.cue on a slow
	// machine (under -race).
	if len(got) > 0 && got[0] == "bic.cue: error: CUE: evaluating bic.cue took more than 300ms and was stopped: a comprehension or a list too large?" {
		got[0] = strings.Replace(got[0], "evaluating bic.cue", "evaluating the CUE package", 1)
	}
	want := []string{
		`bic.cue: error: CUE: evaluating the CUE package took more than 300ms and was stopped: a comprehension or a list too large?`,
		`dashboards/bad.yaml:3:9: error: charts of dashboard "bad": expected a list, found a mapping`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// TestCUEReadsOnlyWhatTheLoaderRead: CUE sees the bytes the loader read
// and nothing else: no @embed, no imports from the disk.
func TestCUEReadsOnlyWhatTheLoaderRead(t *testing.T) {
	fsys := baseFS(t)
	fsys["secret.json"] = &fstest.MapFile{Data: []byte(`{"token": "SECRET-6b1f3c"}`)}
	fsys["embed.cue"] = &fstest.MapFile{Data: []byte("@extern(embed)\n\npackage p\n\ndashboards: e: {title: _ @embed(file=\"secret.json\"), charts: []}\n")}
	fsys["import.cue"] = &fstest.MapFile{Data: []byte("package p\n\nimport \"example.com/secret\"\n\ndashboards: i: {title: secret.token, charts: []}\n")}
	res := mustCompile(t, newTestCompiler(t), fsys)
	if !res.Diagnostics.HasErrors(false) {
		t.Fatal("@embed and a non-standard import compiled")
	}
	checkNoSecret(t, res)
	for name := range res.Sources {
		if strings.HasSuffix(name, ".json") {
			t.Errorf("%s was read", name)
		}
	}
}

// TestYAMLParseTimeout: the YAML parser's time grows with the square of a
// mapping's keys (200,000 keys in a 2 MB file took two minutes), so a
// parse that takes longer than the limit is abandoned with a diagnostic.
func TestYAMLParseTimeout(t *testing.T) {
	l := DefaultLimits()
	l.StepTimeout = 20 * time.Millisecond
	c, err := newTestCompiler(t).WithLimits(l)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("dashboard: keys\ntitle: Keys\ncharts: []\n")
	for i := range 15_000 { // about half a second without -race
		fmt.Fprintf(&b, "k%d: 1\n", i)
	}
	fsys := baseFS(t)
	fsys["dashboards/keys.yaml"] = &fstest.MapFile{Data: []byte(b.String())}
	start := time.Now()
	res := mustCompile(t, c, fsys)
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("Compile took %s", took)
	}
	want := []string{"dashboards/keys.yaml: error: invalid YAML: parsing the file took more than 20ms and was stopped: a mapping of very many keys?"}
	if diff := cmp.Diff(want, diagnosticsOf(res, "dashboards/")); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
