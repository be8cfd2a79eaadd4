package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/site"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/servicetest"
)

// relHarness is one reliability test's world: a bic binary, a project
// folder, a PostgreSQL schema of its own as the metadata database, a
// JetStream stream of its own and an object store of its own. Runners
// and commands run as child processes of the binary.
type relHarness struct {
	t        *testing.T
	bin      string
	dir      string // the project
	natsURL  string
	stream   string
	storeURL string
	store    storage.Store
	db       *sql.DB // the metadata database, on the test's schema
	env      []string
}

// relOptions choose a harness's services.
type relOptions struct {
	natsURL string // "" is BIC_TEST_NATS_URL's server
	s3      bool   // object storage on BIC_TEST_S3_URL's bucket, else a folder
	ackWait string // BIC_ACK_WAIT, default 2s
}

// newRelHarness sets up the services for project dir.
func newRelHarness(t *testing.T, bin, dir string, o relOptions) *relHarness {
	t.Helper()
	pg := servicetest.Postgres(t)
	natsURL := o.natsURL
	if natsURL == "" {
		natsURL = servicetest.NATS(t)
	}
	id := randomID()
	h := &relHarness{t: t, bin: bin, dir: dir, natsURL: natsURL, stream: "BIC_REL_" + strings.ToUpper(id)}

	schema := "bic_rel_" + id
	admin, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(pg, "?") {
		sep = "&"
	}
	metaURL := pg + sep + "search_path=" + schema
	if h.db, err = sql.Open("pgx", metaURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.db.Close() })

	if o.s3 {
		bucketURL := servicetest.S3(t)
		base, query, _ := strings.Cut(bucketURL, "?")
		h.storeURL = strings.TrimSuffix(base, "/") + "/bic-rel-" + id + "?" + query
	} else {
		h.storeURL = "file://" + filepath.Join(t.TempDir(), "artifacts")
	}
	if h.store, err = storage.Open(context.Background(), h.storeURL); err != nil {
		t.Fatalf("open storage %s: %v", h.storeURL, err)
	}
	t.Cleanup(func() {
		if o.s3 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if infos, err := h.store.List(ctx, ""); err == nil {
				for _, i := range infos {
					_ = h.store.Delete(ctx, i.Key)
				}
			}
		}
		h.store.Close()
	})

	ackWait := o.ackWait
	if ackWait == "" {
		ackWait = "2s"
	}
	h.env = append(os.Environ(),
		"BIC_METADATA_URL="+metaURL,
		"BIC_NATS_URL="+natsURL,
		"BIC_NATS_STREAM="+h.stream,
		"BIC_ACK_WAIT="+ackWait,
		"BIC_STORAGE_URL="+h.storeURL,
	)
	t.Cleanup(func() { deleteStream(natsURL, h.stream) })
	h.mustBic(30*time.Second, "migrate", "-p", dir) // so that the tests may read the tables from the start
	return h
}

// deleteStream removes a test's stream; a server that is gone by then
// (a test's own) has nothing to remove.
func deleteStream(url, stream string) {
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, stream)
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// buildBic builds the bic binary, without the race detector (the runners
// are the processes under test, and -race would only slow them), into
// dir.
func buildBic(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bic")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// bic runs one command of the binary to its end and returns its exit code
// and combined output.
func (h *relHarness) bic(timeout time.Duration, args ...string) (int, string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = h.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		h.t.Fatalf("bic %s: still running after %s:\n%s", strings.Join(args, " "), timeout, out.String())
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	case err != nil:
		h.t.Fatalf("bic %s: %v", strings.Join(args, " "), err)
	}
	return 0, out.String()
}

// mustBic is bic that fails the test on a non-zero exit.
func (h *relHarness) mustBic(timeout time.Duration, args ...string) string {
	h.t.Helper()
	code, out := h.bic(timeout, args...)
	if code != 0 {
		h.t.Fatalf("bic %s: exit %d\n%s\njobs that failed an attempt:%s", strings.Join(args, " "), code, out, h.jobErrors())
	}
	return out
}

// proc is a bic child process that runs until stopped: a runner, or an
// apply --wait used as a dispatcher.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  string // its stderr (and stdout)
	done chan struct{}
	err  error
}

// start starts a long-running bic command; the test's cleanup kills it
// if it is still running.
func (h *relHarness) start(name string, args ...string) *proc {
	h.t.Helper()
	p := &proc{t: h.t, name: name, log: filepath.Join(h.t.TempDir(), name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		h.t.Fatal(err)
	}
	p.cmd = exec.Command(h.bin, args...)
	p.cmd.Env = h.env
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		h.t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	h.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// runner starts a bic runner process.
func (h *relHarness) runner(name string, concurrency int) *proc {
	h.t.Helper()
	return h.start(name, "runner", "-p", h.dir, "--concurrency", strconv.Itoa(concurrency))
}

// output is what the process wrote so far.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// kill SIGKILLs the process: no chance to ack, release or log.
func (p *proc) kill() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

var stoppedRE = regexp.MustCompile(`msg="runner stopped" queries=(\d+)`)

// stop sends SIGTERM, waits for a clean exit and returns the number of
// warehouse queries the runner logged.
func (p *proc) stop() int {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("%s did not stop within 30s of SIGTERM:\n%s", p.name, p.output())
	}
	m := stoppedRE.FindStringSubmatch(p.output())
	if m == nil {
		p.t.Fatalf("%s logged no \"runner stopped\" line (exit: %v):\n%s", p.name, p.err, p.output())
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// stopAll stops runners and sums their queries.
func stopAll(ps ...*proc) int {
	n := 0
	for _, p := range ps {
		n += p.stop()
	}
	return n
}

// waitFor polls cond until it holds, failing the test after timeout with
// what and the logs of procs.
func (h *relHarness) waitFor(timeout time.Duration, what string, cond func() bool, procs ...*proc) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, p := range procs {
				fmt.Fprintf(&logs, "--- %s:\n%s\n", p.name, p.output())
			}
			h.t.Fatalf("%s: not within %s\njobs: %s\n%s", what, timeout, h.jobSummary(), logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// relJob is a job row as the tests read it.
type relJob struct {
	ID       int64
	Key      string
	Kind     string
	Status   string
	Attempts int
	CacheHit sql.NullBool
	InputKey string
	Error    string
}

// jobs reads the job rows of env's revision number.
func (h *relHarness) jobs(env string, number int) []relJob {
	h.t.Helper()
	rows, err := h.db.Query(`SELECT j.id, j.job_key, j.kind, j.status, j.attempts, j.cache_hit, j.input_key, j.last_error
		FROM jobs j JOIN revisions r ON r.id = j.revision_id WHERE r.env = $1 AND r.number = $2 ORDER BY j.id`, env, number)
	if err != nil {
		h.t.Fatalf("read jobs: %v", err)
	}
	defer rows.Close()
	var out []relJob
	for rows.Next() {
		var j relJob
		if err := rows.Scan(&j.ID, &j.Key, &j.Kind, &j.Status, &j.Attempts, &j.CacheHit, &j.InputKey, &j.Error); err != nil {
			h.t.Fatalf("read jobs: %v", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		h.t.Fatalf("read jobs: %v", err)
	}
	return out
}

// revisionStatus is env's revision number's status, "" when it has none.
func (h *relHarness) revisionStatus(env string, number int) string {
	h.t.Helper()
	var s string
	err := h.db.QueryRow(`SELECT status FROM revisions WHERE env = $1 AND number = $2`, env, number).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return ""
	}
	if err != nil {
		h.t.Fatalf("read revision %s/%d: %v", env, number, err)
	}
	return s
}

// pointer is env's release pointer in object storage (Revision 0: none).
func (h *relHarness) pointer(env string) release.Pointer {
	h.t.Helper()
	p, err := release.ReadPointer(context.Background(), h.store, env)
	if errors.Is(err, release.ErrNone) {
		return release.Pointer{}
	}
	if err != nil {
		h.t.Fatalf("read pointer of %s: %v", env, err)
	}
	return p
}

// blobKind is what a blob holds, as far as the tests tell them apart.
type blobKind int

const (
	blobCSV blobKind = iota
	blobJSON
	blobRelease
	blobPage  // a dashboard's HTML page
	blobAsset // what pages load: ECharts, bic.js, bic.css
	blobImage // a thumbnail
)

func (k blobKind) String() string {
	return [...]string{"csv", "json", "release", "page", "asset", "image"}[k]
}

// blobs reads every blob in storage, checks that it is whole (its sha256
// is its key, and it parses as JSON or CSV) and returns their kinds by
// key.
func (h *relHarness) blobs() map[string]blobKind {
	h.t.Helper()
	ctx := context.Background()
	infos, err := h.store.List(ctx, "blobs/")
	if err != nil {
		h.t.Fatalf("list blobs: %v", err)
	}
	out := map[string]blobKind{}
	for _, info := range infos {
		r, err := h.store.Get(ctx, info.Key)
		if err != nil {
			h.t.Fatalf("read %s: %v", info.Key, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			h.t.Fatalf("read %s: %v", info.Key, err)
		}
		sum := sha256.Sum256(b)
		if want := storage.BlobKey(hex.EncodeToString(sum[:])); want != info.Key {
			h.t.Errorf("blob %s (%d bytes) is not whole: its content's key is %s", info.Key, len(b), want)
			continue
		}
		out[info.Key] = classify(b)
		if out[info.Key] == blobCSV {
			if _, err := csv.NewReader(bytes.NewReader(b)).ReadAll(); err != nil {
				h.t.Errorf("blob %s is neither JSON nor CSV: %v", info.Key, err)
			}
		}
	}
	return out
}

func classify(b []byte) blobKind {
	for _, a := range site.Assets() {
		if bytes.Equal(a, b) {
			return blobAsset
		}
	}
	if bytes.HasPrefix(bytes.ToLower(bytes.TrimSpace(b)), []byte("<!doctype html")) {
		return blobPage
	}
	if bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		return blobImage
	}
	if !json.Valid(b) {
		return blobCSV
	}
	var rel struct {
		Env    string          `json:"env"`
		Charts json.RawMessage `json:"charts"`
	}
	if json.Unmarshal(b, &rel) == nil && rel.Env != "" && rel.Charts != nil {
		return blobRelease
	}
	return blobJSON
}

// newBlobs is the blobs of after that before lacks, counted by kind.
func newBlobs(before, after map[string]blobKind) map[blobKind]int {
	n := map[blobKind]int{}
	for k, kind := range after {
		if _, ok := before[k]; !ok {
			n[kind]++
		}
	}
	return n
}

// freePort is a TCP port nobody listens on just now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// natsServer is a nats-server process of the test's own, which it may
// stop and start again on the same port and store.
type natsServer struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	proc *exec.Cmd
	done chan struct{}
	log  string
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/nats-server"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("nats-server is not installed: CI must provide it")
			}
			t.Skip("nats-server is not installed")
		}
	}
	s := &natsServer{t: t, bin: bin, port: freePort(t), dir: t.TempDir(), log: filepath.Join(t.TempDir(), "nats.log")}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

func (s *natsServer) start() {
	s.t.Helper()
	f, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	s.proc = exec.Command(s.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", s.dir)
	s.proc.Stdout, s.proc.Stderr = f, f
	if err := s.proc.Start(); err != nil {
		f.Close()
		s.t.Fatalf("start nats-server: %v", err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.proc.Wait(); f.Close(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(s.url(), nats.Timeout(time.Second))
		if err == nil {
			nc.Close()
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(s.log)
			s.t.Fatalf("nats-server on port %d did not come up: %v\n%s", s.port, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the server down cleanly (SIGTERM), as a restart does.
func (s *natsServer) stop() {
	if s.proc == nil {
		return
	}
	select {
	case <-s.done:
	default:
		_ = s.proc.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.proc.Process.Kill()
			<-s.done
		}
	}
	s.proc = nil
}

// streamMessages is how many messages stream holds on the server at url.
func streamMessages(t *testing.T, url, stream string) uint64 {
	t.Helper()
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	return info.State.Msgs
}

// writeRelFile writes content at name inside the project dir.
func writeRelFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyRelTestdata copies testdata/reliability/NAME into the project as
// the project path to.
func copyRelTestdata(t *testing.T, dir, name, to string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reliability", name))
	if err != nil {
		t.Fatal(err)
	}
	writeRelFile(t, dir, to, string(b))
}

// editRelFile replaces old with new in the project's file name, once.
func editRelFile(t *testing.T, dir, name, old, new string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", name, old)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// claims describes the input-key claims held now, for a failure message.
func (h *relHarness) claims() string {
	h.t.Helper()
	rows, err := h.db.Query(`SELECT input_key, owner, expires_at - now() FROM input_claims ORDER BY input_key`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var key, owner, left string
		if err := rows.Scan(&key, &owner, &left); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "\n  %s held by %s, expires in %s", key, owner, left)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// jobSummary counts the jobs by revision, kind and status, for a failure
// message.
func (h *relHarness) jobSummary() string {
	rows, err := h.db.Query(`SELECT r.env, r.number, j.kind, j.status, count(*), max(j.attempts)
		FROM jobs j JOIN revisions r ON r.id = j.revision_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var env, kind, status string
		var number, n, attempts int
		if err := rows.Scan(&env, &number, &kind, &status, &n, &attempts); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "\n  %s/%d %s %s: %d (at most %d attempts)", env, number, kind, status, n, attempts)
	}
	return b.String()
}

// jobErrors lists the jobs whose last attempt failed, with the whole
// error, for a failure message.
func (h *relHarness) jobErrors() string {
	rows, err := h.db.Query(`SELECT job_key, status, attempts, last_error FROM jobs WHERE last_error <> '' ORDER BY id`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var key, status, msg string
		var attempts int
		if err := rows.Scan(&key, &status, &attempts, &msg); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "\n  %s (%s after %d attempt(s)): %s", key, status, attempts, msg)
	}
	if b.Len() == 0 {
		return " none"
	}
	return b.String()
}
