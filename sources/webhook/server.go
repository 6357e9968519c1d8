package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server serves a Handler on its own listener with timeouts against slow
// clients.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	log  *slog.Logger
	done chan error
}

// Listen binds addr (":0" picks a free port) and serves h until Shutdown.
// appendTimeout is the longest a handler may wait for the journal; the write
// timeout leaves room for it.
func Listen(addr string, h http.Handler, cfg Config, appendTimeout time.Duration, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("webhook listen: %w", err)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: min(10*time.Second, cfg.ReadTimeout),
			ReadTimeout:       cfg.ReadTimeout,
			WriteTimeout:      cfg.ReadTimeout + appendTimeout + 5*time.Second,
			IdleTimeout:       cfg.IdleTimeout,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
		ln: ln, log: log, done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	log.Info("webhook listener started", "addr", ln.Addr().String(), "path", PathPrefix)
	return s, nil
}

// Addr returns the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops accepting connections and waits for requests in flight to
// finish, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("webhook shutdown: %w", err)
	}
	s.log.Info("webhook listener stopped")
	return nil
}
