package kafkasink

import (
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	connector "github.com/agentphone-connector/connector"
)

// Header names of the CloudEvents Kafka binding (binary mode): each
// attribute as "ce_" + its name, the data's media type as content-type.
const (
	HeaderID          = "ce_id"
	HeaderSpecVersion = "ce_specversion"
	HeaderSource      = "ce_source"
	HeaderType        = "ce_type"
	HeaderTime        = "ce_time"
	HeaderSubject     = "ce_subject"
	HeaderDataSchema  = "ce_dataschema"
	HeaderContentType = "content-type"
)

// encoder turns events into Kafka messages.
type encoder struct {
	topic      string // with KindToken when one topic per family
	perFamily  bool
	structured bool
}

func newEncoder(c Config) encoder {
	return encoder{topic: c.Topic, perFamily: strings.Contains(c.Topic, KindToken), structured: c.Mode == ModeStructured}
}

// topicOf returns the topic of e.
func (enc encoder) topicOf(e *connector.Event) string {
	if !enc.perFamily {
		return enc.topic
	}
	return strings.ReplaceAll(enc.topic, KindToken, e.Kind().Token)
}

// message returns e as a Kafka message: keyed by its Subject (a call's or a
// conversation's events share a partition, so they stay in order), stamped
// with the time the connector received it. Its key and header values are cut
// from sc, so that a batch's messages share a few buffers; Value is e's own
// data, not a copy.
func (enc encoder) message(e *connector.Event, sc *scratch) (kafka.Message, error) {
	m := kafka.Message{Topic: enc.topicOf(e), Time: e.ReceivedAt}
	if e.Subject != "" {
		m.Key = sc.bytes(e.Subject)
	}
	if enc.structured {
		v, err := e.Marshal()
		if err != nil {
			return m, fmt.Errorf("encode %s: %w", e.ID, err)
		}
		m.Value = v
		m.Headers = sc.headers(kafka.Header{Key: HeaderContentType, Value: sc.bytes(connector.ContentType)})
		return m, nil
	}
	m.Value, m.Headers = e.Data, sc.binaryHeaders(e)
	if e.Data == nil {
		m.Value = e.Raw // no normalized data (the body is not JSON): carry the body as sent
	}
	return m, nil
}

// scratch holds one batch's messages, their keys and their headers: values
// are appended to shared buffers and handed out as slices of them. A buffer
// that grows leaves the slices already handed out in the old one, where they
// stay valid. The messages may be used until the scratch is reset.
type scratch struct {
	m []kafka.Message
	b []byte
	h []kafka.Header
}

// newScratch returns a scratch sized for n events of the usual size.
func newScratch(n int) *scratch {
	return &scratch{b: make([]byte, 0, n*320), h: make([]kafka.Header, 0, n*maxHeaders)}
}

// reset makes the scratch empty again; what it handed out must not be used
// any more.
func (sc *scratch) reset() {
	clear(sc.h)
	sc.b, sc.h = sc.b[:0], sc.h[:0]
}

// messages returns n zero messages.
func (sc *scratch) messages(n int) []kafka.Message {
	if cap(sc.m) < n {
		sc.m = make([]kafka.Message, n)
	}
	sc.m = sc.m[:n]
	clear(sc.m)
	return sc.m
}

func (sc *scratch) bytes(v string) []byte {
	n := len(sc.b)
	sc.b = append(sc.b, v...)
	return sc.b[n:len(sc.b):len(sc.b)]
}

func (sc *scratch) time(t time.Time) []byte {
	n := len(sc.b)
	sc.b = t.UTC().AppendFormat(sc.b, time.RFC3339Nano)
	return sc.b[n:len(sc.b):len(sc.b)]
}

// headers returns hs as one message's headers.
func (sc *scratch) headers(hs ...kafka.Header) []kafka.Header {
	n := len(sc.h)
	sc.h = append(sc.h, hs...)
	return sc.h[n:len(sc.h):len(sc.h)]
}

// maxHeaders is the most headers binaryHeaders gives an event.
const maxHeaders = 15

// binaryHeaders returns the attributes of e as ce_ headers; empty optional
// attributes are left out.
func (sc *scratch) binaryHeaders(e *connector.Event) []kafka.Header {
	contentType := "application/json"
	if e.Data == nil {
		contentType = "application/octet-stream"
	}
	start := len(sc.h)
	add := func(k string, v []byte) { sc.h = append(sc.h, kafka.Header{Key: k, Value: v}) }
	addString := func(k, v string) {
		if v != "" {
			add(k, sc.bytes(v))
		}
	}
	add(HeaderSpecVersion, sc.bytes(connector.SpecVersion))
	addString(HeaderID, e.ID)
	addString(HeaderSource, e.Source)
	addString(HeaderType, e.Type)
	add(HeaderTime, sc.time(e.Time))
	addString(HeaderSubject, e.Subject)
	addString(HeaderDataSchema, e.DataSchema)
	add(HeaderContentType, sc.bytes(contentType))
	addString("ce_agentid", e.AgentID)
	addString("ce_callid", e.CallID)
	addString("ce_conversationid", e.ConversationID)
	addString("ce_channel", e.Channel)
	addString("ce_direction", e.Direction)
	addString("ce_normstatus", string(e.Status))
	add("ce_receivedtime", sc.time(e.ReceivedAt))
	return sc.h[start:len(sc.h):len(sc.h)]
}

// size is the bytes a message takes in a produce request, near enough to
// keep requests under the broker's limit.
func size(m *kafka.Message) int {
	n := 70 + len(m.Key) + len(m.Value) // record overhead, varints, timestamp delta
	for _, h := range m.Headers {
		n += 10 + len(h.Key) + len(h.Value)
	}
	return n
}
