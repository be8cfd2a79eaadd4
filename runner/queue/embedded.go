package queue

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startEmbedded runs a JetStream server in this process with its files
// under dir and no listening socket; clients reach it in-process only.
// stop shuts it down and releases dir.
func startEmbedded(dir string, log *slog.Logger) (srv *server.Server, stop func(), err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("queue: create embedded nats dir: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, nil, err
	}
	stop = func() {
		srv.Shutdown()
		srv.WaitForShutdown()
		unlock()
	}
	srv, err = server.NewServer(&server.Options{
		ServerName: "bic-embedded",
		JetStream:  true,
		StoreDir:   dir,
		DontListen: true,
		NoSigs:     true,
	})
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("queue: configure embedded nats: %w", err)
	}
	srv.SetLoggerV2(serverLogger{log: log.With("component", "nats_server")}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		stop()
		return nil, nil, fmt.Errorf("queue: embedded nats in %s: not ready after 30s", dir)
	}
	if !srv.JetStreamEnabled() {
		stop()
		return nil, nil, fmt.Errorf("queue: embedded nats in %s: jetstream did not start (see the log)", dir)
	}
	return srv, stop, nil
}

// serverLogger passes the embedded server's log to slog. Its notices (the
// start-up banner, configuration) are debug output for bic.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l serverLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLogger) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
