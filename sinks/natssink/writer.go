package natssink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

// Name is the sink's name: its consumer, metric label and dead-letter subject.
const Name = "nats"

// Settings is what the wiring passes to the Writer.
type Settings struct {
	Logger *slog.Logger
}

// Writer publishes journaled events to another NATS deployment, as the
// journal stores them (CloudEvents structured JSON, Content-Type
// application/cloudevents+json), on subjects from the configured template.
// It is a connector.Writer; the sinks.Runner calls it from one goroutine at
// a time.
type Writer struct {
	cfg  Config
	tmpl subjectTemplate
	log  *slog.Logger

	mu sync.Mutex
	nc *nats.Conn
	js jetstream.JetStream
}

var _ connector.Writer = (*Writer)(nil)

// Errors the sink reports for events it did not publish.
var (
	// ErrTooLarge: the event exceeds the server's max_payload or the stream's
	// message size limit; it is dead-lettered.
	ErrTooLarge = errors.New("natssink: event too large for the target")
	// ErrHeldBack: an earlier event of the same key failed; this one is
	// published again with it (the stream drops the copy by Nats-Msg-Id).
	ErrHeldBack = errors.New("natssink: held back, an earlier event of the same key failed")
)

// New returns a Writer for cfg. It connects on the first Write.
func New(cfg Config, set Settings) (*Writer, error) {
	if !cfg.Enabled() {
		return nil, errors.New("nats sink: CONNECTOR_NATS_SINK_URL is not set")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tmpl, _ := parseSubject(cfg.Subject)
	return &Writer{cfg: cfg, tmpl: tmpl, log: set.Logger}, nil
}

// connect opens the connection once; it reconnects by itself after that.
func (w *Writer) connect() (*nats.Conn, jetstream.JetStream, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.nc != nil {
		return w.nc, w.js, nil
	}
	opts := []nats.Option{
		nats.Name("agentphone-connector-sink"), nats.Timeout(w.cfg.Timeout), nats.MaxReconnects(-1),
		nats.ReconnectBufSize(-1), // fail publishes while disconnected: the Runner retries them
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				w.log.Warn("nats sink disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { w.log.Info("nats sink reconnected", "url", c.ConnectedUrlRedacted()) }),
	}
	if w.cfg.Creds != "" {
		opts = append(opts, nats.UserCredentials(w.cfg.Creds))
	}
	if w.cfg.TLSCA != "" || w.cfg.TLSCert != "" {
		tc, err := sinks.TLSFiles{CA: w.cfg.TLSCA, Cert: w.cfg.TLSCert, Key: w.cfg.TLSKey}.Load()
		if err != nil {
			return nil, nil, fmt.Errorf("nats sink: %w", err)
		}
		opts = append(opts, nats.Secure(tc))
	}
	nc, err := nats.Connect(w.cfg.URL, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("nats sink connect: %w", err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(w.cfg.Timeout))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("nats sink: %w", err)
	}
	w.nc, w.js = nc, js
	return nc, js, nil
}

// Write publishes batch and returns nil when every event is stored (jetstream
// mode: the stream acknowledged it) or flushed to the server (core mode).
// Otherwise it returns a connector.WriteErrors lined up with batch:
// connector.ErrAlreadyWritten for events the stream reported as duplicates
// (stored by an earlier publish whose ack was lost), Permanent for events
// too large for the target, transient for the rest.
func (w *Writer) Write(ctx context.Context, batch []*connector.Event) error {
	nc, js, err := w.connect()
	if err != nil {
		return err
	}
	errs := make(connector.WriteErrors, len(batch))
	msgs := make([]*nats.Msg, len(batch))
	for i, e := range batch {
		msgs[i], errs[i] = w.message(nc, e)
	}
	if w.cfg.Mode == ModeCore {
		w.publishCore(ctx, nc, msgs, errs)
	} else {
		w.publishJetStream(ctx, js, batch, msgs, errs)
	}
	holdBack(batch, errs)
	for _, err := range errs {
		if err != nil {
			return errs
		}
	}
	return nil
}

// message returns e as the journal stores it (the journal's bytes when e
// was decoded from them), on its templated subject.
func (w *Writer) message(nc *nats.Conn, e *connector.Event) (*nats.Msg, error) {
	data := e.Encoded()
	if data == nil {
		var err error
		if data, err = e.Marshal(); err != nil {
			return nil, connector.Permanent(fmt.Errorf("encode %s: %w", e.ID, err))
		}
	}
	msg := &nats.Msg{Subject: w.tmpl.subject(e), Data: data, Header: nats.Header{}}
	msg.Header.Set("Content-Type", connector.ContentType)
	if n := int64(len(data) + 256); n > nc.MaxPayload() {
		return nil, connector.Permanent(fmt.Errorf("%w: event %s takes %d bytes, the server's max_payload is %d", ErrTooLarge, e.ID, n, nc.MaxPayload()))
	}
	return msg, nil
}

// publishJetStream publishes every message asynchronously with Nats-Msg-Id
// set to the event ID, then waits for each ack.
func (w *Writer) publishJetStream(ctx context.Context, js jetstream.JetStream, batch []*connector.Event, msgs []*nats.Msg, errs connector.WriteErrors) {
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		if m == nil {
			continue
		}
		opts := []jetstream.PublishOpt{jetstream.WithMsgID(batch[i].ID)}
		if w.cfg.Stream != "" {
			opts = append(opts, jetstream.WithExpectStream(w.cfg.Stream))
		}
		f, err := js.PublishMsgAsync(m, opts...)
		if err != nil {
			errs[i] = classify(err)
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			if ack.Duplicate { // stored by an earlier publish whose ack was lost
				errs[i] = connector.ErrAlreadyWritten
			}
		case err := <-f.Err():
			errs[i] = classify(err)
		case <-ctx.Done():
			errs[i] = fmt.Errorf("nats sink publish: %w", ctx.Err())
		}
	}
}

// publishCore publishes plain messages and flushes them to the server.
func (w *Writer) publishCore(ctx context.Context, nc *nats.Conn, msgs []*nats.Msg, errs connector.WriteErrors) {
	for i, m := range msgs {
		if m == nil {
			continue
		}
		if err := nc.PublishMsg(m); err != nil {
			errs[i] = classify(err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout) // a flush needs a deadline
	defer cancel()
	if err := nc.FlushWithContext(ctx); err != nil {
		for i, m := range msgs {
			if m != nil && errs[i] == nil {
				errs[i] = fmt.Errorf("nats sink flush: %w", err)
			}
		}
	}
}

// holdBack keeps per-key order: after a key's first transient failure, its
// later events of the batch are reported failed too, so they are published
// again after it.
func holdBack(batch []*connector.Event, errs connector.WriteErrors) {
	failed := map[string]bool{}
	for i, e := range batch {
		switch {
		case e.Subject == "":
		case errs[i] != nil && !connector.IsPermanent(errs[i]) && !errors.Is(errs[i], connector.ErrAlreadyWritten):
			failed[e.Subject] = true
		case failed[e.Subject]:
			errs[i] = ErrHeldBack
		}
	}
}

// classify marks errors no retry can fix Permanent.
func classify(err error) error {
	var apiErr *jetstream.APIError
	if errors.Is(err, nats.ErrMaxPayload) || errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum {
		return connector.Permanent(fmt.Errorf("nats sink publish: %w: %w", ErrTooLarge, err))
	}
	return fmt.Errorf("nats sink publish: %w", err)
}

// Close drains nothing (every Write waited for its acks) and closes the
// connection.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	nc := w.nc
	w.nc, w.js = nil, nil
	w.mu.Unlock()
	if nc == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	if err := nc.FlushWithContext(ctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		w.log.Warn("nats sink flush on close", "error", err)
	}
	nc.Close()
	return nil
}
