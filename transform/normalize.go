package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	connector "github.com/agentphone-connector/connector"
)

// Meta is what the source knows about a body besides its bytes.
type Meta struct {
	ID         string    // the event ID: X-Webhook-ID, or a body hash when the header is missing
	Source     string    // the envelope source, e.g. "agentphone/webhook/project"
	ReceivedAt time.Time // when the source took the body in
}

// errMissing reports a known kind whose data lacks the fields that identify it.
var errMissing = errors.New("transform: required field missing")

// Normalize turns a verified webhook body into an Event. It never fails: a
// body it cannot type is carried with its raw bytes and a Status saying why.
// A body that is JSON but unsafe to embed in an envelope (connector.CheckJSON:
// nested deeper than connector.MaxDepth, not UTF-8, a number beyond float64)
// gets no data, StatusTooDeep or StatusUnsafeJSON, and keeps its type and
// routing attributes.
// The event keeps raw, and its strings point into it (nothing is copied): the
// caller must not modify raw, or reuse its buffer, while the event is in use.
func Normalize(m Meta, raw []byte) *connector.Event {
	e := &connector.Event{ID: m.ID, Source: m.Source, ReceivedAt: m.ReceivedAt, Raw: raw}
	var b wireBody
	if err := decode(raw, &b); err != nil || !isObject(raw) {
		e.Type = connector.TypePrefix + connector.EventInvalid
		e.Status = connector.StatusInvalidJSON
		e.Time = m.ReceivedAt
		return e
	}
	e.Type = connector.TypePrefix + b.Event
	e.Time = parseTime(b.Timestamp)
	if e.Time.IsZero() {
		e.Time = m.ReceivedAt
	}
	e.AgentID, e.Channel = b.AgentID, b.Channel
	if b.Event == "" {
		e.Type = connector.TypePrefix + connector.EventUnknown
	}
	if err := connector.CheckJSON(raw); err != nil {
		// Valid JSON that a consumer's decoder would refuse: the envelope
		// carries none of it as JSON (the raw body goes as raw_base64).
		e.Status = connector.StatusUnsafeJSON
		if errors.Is(err, connector.ErrTooDeep) {
			e.Status = connector.StatusTooDeep
		}
		fillRefs(e, b.Data)
		return e
	}
	if err := typeData(e, &b); err != nil {
		e.Status = connector.StatusInvalidData
		e.Data = nil
		if isJSONValue(b.Data) {
			e.Data = b.Data
		}
		fillRefs(e, b.Data)
		return e
	}
	e.DataSchema = e.Kind().Schema()
	return e
}

// typeData fills the event's typed data and attributes for the known kinds,
// and carries the data of the others as sent.
func typeData(e *connector.Event, b *wireBody) error {
	switch b.Event {
	case connector.EventMessage:
		return message(e, b)
	case connector.EventCallEnded:
		return callEnded(e, b)
	case connector.EventReaction:
		return reaction(e, b)
	}
	e.Status = connector.StatusUnknownType
	if b.Event == connector.EventContactShared {
		e.Status = connector.StatusUntyped
	}
	if isJSONValue(b.Data) {
		e.Data = b.Data
	}
	fillRefs(e, b.Data)
	return nil
}

// fillRefs reads the call, conversation and direction of data that is not
// typed, so the event can still be keyed and filtered.
func fillRefs(e *connector.Event, data json.RawMessage) {
	var r wireRefs
	if decode(data, &r) != nil {
		return
	}
	e.CallID, e.ConversationID, e.Direction = r.CallID, r.ConversationID, r.Direction
	e.Subject = firstOf(r.CallID, r.ConversationID)
}

// decode reads one JSON value into v: field names match exactly (AgentPhone's
// are camelCase), strings and raw sub-messages point into b rather than being
// copied, and anything after the value is an error.
func decode(b []byte, v any) error {
	rest, err := fastjson.Parse(b, v, fastjson.DontCopyString|fastjson.DontCopyRawMessage|fastjson.DontMatchCaseInsensitiveStructFields)
	if err != nil {
		return err
	}
	if len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return errTrailing
	}
	return nil
}

var errTrailing = errors.New("transform: data after the JSON value")

func isObject(raw []byte) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

// isJSONValue reports whether data holds a value other than null.
func isJSONValue(data json.RawMessage) bool {
	return len(data) > 0 && !bytes.Equal(data, []byte("null"))
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
