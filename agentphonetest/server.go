package agentphonetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// Errors of the Server's methods.
var (
	ErrClosed      = errors.New("agentphonetest: server closed")
	ErrListening   = errors.New("agentphonetest: server already listening")
	ErrNoWebhook   = errors.New("agentphonetest: no webhook route for the event's agent")
	ErrNoCall      = errors.New("agentphonetest: no such call")
	ErrCallEnded   = errors.New("agentphonetest: call is not in progress")
	ErrInvalidTurn = errors.New("agentphonetest: turn role must be agent or user")
)

// Server plays AgentPhone: it delivers signed webhooks with the provider's
// retries, and serves the REST endpoints and transcript stream the connector
// calls. Create one with New (no listener: use Handler) or NewServer
// (listening on loopback), drive it, and Close it; every goroutine it started
// has ended when Close returns. A Server is safe for concurrent use.
type Server struct {
	opts      Options
	clock     Clock
	log       *slog.Logger
	ctx       context.Context // cancelled by Close: stops deliveries and streams
	cancel    context.CancelFunc
	work      sync.WaitGroup // delivery goroutines
	transport *http.Transport
	client    *http.Client
	inflight  chan struct{} // a slot per webhook request in flight
	limiter   *limiter
	handler   http.Handler

	mu         sync.Mutex
	closed     bool
	rng        *rand.Rand
	agents     []Agent
	numbers    []Number
	calls      []*callState // by start time, live calls last
	callsByID  map[string]*callState
	deliveries []*Delivery
	httpServer *http.Server
	listener   net.Listener
	serveErr   chan error
}

// New returns a server that is not listening: deliveries work, and Handler
// serves the REST and SSE endpoints. Call Listen to serve them on a port.
func New(opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("agentphonetest options: %w", err)
	}
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = opts.MaxInFlight
	s := &Server{
		opts: opts, clock: opts.Clock, log: opts.Logger, ctx: ctx, cancel: cancel, transport: tr,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // the provider does not follow redirects (SPEC.md 1.5)
		}},
		inflight: make(chan struct{}, opts.MaxInFlight),
		limiter:  newLimiter(opts.RateLimit, opts.RateWindow, opts.Clock.Now),
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed^0xa0761d6478bd642f)),
		agents:   opts.Account.Agents, numbers: opts.Account.Numbers, callsByID: map[string]*callState{},
	}
	for _, c := range opts.Account.Calls {
		s.addCallLocked(c.clone())
	}
	s.handler = s.routes()
	return s, nil
}

// NewServer returns a server listening on a free loopback port, in the manner
// of httptest.NewServer.
func NewServer(opts Options) (*Server, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		return nil, errors.Join(err, s.Close(context.Background()))
	}
	return s, nil
}

// Listen serves the REST and SSE endpoints on addr ("" is 127.0.0.1:0) until
// Close. It fails when the server already listens or is closed.
func (s *Server) Listen(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("agentphonetest listen: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return errors.Join(ErrClosed, ln.Close())
	case s.listener != nil:
		return errors.Join(ErrListening, ln.Close())
	}
	s.listener, s.serveErr = ln, make(chan error, 1)
	s.httpServer = &http.Server{
		Handler:           s.handler,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func(hs *http.Server, done chan<- error) { done <- hs.Serve(ln) }(s.httpServer, s.serveErr)
	return nil
}

// URL returns the base URL of the REST API, "http://127.0.0.1:<port>", or ""
// when the server is not listening.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// APIKey returns the Bearer token the server accepts.
func (s *Server) APIKey() string { return s.opts.APIKey }

// Handler returns the handler of the REST and SSE endpoints, for mounting on
// a server of the caller's. Streams it serves end when the Server closes.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the server: deliveries stop retrying (a pending one keeps
// its state), streams end, the listener closes. It returns once every
// goroutine the server started has ended, or with ctx's error. Close is
// idempotent.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	hs, serveErr := s.httpServer, s.serveErr
	s.mu.Unlock()

	s.cancel()
	var errs []error
	if hs != nil {
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("agentphonetest shutdown: %w", err))
		}
		if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("agentphonetest serve: %w", err))
		}
	}
	done := make(chan struct{})
	go func() { s.work.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("agentphonetest close: deliveries still running: %w", ctx.Err()))
	}
	s.transport.CloseIdleConnections()
	return errors.Join(errs...)
}

// newIDLocked returns prefix + n hex digits from the server's seeded source.
func (s *Server) newIDLocked(prefix string, n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(prefix)+n)
	b = append(b, prefix...)
	for range n {
		b = append(b, hex[s.rng.IntN(16)])
	}
	return string(b)
}
