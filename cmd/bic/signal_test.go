package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeProject writes files (name → content) into a new folder.
func writeProject(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proj")
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const slowBase = "name: slow\nconnections:\n  local: {type: duckdb}\n"

// slowCUEProject takes seconds to compile, in a CUE evaluation that cannot
// be interrupted: about 13 ms an object without -race.
func slowCUEProject(t testing.TB, objects int) string {
	var b strings.Builder
	b.WriteString("package slow\n\nimport \"list\"\n\n")
	for i := range objects {
		fmt.Fprintf(&b, "datasets: d%d: {table: \"t\", dimensions: n: {type: \"number\", expr: \"\\(len([for i in list.Range(0, 5000, 1) if i < 0 {i}]))\"}, metrics: m: expr: \"1\"}\n", i)
	}
	return writeProject(t, map[string]string{"bic.yaml": slowBase, "slow.cue": b.String()})
}

// slowYAMLProject takes seconds to compile, in YAML files that are parsed
// one after another; it has a dashboard sales with a chart revenue.
func slowYAMLProject(t testing.TB, files int) string {
	var charts strings.Builder
	for i := range 350 {
		fmt.Fprintf(&charts, "  - {name: chart_%d, type: line, dataset: orders, metrics: [revenue], x: ordered_at, grain: month}\n", i)
	}
	fs := map[string]string{
		"bic.yaml":              slowBase,
		"datasets/orders.yaml":  "dataset: orders\ntable: orders\ndimensions:\n  ordered_at: {type: time}\nmetrics:\n  revenue: {expr: sum(amount)}\n",
		"dashboards/sales.yaml": "dashboard: sales\ntitle: Sales\ncharts:\n  - {name: revenue, type: big_number, dataset: orders, metrics: [revenue]}\n",
	}
	for i := range files {
		fs[fmt.Sprintf("dashboards/d%03d.yaml", i)] = fmt.Sprintf("dashboard: d%03d\ntitle: D\ncharts:\n%s", i, charts.String())
	}
	return writeProject(t, fs)
}

// TestMainProcess is not a test: TestSignalsStopTheCommand runs the test
// binary again to run main with the arguments in $BIC_TEST_MAIN_ARGS, so
// that real signals reach main's handling. Without the variable it does
// nothing.
func TestMainProcess(t *testing.T) {
	raw := os.Getenv("BIC_TEST_MAIN_ARGS")
	if raw == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(99)
	}
	os.Args = append([]string{"bic"}, args...)
	main()
}

// TestSignalsStopTheCommand: SIGINT or SIGTERM during a slow validate
// stops it with exit status 130 or 143. It did nothing and exited 0: CUE's
// evaluation does not look at the context.
func TestSignalsStopTheCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT or SIGTERM to send on Windows")
	}
	// 400 objects: about 5 s without -race, a minute with it.
	dir := slowCUEProject(t, 400)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		msg  string
	}{
		{syscall.SIGINT, 130, "bic: stopped: interrupt signal received"},
		{syscall.SIGTERM, 143, "bic: stopped: terminated signal received"},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			// The signal must come once main is listening: a signal before
			// that kills the process, so wait longer and try again.
			for wait := time.Second; ; wait *= 2 {
				code, stderr, took := runSignaled(t, []string{"validate", dir}, tc.sig, wait)
				if code == -1 && wait < 8*time.Second {
					continue
				}
				if code != tc.code || !strings.Contains(stderr, tc.msg) {
					t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
				}
				if took > 3*time.Second {
					t.Errorf("the command took %s to stop after the signal", took)
				}
				return
			}
		})
	}
}

// runSignaled runs main with args in a child process, sends it sig after
// wait, and returns its exit code (-1 when the signal killed it), its
// stderr and how long it took to end after the signal.
func runSignaled(t *testing.T, args []string, sig syscall.Signal, wait time.Duration) (int, string, time.Duration) {
	t.Helper()
	raw, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$")
	cmd.Env = append(os.Environ(), "BIC_TEST_MAIN_ARGS="+string(raw))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("the command ended before the signal: %v\n%s", err, stderr.String())
	case <-time.After(wait):
	}
	sent := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		err = <-done
	}
	took := time.Since(sent)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String(), took
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String(), took
}

// TestCanceledCommandsExit130: every command that compiles stops when its
// context is canceled while it compiles, with the exit code of the signal.
func TestCanceledCommandsExit130(t *testing.T) {
	// 400 files of 350 charts: about 20 s of work without -race.
	dir := slowYAMLProject(t, 400)
	for _, tc := range []struct {
		args []string
		sig  syscall.Signal
		code int
	}{
		{[]string{"validate", dir}, syscall.SIGINT, 130},
		{[]string{"validate", dir}, syscall.SIGTERM, 143},
		{[]string{"plan", "-p", dir}, syscall.SIGTERM, 143},
		{[]string{"apply", "-p", dir, "--auto-approve"}, syscall.SIGINT, 130},
		{[]string{"preview", "-p", dir, "--env", "pr-1"}, syscall.SIGTERM, 143},
		{[]string{"query", "sales/revenue", "-p", dir}, syscall.SIGINT, 130},
	} {
		t.Run(tc.args[0]+"/"+tc.sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			time.AfterFunc(100*time.Millisecond, func() { cancel(signalCause{sig: tc.sig}) })
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := run(ctx, tc.args, &stdout, &stderr)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("the command took %s", took)
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if want := "bic: stopped: " + tc.sig.String() + " signal received\n"; !strings.HasSuffix(stderr.String(), want) {
				t.Errorf("stderr %q does not end with %q", stderr.String(), want)
			}
			// (bic validate may have filled .bic/cache with the files it
			// checked before it stopped.)
			if _, err := os.Stat(filepath.Join(dir, ".bic", "bic.db")); err == nil {
				t.Errorf("a canceled %s created the metadata database", tc.args[0])
			}
		})
	}
}
