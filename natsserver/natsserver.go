// Package natsserver runs the embedded nats-server that the connector uses as
// its journal when no NATS URL is configured. It is the only package that
// imports nats-server.
//
// Nothing connects to it without credentials. It has two users, each with a
// password kept under the data directory (CredentialsDir, owner-only,
// created on first start unless an operator wrote them): ConnectorUser, who
// may do everything, and SubscriberUser, who may only read (Access). Local
// subscribers connect as the latter with its password file.
package natsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	connector "github.com/agentphone-connector/connector"
)

// Config is what users set for the embedded server.
type Config struct {
	Listen     string        `env:"CONNECTOR_NATS_LISTEN, default=127.0.0.1:4222" help:"host:port for local subscribers; port 0 picks a free one; none listens nowhere"`
	MaxPayload int32         `env:"CONNECTOR_NATS_MAX_PAYLOAD, default=8388608" help:"largest message in bytes; an event holds the raw body and its normalized data"`
	StoreDir   string        // JetStream file store; set by the caller from the data directory
	StartWait  time.Duration `env:"CONNECTOR_NATS_START_TIMEOUT, default=30s" help:"how long start-up may wait for NATS: the embedded server recovering a large store, or the cluster of NATS_URL forming"`
	Access     Access        // what subscribers may read; set by the caller from the journal's configuration
}

func (c Config) listens() bool { return c.Listen != "" && c.Listen != "none" }

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.listens() {
		if _, port, err := net.SplitHostPort(c.Listen); err != nil {
			errs = append(errs, connector.Invalid("CONNECTOR_NATS_LISTEN", "not host:port, none or empty (%v)", err))
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			errs = append(errs, connector.Invalid("CONNECTOR_NATS_LISTEN", "the port %q is not 0 to 65535", port))
		}
	}
	if c.MaxPayload < 1<<20 || c.MaxPayload > 64<<20 {
		errs = append(errs, connector.Invalid("CONNECTOR_NATS_MAX_PAYLOAD", "must be between 1 MiB and 64 MiB (1048576 and 67108864)"))
	}
	if c.StoreDir == "" {
		errs = append(errs, connector.Invalid("CONNECTOR_DATA_DIR", "must be set"))
	}
	if c.StartWait <= 0 {
		errs = append(errs, connector.Invalid("CONNECTOR_NATS_START_TIMEOUT", "must be positive"))
	}
	return errors.Join(errs...)
}

// Server is a running embedded nats-server with JetStream.
type Server struct {
	ns        *server.Server
	log       *slog.Logger
	passwords map[string]string // by user
}

// Start starts the server and waits until it accepts connections, reading
// (or creating) the users' passwords under cfg.StoreDir. The caller must
// Shutdown it.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	us, pws, err := users(cfg.StoreDir, cfg.Access, log)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		Users:              us,
		ServerName:         "connector-embedded",
		JetStream:          true,
		StoreDir:           filepath.Join(cfg.StoreDir, "jetstream"),
		MaxPayload:         cfg.MaxPayload,
		NoSigs:             true,
		DontListen:         !cfg.listens(),
		JetStreamMaxMemory: -1,
		JetStreamMaxStore:  -1,
	}
	if cfg.listens() {
		host, port, _ := net.SplitHostPort(cfg.Listen)
		opts.Host = host
		opts.Port, _ = strconv.Atoi(port)
		if opts.Port == 0 {
			opts.Port = server.RANDOM_PORT
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	ns.SetLoggerV2(logAdapter{log.With("component", "nats-server")}, false, false, false)
	go ns.Start()
	wait := cfg.StartWait
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = time.Until(d)
	}
	if !ns.ReadyForConnections(wait) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready after %s", wait)
	}
	s := &Server{ns: ns, log: log, passwords: pws}
	log.Info("embedded nats-server started", "listen", s.listenAddr(), "store", opts.StoreDir)
	return s, nil
}

func (s *Server) listenAddr() string {
	if a := s.ns.Addr(); a != nil {
		return a.String()
	}
	return ""
}

// ClientURL returns the URL local subscribers connect to, "" when the server
// does not listen.
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// Connect opens a client connection to the server as ConnectorUser without
// going through the network, its replies under InboxPrefix.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.InProcessServer(s.ns), nats.Name("connector"), s.As(ConnectorUser), nats.CustomInboxPrefix(InboxPrefix)}, opts...)
	return nats.Connect("", opts...)
}

// As returns the option that connects to the server as user.
func (s *Server) As(user string) nats.Option {
	return nats.UserInfo(user, s.passwords[user])
}

// Shutdown stops the server after its clients have gone, flushing the store.
// It waits until the server has stopped or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		close(done)
	}()
	select {
	case <-done:
		s.log.Info("embedded nats-server stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("embedded nats shutdown: %w", ctx.Err())
	}
}
