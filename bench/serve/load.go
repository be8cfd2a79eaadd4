package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// The two URLs under load: a chart's JSON and a dashboard page of
// examples/shop.
var targets = []struct{ label, path string }{
	{"chart JSON", "/e/prod/api/charts/sales/revenue_by_month"},
	{"dashboard page", "/e/prod/d/sales"},
}

// warmup is an unrecorded wrk run before each measured one, so that
// bic serve's blob cache is warm and every server has its connections
// and pages touched.
const warmup = time.Second

// Setups of a load row.
const (
	setupBic     = "bic serve"
	setupBicGzip = "bic serve, Accept-Encoding: gzip"
	setupGo      = "bare Go net/http handler"
	setupNginx   = "nginx"
)

// loadResult is one wrk run of one setup on one URL.
type loadResult struct {
	target, setup string
	bytes         int // of the body without gzip
	*wrkResult        // the median of runs
	runs          []*wrkResult
}

// loadTests runs wrk on each target against bic serve (at base), a bare
// Go handler serving the same bytes and, unless skipped, nginx serving
// them as files; dir is a temporary folder for nginx.
func loadTests(ctx context.Context, c config, base, dir string) ([]loadResult, error) {
	type body struct {
		data  []byte
		ctype string
	}
	bodies := map[string]body{}
	for _, t := range targets {
		data, ctype, err := getTyped(ctx, base+t.path, false)
		if err != nil {
			return nil, err
		}
		bodies[t.path] = body{data, ctype}
	}

	goBase := map[string]string{}
	for _, t := range targets {
		b := bodies[t.path]
		addr, stop, err := bareServer(b.data, b.ctype)
		if err != nil {
			return nil, err
		}
		defer stop()
		goBase[t.path] = "http://" + addr
	}
	var nginxBase string
	if !c.skipNginx {
		files := map[string][2]string{}
		for p, b := range bodies {
			files[p] = [2]string{string(b.data), b.ctype}
		}
		n, err := startNginx(ctx, filepath.Join(dir, "nginx"), files)
		if err != nil {
			return nil, err
		}
		defer n.stop()
		nginxBase = n.base
	}

	runs := map[[2]string][]*wrkResult{}
	measure := func(round int, t, setup, url string, headers ...string) error {
		progress(c, "round %d/%d, wrk %s: %s", round+1, c.rounds, setup, url)
		if round == 0 {
			if _, err := runWrk(ctx, c, warmup, url, headers...); err != nil {
				return err
			}
		}
		r, err := runWrk(ctx, c, c.duration, url, headers...)
		if err != nil {
			return err
		}
		runs[[2]string{t, setup}] = append(runs[[2]string{t, setup}], r)
		return nil
	}
	// Rounds interleave the setups, so that a burst of the machine's other
	// work falls on all of them rather than on one.
	for round := range c.rounds {
		for _, t := range targets {
			if err := measure(round, t.path, setupBic, base+t.path); err != nil {
				return nil, err
			}
			if err := measure(round, t.path, setupGo, goBase[t.path]+t.path); err != nil {
				return nil, err
			}
			if nginxBase != "" {
				if err := measure(round, t.path, setupNginx, nginxBase+t.path); err != nil {
					return nil, err
				}
			}
			if err := measure(round, t.path, setupBicGzip, base+t.path, "Accept-Encoding: gzip"); err != nil {
				return nil, err
			}
		}
	}
	var results []loadResult
	for _, t := range targets {
		for _, setup := range []string{setupBic, setupGo, setupNginx, setupBicGzip} {
			if rs := runs[[2]string{t.path, setup}]; len(rs) > 0 {
				results = append(results, loadResult{target: t.path, setup: setup, bytes: len(bodies[t.path].data), wrkResult: median(rs), runs: rs})
			}
		}
	}
	return results, nil
}

// median is a result whose requests/s, p50 and p99 are each the median
// of the runs' (the upper one of an even number); errors are joined.
func median(rs []*wrkResult) *wrkResult {
	pick := func(f func(*wrkResult) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	m := &wrkResult{
		rps: pick(func(r *wrkResult) float64 { return r.rps }),
		p50: time.Duration(pick(func(r *wrkResult) float64 { return float64(r.p50) })),
		p99: time.Duration(pick(func(r *wrkResult) float64 { return float64(r.p99) })),
	}
	var errs []string
	for _, r := range rs {
		m.requests += r.requests
		if r.errors != "" {
			errs = append(errs, r.errors)
		}
	}
	m.errors = strings.Join(errs, "; ")
	return m
}

// bareServer serves data with ctype on every path from a goroutine of
// this process: no routing, no lookup, the least net/http can do. It
// uses the same server timeouts as bic serve.
func bareServer(data []byte, ctype string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	length := strconv.Itoa(len(data))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Content-Type"] = []string{ctype}
			h["Content-Length"] = []string{length}
			w.Write(data)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close() }, nil
}

// nginxConf serves each file at its URL path with its own Content-Type.
// worker_processes auto starts one worker per CPU, as Go's GOMAXPROCS
// uses every CPU.
const nginxConf = `worker_processes auto;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {
        listen %[2]s;
        root %[1]s/root;
%[3]s    }
}
`

type nginx struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

// startNginx writes files (URL path → body, Content-Type) under dir,
// starts nginx on a free loopback port as a child process and waits
// until it serves the first file.
func startNginx(ctx context.Context, dir string, files map[string][2]string) (*nginx, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, serr := os.Stat(bin); serr != nil {
			return nil, fmt.Errorf("nginx is not installed (apt-get install -y nginx, or pass -skip-nginx): %w", err)
		}
	}
	addr, err := benchkit.FreeAddr()
	if err != nil {
		return nil, err
	}
	var locations, first string
	for p, f := range files {
		file := filepath.Join(dir, "root", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(file, []byte(f[0]), 0o644); err != nil {
			return nil, err
		}
		locations += fmt.Sprintf("        location = %s { types { } default_type %q; }\n", path.Clean(p), f[1])
		first = p
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, err
	}
	// os.MkdirTemp makes folders 0700, and nginx's workers run as another
	// user when it starts as root: open the run's folder to them.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, addr, locations), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	out, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	n := &nginx{cmd: cmd, base: "http://" + addr, done: make(chan error, 1)}
	go func() { n.done <- cmd.Wait() }()
	if err := waitReady(ctx, n.base+first, n.done); err != nil {
		n.stop()
		logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		errOut, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
		return nil, fmt.Errorf("nginx: %w\n%s%s", err, tail(errOut), tail(logs))
	}
	return n, nil
}

// stop ends nginx with SIGQUIT (a graceful stop) and waits; a second
// call does nothing.
func (n *nginx) stop() {
	if n.cmd == nil {
		return
	}
	cmd := n.cmd
	n.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-n.done
	}
}
