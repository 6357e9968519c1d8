package agentphonetest

import (
	"context"
	"testing"
	"time"
)

// Start returns a server as NewServer does, failing t if it cannot start, and
// closes it when the test ends, failing t if it does not close cleanly.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}
