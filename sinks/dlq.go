package sinks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
)

// Headers of a dead-lettered message. Its data is the journal message as it
// was, so the event can be inspected and re-driven by hand.
const (
	HeaderSink          = "Connector-Sink"           // the sink that rejected the event
	HeaderReason        = "Connector-Reason"         // why, as the target said it (at most 1 KiB)
	HeaderEventID       = "Connector-Event-Id"       // the event's ID, absent when the journal message is not an event
	HeaderJournalStream = "Connector-Journal-Stream" // the journal stream and sequence it came from
	HeaderJournalSeq    = "Connector-Journal-Seq"
	HeaderFailedAt      = "Connector-Failed-At" // RFC 3339
)

const maxReason = 1024

// DeadLetterStreamConfig returns the JetStream configuration of the
// dead-letter stream: <prefix>.<sink>, kept MaxAge, never discarding old
// entries for new ones silently (a full stream refuses, and the sink retries).
func DeadLetterStreamConfig(c DeadLetterConfig) jetstream.StreamConfig {
	sc := jetstream.StreamConfig{
		Name:        c.Stream,
		Description: "Events a sink rejected for good (agentphone-connector)",
		Subjects:    []string{c.SubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxAge:      c.MaxAge,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		Replicas:    max(c.Replicas, 1),
		Storage:     jetstream.FileStorage,
	}
	if c.Memory {
		sc.Storage = jetstream.MemoryStorage
	}
	return sc
}

// deadLetters publishes rejected events to the dead-letter stream.
type deadLetters struct {
	js      jetstream.JetStream
	cfg     DeadLetterConfig
	journal string
	now     func() time.Time
}

func (dl *deadLetters) ensure(ctx context.Context) error {
	if _, err := dl.js.CreateOrUpdateStream(ctx, DeadLetterStreamConfig(dl.cfg)); err != nil {
		return fmt.Errorf("dead-letter stream %s: %w", dl.cfg.Stream, err)
	}
	return nil
}

// publish stores one rejected journal message and waits for the stream's
// ack. The message ID makes a second publish of the same event by the same
// sink (after a crash, say) a no-op.
func (dl *deadLetters) publish(ctx context.Context, sink string, it *item, reason error) error {
	msg := &nats.Msg{Subject: dl.cfg.SubjectPrefix + "." + sink, Data: it.msg.Data, Header: nats.Header{}}
	h := msg.Header
	h.Set("Content-Type", connector.ContentType)
	h.Set(HeaderSink, sink)
	h.Set(HeaderReason, headerValue(reason.Error(), maxReason))
	h.Set(HeaderJournalStream, dl.journal)
	h.Set(HeaderJournalSeq, strconv.FormatUint(it.seq, 10))
	h.Set(HeaderFailedAt, dl.now().UTC().Format(time.RFC3339Nano))
	id := sink + ":seq:" + strconv.FormatUint(it.seq, 10)
	if it.ev != nil {
		h.Set(HeaderEventID, it.ev.ID)
		id = sink + ":" + it.ev.ID
	}
	if _, err := dl.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id), jetstream.WithExpectStream(dl.cfg.Stream)); err != nil {
		return fmt.Errorf("dead-letter %s seq %d: %w", sink, it.seq, err)
	}
	return nil
}

// headerValue makes s fit in one header line of at most n bytes.
func headerValue(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-3], "") + "..."
}
