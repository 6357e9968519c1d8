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
// with the time the connector received it.
func (enc encoder) message(e *connector.Event) (kafka.Message, error) {
	m := kafka.Message{Topic: enc.topicOf(e), Time: e.ReceivedAt}
	if e.Subject != "" {
		m.Key = []byte(e.Subject)
	}
	if enc.structured {
		v, err := e.Marshal()
		if err != nil {
			return m, fmt.Errorf("encode %s: %w", e.ID, err)
		}
		m.Value = v
		m.Headers = []kafka.Header{{Key: HeaderContentType, Value: []byte(connector.ContentType)}}
		return m, nil
	}
	m.Value, m.Headers = e.Data, binaryHeaders(e)
	if e.Data == nil {
		m.Value = e.Raw // no normalized data (the body is not JSON): carry the body as sent
	}
	return m, nil
}

// binaryHeaders returns the attributes of e as ce_ headers; empty optional
// attributes are left out.
func binaryHeaders(e *connector.Event) []kafka.Header {
	contentType := "application/json"
	if e.Data == nil {
		contentType = "application/octet-stream"
	}
	h := make([]kafka.Header, 0, 16)
	add := func(k, v string) {
		if v != "" {
			h = append(h, kafka.Header{Key: k, Value: []byte(v)})
		}
	}
	add(HeaderSpecVersion, connector.SpecVersion)
	add(HeaderID, e.ID)
	add(HeaderSource, e.Source)
	add(HeaderType, e.Type)
	add(HeaderTime, e.Time.UTC().Format(time.RFC3339Nano))
	add(HeaderSubject, e.Subject)
	add(HeaderDataSchema, e.DataSchema)
	add(HeaderContentType, contentType)
	add("ce_agentid", e.AgentID)
	add("ce_callid", e.CallID)
	add("ce_conversationid", e.ConversationID)
	add("ce_channel", e.Channel)
	add("ce_direction", e.Direction)
	add("ce_normstatus", string(e.Status))
	add("ce_receivedtime", e.ReceivedAt.UTC().Format(time.RFC3339Nano))
	return h
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
