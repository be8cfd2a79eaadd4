// Command bic is the command-line interface: it reads flags and
// configuration, wires the parts together and turns errors into exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes, as DESIGN.md fixes them.
const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
	exitRuntime = 3
	// A command stopped by a signal exits as shells report one: 128 plus
	// the signal's number.
	exitInterrupted = 128 + 2  // SIGINT
	exitTerminated  = 128 + 15 // SIGTERM
)

// exitError carries an exit code up to main; its message, if any, is printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := notifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalCause is why a command's context was canceled: a signal arrived.
type signalCause struct{ sig os.Signal }

func (s signalCause) Error() string { return s.sig.String() + " signal received" }

// notifyContext is signal.NotifyContext for SIGINT and SIGTERM that keeps
// which signal arrived as the context's cause, for the exit code. After
// the first signal the default action is restored, so a second one stops
// bic at once even if something ignores the context.
func notifyContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(signalCause{sig: s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}

// canceledCode is the exit code of a command whose context was canceled:
// 143 for SIGTERM, else 130, as for Ctrl-C.
func canceledCode(ctx context.Context) int {
	var sc signalCause
	if errors.As(context.Cause(ctx), &sc) && sc.sig == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}

// run executes one command line and returns its exit code; tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "bic: internal error: %v\nplease report this with the command you ran\n", r)
			code = exitRuntime
		}
	}()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if ctx.Err() != nil {
		// Whatever the command made of it, it did not finish its work.
		fmt.Fprintf(stderr, "bic: stopped: %v\n", context.Cause(ctx))
		return canceledCode(ctx)
	}
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "bic: %v\n", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors are about flags and arguments.
	fmt.Fprintf(stderr, "bic: %v\nRun 'bic --help' for usage.\n", err)
	return exitUsage
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "bic",
		Short:         "Dashboards as code: validate, plan, apply and serve precomputed dashboards",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	addLimitFlags(root.PersistentFlags())
	root.AddCommand(newValidateCmd(), newSchemaCmd(), newInitCmd(), newQueryCmd(),
		newMigrateCmd(), newPlanCmd(), newApplyCmd(), newPreviewCmd(), newHistoryCmd(), newRollbackCmd(), newDestroyCmd(), newGCCmd(), newRunnerCmd(), newServeCmd(), newPublishCmd())
	root.AddCommand(newStatusCmd())
	root.AddCommand(newTokenCmd(), newLinkCmd())
	root.AddCommand(newPromoteCmd())
	root.AddCommand(newAlertsCmd(), newSchedulesCmd())
	root.AddCommand(newImportCmd())
	root.AddCommand(newDevCmd())
	return root
}
