package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bic-dev/bic/bench/internal/benchkit"
)

// bicCmd is `bic ARGS…` on the embedded defaults.
func bicCmd(ctx context.Context, bic string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bic, args...)
	cmd.Env = benchkit.EmbeddedEnv()
	return cmd
}

// apply runs `bic apply --auto-approve --wait` in dir and times it.
func apply(ctx context.Context, bic, dir string) (time.Duration, error) {
	start := time.Now()
	out, err := bicCmd(ctx, bic, "apply", "-p", dir, "--auto-approve", "--wait").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("bic apply --wait -p %s: %w\n%s", dir, err, tail(out))
	}
	return time.Since(start), nil
}

// child is a bic child process that this bench started.
type child struct {
	name string // for messages: bic serve, bic runner
	cmd  *exec.Cmd
	log  string
	done chan error
}

// startChild starts bin with args and env, its output in logPath, and
// waits until ready answers 200.
func startChild(ctx context.Context, name, logPath string, env []string, ready, bin string, args ...string) (*child, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	if err := waitReady(ctx, ready, c.done); err != nil {
		c.stop()
		return nil, fmt.Errorf("%s: %w\n%s", name, err, c.logTail())
	}
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop sends SIGTERM and waits; a second call does nothing. A process
// stopped by the signal exits 0 or 143.
func (c *child) stop() error {
	if c.cmd == nil {
		return nil
	}
	cmd := c.cmd
	c.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 128+int(syscall.SIGTERM)) {
			return fmt.Errorf("%s: %w\n%s", c.name, err, c.logTail())
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s %d: still running 30 s after SIGTERM; killed", c.name, cmd.Process.Pid)
	}
}

func (c *child) logTail() string {
	data, _ := os.ReadFile(c.log)
	return tail(data)
}

// served is a running `bic serve` child process.
type served struct {
	*child
	base string // http://127.0.0.1:PORT
}

// startServe starts `bic serve` on a free loopback port with env (nil:
// the embedded defaults) and the extra args, and waits until /readyz
// answers 200.
func startServe(ctx context.Context, bic, dir, logPath string, env []string, args ...string) (*served, error) {
	addr, err := benchkit.FreeAddr()
	if err != nil {
		return nil, err
	}
	if env == nil {
		env = benchkit.EmbeddedEnv()
	}
	base := "http://" + addr
	c, err := startChild(ctx, "bic serve", logPath, env, base+"/readyz", bic, append([]string{"serve", "-p", dir, "--addr", addr}, args...)...)
	if err != nil {
		return nil, err
	}
	return &served{child: c, base: base}, nil
}

// waitReady polls url until it answers 200, the process ends (done) or
// 30 s pass.
func waitReady(ctx context.Context, url string, done <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-done:
			return fmt.Errorf("exited before %s answered: %v", url, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within 30 s", url)
		}
	}
}

// rss is a process's resident set size in bytes, from /proc/PID/status.
func rss(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the RSS of %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				break
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// tail is the end of a command's output, for an error message.
func tail(out []byte) string {
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return string(out)
}
