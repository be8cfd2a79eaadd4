package main

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/bic-dev/bic/bench/internal/benchkit"
	"github.com/bic-dev/bic/publish/storage"
)

// jobsReal runs the jobs on real services with two `bic runner`
// processes: a PostgreSQL schema, a NATS stream and an S3 prefix of this
// run's own, all removed after.
func jobsReal(ctx context.Context, c config, p *project) (*jobsResult, error) {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if os.Getenv(v) == "" {
			return nil, fmt.Errorf("the S3 path needs %s (or pass -skip-real)", v)
		}
	}
	id := time.Now().UnixNano()
	schema := fmt.Sprintf("bic_bench_runner_%d", id)
	stream := fmt.Sprintf("BENCH_RUNNER_%d", id)
	prefix := fmt.Sprintf("bench-runner-%d", id)

	st, metaURL, drop, err := benchkit.ScratchSchema(ctx, c.postgres, schema)
	if err != nil {
		return nil, err
	}
	defer drop()
	number, total, err := applyProject(ctx, st, p)
	if err != nil {
		return nil, err
	}

	u, err := url.Parse(c.s3)
	if err != nil {
		return nil, fmt.Errorf("-s3: %w", err)
	}
	u.Path = "/" + prefix
	storeURL := u.String()
	defer removePrefix(context.WithoutCancel(ctx), storeURL)
	defer benchkit.DeleteStream(context.WithoutCancel(ctx), c.nats, stream)

	env := []string{
		"BIC_METADATA_URL=" + metaURL, "BIC_NATS_URL=" + c.nats, "BIC_NATS_STREAM=" + stream,
		"BIC_STORAGE_URL=" + storeURL, "AWS_REGION=" + cmp.Or(os.Getenv("AWS_REGION"), "us-east-1"),
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BIC_") && !strings.HasPrefix(kv, "AWS_REGION=") {
			env = append(env, kv)
		}
	}
	logs, err := os.MkdirTemp("", "bic-bench-logs-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(logs)

	var procs []*exec.Cmd
	var addrs []string
	defer func() { benchkit.StopAll(procs) }()
	start, services0 := time.Now(), servicesCPU(serviceNames...)
	for i := range runners {
		addr, err := benchkit.FreeAddr()
		if err != nil {
			return nil, err
		}
		logFile, err := os.Create(filepath.Join(logs, fmt.Sprintf("runner-%d.log", i)))
		if err != nil {
			return nil, err
		}
		defer logFile.Close()
		cmd := exec.Command(c.bic, "runner", "-p", p.dir, "--metrics-addr", addr)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start bic runner: %w", err)
		}
		procs, addrs = append(procs, cmd), append(addrs, addr)
	}
	wall, err := waitForJobs(ctx, st, total)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, tails(logs))
	}
	sc := benchkit.Scrape{}
	for _, a := range addrs {
		if err := sc.Get(ctx, a); err != nil {
			return nil, err
		}
	}
	services := servicesCPU(serviceNames...) - services0
	if err := benchkit.StopAll(procs); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, tails(logs))
	}
	cpu := procsCPU(procs)
	procs = nil
	r, err := summarize(ctx, st, number, start, wall, sc)
	if err != nil {
		return nil, err
	}
	r.cpu, r.services = cpu, services
	r.jobByID, err = probeJobByID(ctx, st)
	return r, err
}

// serviceNames are the process names of the real path's services.
var serviceNames = []string{"nats-server", "postgres", "versitygw"}

// tails is the end of each runner's log, for an error message.
func tails(dir string) string {
	var b strings.Builder
	names, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, n := range names {
		data, _ := os.ReadFile(n)
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", filepath.Base(n), data)
	}
	return b.String()
}

// removePrefix deletes every object under the S3 URL's prefix.
func removePrefix(ctx context.Context, rawURL string) {
	cfg, err := storage.ParseS3URL(rawURL)
	if err != nil || cfg.Prefix == "" {
		return
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), ""),
		Secure: !cfg.Insecure, Region: cmp.Or(os.Getenv("AWS_REGION"), "us-east-1"),
	})
	if err != nil {
		return
	}
	objects := client.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Prefix: cfg.Prefix, Recursive: true})
	for range client.RemoveObjects(ctx, cfg.Bucket, objects, minio.RemoveObjectsOptions{}) {
	}
}
