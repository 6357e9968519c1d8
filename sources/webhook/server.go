package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"
)

// Server serves a Handler on its own listener, with fasthttp: the webhook
// path is where every request's cost counts, and fasthttp takes about a
// third less CPU per request than net/http. It enforces the body limit while
// reading and timeouts against slow clients.
type Server struct {
	h    *Handler
	srv  *fasthttp.Server
	ln   net.Listener
	log  *slog.Logger
	done chan error
}

// Listen binds addr (":0" picks a free port) and serves h until Shutdown.
// appendTimeout is the longest a handler may wait for the journal; the write
// timeout leaves room for it.
func Listen(addr string, h *Handler, cfg Config, appendTimeout time.Duration, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("webhook listen: %w", err)
	}
	s := &Server{
		srv: &fasthttp.Server{
			Handler:               h.ServeFastHTTP,
			ErrorHandler:          h.serveError,
			Name:                  "agentphone-connector",
			NoDefaultServerHeader: true,
			NoDefaultDate:         true,
			ReadTimeout:           cfg.ReadTimeout,
			WriteTimeout:          cfg.ReadTimeout + appendTimeout + 5*time.Second,
			IdleTimeout:           cfg.IdleTimeout,
			MaxRequestBodySize:    int(cfg.MaxBodyBytes),
			StreamRequestBody:     true,     // a body over the limit reaches the handler, which knows its route
			ReadBufferSize:        16 << 10, // the request line and headers
			Logger:                fastLogger{log, &rate.Sometimes{Interval: 10 * time.Second}},
		},
		h: h, ln: ln, log: log, done: make(chan error, 1),
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
	err := s.srv.ShutdownWithContext(ctx)
	// fasthttp closes the listener only once Serve has registered it; close
	// it here too, for a Shutdown that comes first.
	_ = s.ln.Close()
	if serveErr := <-s.done; serveErr != nil && !errors.Is(serveErr, net.ErrClosed) {
		err = errors.Join(err, serveErr)
	}
	s.h.gate.summary.flush()
	if err != nil {
		return fmt.Errorf("webhook shutdown: %w", err)
	}
	s.log.Info("webhook listener stopped")
	return nil
}

// fastLogger sends fasthttp's messages (errors of single connections) to
// slog at debug, one every ten seconds at most: a client can cause one per
// connection.
type fastLogger struct {
	log  *slog.Logger
	some *rate.Sometimes
}

func (l fastLogger) Printf(format string, args ...any) {
	l.some.Do(func() { l.log.Debug(fmt.Sprintf(format, args...), "note", "one in ten seconds at most") })
}
