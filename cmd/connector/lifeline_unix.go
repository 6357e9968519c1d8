//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lifelineCheck is how often the parent and standard output are looked at.
const lifelineCheck = 250 * time.Millisecond

// Reasons a command stops on its own (context.Cause of attach's context).
// Each is a cancellation: the command stops as on Ctrl-C, exit status 0.
var (
	errParentGone   = fmt.Errorf("%w: the parent process has gone", context.Canceled)
	errStdinClosed  = fmt.Errorf("%w: standard input closed", context.Canceled)
	errStdoutClosed = fmt.Errorf("%w: standard output has no reader left", context.Canceled)
)

// attach returns a context that also ends when nobody is left to see the
// command's output, though no signal came: its parent process has gone,
// its standard input (a pipe) has closed, or its standard output (a pipe)
// has no reader left. `go run` is such a parent: it passes no signal on, so
// `kill <pid of go run>` leaves its child behind, reparented. A nil stdin
// is not watched. The checks cost one getppid and one poll every
// lifelineCheck. Cancel releases them, except a read of standard input,
// which ends with the process.
func attach(ctx context.Context, stdin, stdout *os.File) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	if stdin != nil && isPipe(stdin) {
		go func() {
			_, _ = io.Copy(io.Discard, stdin) // ends at EOF: the writer closed it
			cancel(errStdinClosed)
		}()
	}
	parent, watchOut := os.Getppid(), isPipe(stdout)
	go func() {
		t := time.NewTicker(lifelineCheck)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			switch {
			case parent > 1 && os.Getppid() != parent:
				cancel(errParentGone)
			case watchOut && widowed(stdout):
				cancel(errStdoutClosed)
			}
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}

// isPipe reports whether f is a pipe (or FIFO), whose other end can close.
func isPipe(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeNamedPipe != 0
}

// widowed reports whether the pipe f writes to has no reader left: poll
// then reports an error on it without anything being written.
func widowed(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	_ = rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: 0}}
		n, err := unix.Poll(fds, 0)
		gone = err == nil && n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0
	})
	return gone
}
