//go:build !unix

package main

import (
	"context"
	"os"
)

// attach returns ctx as it is: the checks of the parent process and the
// standard streams are made on Unix only.
func attach(ctx context.Context, _, _ *os.File) (context.Context, context.CancelFunc) {
	return context.WithCancel(ctx)
}
