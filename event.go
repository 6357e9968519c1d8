package connector

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	fastjson "github.com/segmentio/encoding/json"
)

// SpecVersion is the CloudEvents version of the envelope.
const SpecVersion = "1.0"

// ContentType is the media type of an encoded Event (CloudEvents structured mode).
const ContentType = "application/cloudevents+json"

// Status says how far normalization got. Events are journaled whatever their
// status: a correctly signed body is never dropped for its content.
type Status string

// Normalization outcomes.
const (
	StatusOK          Status = "ok"           // data is the kind's typed payload
	StatusUntyped     Status = "untyped"      // a known kind with no typed schema yet: data is AgentPhone's data as sent
	StatusUnknownType Status = "unknown_type" // an event name the connector does not know: data is AgentPhone's data as sent
	StatusInvalidData Status = "invalid_data" // known kind, but data does not match its schema: data is AgentPhone's data if it is JSON
	StatusInvalidJSON Status = "invalid_json" // the body is not a JSON object: no data, raw body only
	StatusTooDeep     Status = "too_deep"     // JSON nested deeper than MaxDepth: no data, raw body as raw_base64
	StatusUnsafeJSON  Status = "unsafe_json"  // JSON a decoder would refuse or change (not UTF-8, a number beyond float64): no data, raw body as raw_base64
)

// Event is the envelope every source produces: CloudEvents 1.0 attributes,
// extension attributes for what downstream filters on, the normalized data and
// the original body.
//
// An Event is owned by whoever holds it; sinks must not modify one they did not create.
type Event struct {
	ID         string    // unique per event; a webhook's X-Webhook-ID, else a natural key
	Source     string    // where it came from: "agentphone/webhook/<route>", "agentphone/transcript", "agentphone/backfill"
	Type       string    // "ai.agentphone." + the AgentPhone event name
	Subject    string    // the call or conversation the event belongs to; the Kafka key
	Time       time.Time // when it happened, per AgentPhone; when it was received if AgentPhone gave no time
	DataSchema string    // the kind's schema version, see Kind.Schema

	AgentID        string
	CallID         string
	ConversationID string
	Channel        string // sms, mms, imessage, whatsapp, voice
	Direction      string // inbound, outbound, web

	Status     Status
	ReceivedAt time.Time       // when the connector took it in
	Data       json.RawMessage // the normalized payload, valid JSON; nil when there is none
	Raw        []byte          // the body exactly as AgentPhone sent it

	encoded []byte // what UnmarshalNoCopy decoded the event from; nil otherwise
}

// Encoded returns the bytes UnmarshalNoCopy decoded the event from, the
// event as it was stored (the journal's message), so that a sink can pass
// it on without encoding it again; do not modify them. It is nil for an
// event made otherwise or decoded by Unmarshal.
func (e *Event) Encoded() []byte { return e.encoded }

// Kind returns the catalogue entry of the event's type.
func (e *Event) Kind() Kind { return KindOf(e.Type) }

// SubjectIn returns the NATS subject of the event under prefix:
// prefix.<kind>.<subject>.<channel>.<agent>, each token escaped by
// SubjectToken; <subject> is the call or conversation the event belongs to.
//
// The call or conversation comes right after the kind so that a filter on it
// (SameSubjectFilter, a subscriber following one conversation) is a literal
// prefix: nats-server reaches it without walking the channel and agent
// branches, at a cost that does not grow with the number of agents or calls
// the journal holds.
func (e *Event) SubjectIn(prefix string) string {
	var b strings.Builder
	b.Grow(len(prefix) + 32 + len(e.Subject) + len(e.Channel) + len(e.AgentID))
	e.writeHead(&b, prefix)
	for _, tok := range [...]string{e.Channel, e.AgentID} {
		b.WriteByte('.')
		WriteSubjectToken(&b, tok)
	}
	return b.String()
}

// SameSubjectFilter returns the NATS subject filter under prefix that matches
// every event of e's kind about e's subject, on any channel and agent:
// prefix.<kind>.<subject>.>.
func (e *Event) SameSubjectFilter(prefix string) string {
	var b strings.Builder
	b.Grow(len(prefix) + 24 + len(e.Subject))
	e.writeHead(&b, prefix)
	b.WriteString(".>")
	return b.String()
}

// writeHead writes prefix.<kind>.<subject>.
func (e *Event) writeHead(b *strings.Builder, prefix string) {
	b.WriteString(prefix)
	b.WriteByte('.')
	WriteSubjectToken(b, e.Kind().Token)
	b.WriteByte('.')
	WriteSubjectToken(b, e.Subject)
}

// SubjectToken returns s as one NATS subject token: the characters NATS gives
// a meaning to (. * > and white space) become "_", and an empty s is "_".
// Every subject the connector builds from event values escapes them so.
func SubjectToken(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 1)
	WriteSubjectToken(&b, s)
	return b.String()
}

// WriteSubjectToken writes SubjectToken(s) to b, without allocating.
func WriteSubjectToken(b *strings.Builder, s string) {
	if s == "" {
		b.WriteByte('_')
		return
	}
	if utf8.ValidString(s) && !strings.ContainsFunc(s, escaped) {
		b.WriteString(s) // the usual case: nothing to escape or replace
		return
	}
	for _, r := range s {
		switch {
		case escaped(r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
}

// escaped reports a rune a subject token cannot hold.
func escaped(r rune) bool { return r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f }

// wireEvent is the JSON form of an Event, Raw aside.
type wireEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	DataSchema      string          `json:"dataschema,omitempty"`
	AgentID         string          `json:"agentid,omitempty"`
	CallID          string          `json:"callid,omitempty"`
	ConversationID  string          `json:"conversationid,omitempty"`
	Channel         string          `json:"channel,omitempty"`
	Direction       string          `json:"direction,omitempty"`
	Status          Status          `json:"normstatus"`
	ReceivedAt      time.Time       `json:"receivedtime"`
	Data            json.RawMessage `json:"data,omitempty"`
	Raw             json.RawMessage `json:"raw,omitempty"`
	RawBase64       []byte          `json:"raw_base64,omitempty"`
}

// Marshal encodes the event as CloudEvents structured JSON. The raw body is
// kept byte for byte: embedded as the member "raw" when it is a JSON object
// with nothing around it (what AgentPhone sends) that CheckJSON finds safe
// to embed, otherwise base64-encoded in "raw_base64". Data must be valid
// JSON (or nil) and safe to embed: it is written as it is.
func (e *Event) Marshal() ([]byte, error) {
	return e.AppendMarshal(make([]byte, 0, e.MarshalSize()))
}

// MarshalSize is a capacity that holds the encoded event without growing.
func (e *Event) MarshalSize() int { return 512 + len(e.Data) + len(e.Raw)*4/3 }

// AppendMarshal appends the encoded event (see Marshal) to buf.
func (e *Event) AppendMarshal(buf []byte) ([]byte, error) {
	w := e.wire()
	verbatim := len(e.Raw) > 1 && e.Raw[0] == '{' && e.Raw[len(e.Raw)-1] == '}' && CheckJSON(e.Raw) == nil && fastjson.Valid(e.Raw)
	if !verbatim {
		w.RawBase64 = e.Raw
	}
	buf, err := fastjson.Append(buf, &w, fastjson.TrustRawMessage)
	if err != nil || !verbatim {
		return buf, err
	}
	// json.Marshal would compact a RawMessage; splice the body in unchanged.
	buf = append(buf[:len(buf)-1], `,"raw":`...)
	buf = append(buf, e.Raw...)
	return append(buf, '}'), nil
}

func (e *Event) wire() wireEvent {
	return wireEvent{
		SpecVersion: SpecVersion, ID: e.ID, Source: e.Source, Type: e.Type, Subject: e.Subject,
		Time: e.Time.UTC(), DataContentType: "application/json", DataSchema: e.DataSchema,
		AgentID: e.AgentID, CallID: e.CallID, ConversationID: e.ConversationID,
		Channel: e.Channel, Direction: e.Direction, Status: e.Status,
		ReceivedAt: e.ReceivedAt.UTC(), Data: e.Data,
	}
}

// AppendJSON appends v to b encoded as the envelope encodes: like
// json.Marshal, but without escaping <, > and & (message bodies stay
// readable) and writing json.RawMessage values as they are, so they must hold
// valid JSON.
func AppendJSON(b []byte, v any) ([]byte, error) {
	return fastjson.Append(b, v, fastjson.TrustRawMessage)
}

// ErrNotEvent reports bytes that are not an encoded Event.
var ErrNotEvent = errors.New("connector: not an encoded event")

// Unmarshal decodes what Marshal produced. The event holds copies: b may be
// reused once it returns.
func Unmarshal(b []byte) (*Event, error) {
	return unmarshal(b, 0)
}

// UnmarshalNoCopy decodes what Marshal produced without copying: the event's
// strings, Data and Raw point into b (Raw is copied only when it came
// base64-encoded). It is for a reader that owns b: b must not be modified
// for as long as the event, or anything taken from it, is in use, and any of
// them keeps all of b in memory.
func UnmarshalNoCopy(b []byte) (*Event, error) {
	return unmarshal(b, fastjson.ZeroCopy)
}

// A Decoder decodes events as UnmarshalNoCopy does, into a scratch of its
// own that it reuses from one event to the next: the event is all a
// decoding allocates. It is for a reader that decodes many events, one at a
// time; it is not safe for concurrent use. The zero value is ready to use.
type Decoder struct{ w wireEvent }

// DecodeNoCopy is UnmarshalNoCopy with the decoder's scratch.
func (d *Decoder) DecodeNoCopy(b []byte) (*Event, error) {
	d.w = wireEvent{}
	return decode(b, fastjson.ZeroCopy, &d.w)
}

func unmarshal(b []byte, flags fastjson.ParseFlags) (*Event, error) {
	var w wireEvent
	return decode(b, flags, &w)
}

// decode decodes b into w and returns the event it holds.
func decode(b []byte, flags fastjson.ParseFlags, w *wireEvent) (*Event, error) {
	rest, err := fastjson.Parse(b, w, flags|fastjson.DontMatchCaseInsensitiveStructFields)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%d bytes after the event", len(rest))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEvent, err)
	}
	if w.SpecVersion != SpecVersion || w.ID == "" || w.Type == "" {
		return nil, fmt.Errorf("%w: missing specversion, id or type", ErrNotEvent)
	}
	raw := []byte(w.Raw)
	if raw == nil {
		raw = w.RawBase64
	}
	e := &Event{
		ID: w.ID, Source: w.Source, Type: w.Type, Subject: w.Subject, Time: w.Time,
		DataSchema: w.DataSchema, AgentID: w.AgentID, CallID: w.CallID,
		ConversationID: w.ConversationID, Channel: w.Channel, Direction: w.Direction,
		Status: w.Status, ReceivedAt: w.ReceivedAt, Data: w.Data, Raw: raw,
	}
	if flags&fastjson.ZeroCopy != 0 {
		e.encoded = b
	}
	return e, nil
}
