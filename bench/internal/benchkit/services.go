package benchkit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bic-dev/bic/publish/metadata"
)

// ScratchSchema opens a metadata store in a new PostgreSQL schema; drop
// closes it and drops the schema.
func ScratchSchema(ctx context.Context, pgURL, schema string) (*metadata.Store, string, func(), error) {
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return nil, "", nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return nil, "", nil, fmt.Errorf("create schema: %w", err)
	}
	dropSchema := func() {
		_, _ = admin.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	}
	sep := "?"
	if strings.Contains(pgURL, "?") {
		sep = "&"
	}
	metaURL := pgURL + sep + "search_path=" + schema
	st, err := metadata.Open(ctx, metaURL, "")
	if err != nil {
		dropSchema()
		return nil, "", nil, err
	}
	return st, metaURL, func() { st.Close(); dropSchema() }, nil
}

// StopAll sends SIGTERM to the runners and waits for them, killing any
// that is still running after 30 s. A runner stopped by the signal exits
// 143 (128 + SIGTERM), which is a clean stop.
func StopAll(procs []*exec.Cmd) error {
	for _, p := range procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	var errs []error
	for _, p := range procs {
		done := make(chan error, 1)
		go func() { done <- p.Wait() }()
		select {
		case err := <-done:
			var exit *exec.ExitError
			if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 128+int(syscall.SIGTERM)) {
				errs = append(errs, fmt.Errorf("bic runner %d: %w", p.Process.Pid, err))
			}
		case <-time.After(30 * time.Second):
			_ = p.Process.Kill()
			<-done
			errs = append(errs, fmt.Errorf("bic runner %d: still running 30 s after SIGTERM; killed", p.Process.Pid))
		}
	}
	return errors.Join(errs...)
}

// FreeAddr is a loopback address no one listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// DeleteStream removes a JetStream stream, if it can.
func DeleteStream(ctx context.Context, natsURL, stream string) {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		return
	}
	defer nc.Close()
	if js, err := jetstream.New(nc); err == nil {
		_ = js.DeleteStream(ctx, stream)
	}
}
