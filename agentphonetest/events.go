package agentphonetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Event names AgentPhone documents (SPEC.md 2.1).
const (
	EventMessage       = "agent.message"
	EventCallEnded     = "agent.call_ended"
	EventReaction      = "agent.reaction"
	EventContactShared = "agent.contact_shared"
)

// Sign returns the X-Webhook-Signature of body sent at timestamp (the
// X-Webhook-Timestamp header, verbatim) with secret (SPEC.md 1.3):
// "sha256=" + lowercase hex of HMAC-SHA256(secret, timestamp + "." + body).
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// MessageEvent returns the agent.message webhook of a text or media message
// (SPEC.md 2.3), sent one second after it was received. state is the
// conversation's metadata (nil, or not JSON, is null); history is the
// conversation's latest messages before m, oldest first, for recentHistory.
func MessageEvent(m Message, state json.RawMessage, history []Message) Event {
	data := wireMessage{
		MessageID: m.ID, ConversationID: nullable(m.ConversationID), NumberID: nullable(m.NumberID),
		From: m.From, To: m.To, Contact: toWireContact(m.Contact), Message: m.Body,
		MediaURLs: nonNil(m.MediaURLs), Direction: m.Direction, ReceivedAt: isoTime(m.At),
		SenderIdentifier: m.SenderIdentifier, Group: toWireGroup(m.Group),
	}
	if len(m.MediaURLs) > 0 {
		data.MediaURL = &m.MediaURLs[0]
	}
	if r := m.ReplyTo; r != nil {
		data.ReplyTo = &wireReplyTo{MessageID: r.MessageID, Message: nullable(r.Body), MediaURLs: nonNil(r.MediaURLs)}
	}
	hist := []historyItem{}
	for _, h := range history {
		hist = append(hist, historyItem{MessageID: h.ID, Content: h.Body, Direction: h.Direction, Channel: h.Channel, At: isoTime(h.At)})
	}
	at := m.At.Add(time.Second)
	body := encode(messageEnvelope{Event: EventMessage, Channel: m.Channel, Timestamp: isoTime(at), AgentID: m.AgentID,
		Data: data, ConversationState: compactJSON(state), RecentHistory: hist})
	return Event{Name: EventMessage, Channel: m.Channel, AgentID: m.AgentID, At: at, MessageID: m.ID, Body: body}
}

// VoiceTurnEvent returns the voice agent.message of turn i of call c, a
// caller's utterance during a live webhook-mode call (SPEC.md 2.4). Up to
// historyLimit earlier turns go in recentHistory.
func VoiceTurnEvent(c Call, i, historyLimit int) Event {
	t := c.Turns[i]
	hist := []historyItem{}
	for _, h := range c.Turns[max(0, i-historyLimit):i] {
		dir := "outbound"
		if h.Role == "user" {
			dir = "inbound"
		}
		hist = append(hist, historyItem{Content: h.Content, Direction: dir, Channel: "voice", At: isoTime(h.At)})
	}
	data := wireVoice{CallID: c.ID, NumberID: nullable(c.NumberID), From: c.From, To: c.To, Status: StatusInProgress,
		Transcript: t.Content, Confidence: t.Confidence, Direction: c.Direction}
	body := encode(messageEnvelope{Event: EventMessage, Channel: "voice", Timestamp: isoTime(t.At), AgentID: c.AgentID,
		Data: data, RecentHistory: hist})
	return Event{Name: EventMessage, Channel: "voice", AgentID: c.AgentID, At: t.At, Body: body}
}

// CallEndedEvent returns the agent.call_ended webhook of a finished call
// (SPEC.md 2.5), sent one second after it ended.
func CallEndedEvent(c Call) Event {
	data := wireCallEnded{
		CallID: c.ID, NumberID: nullable(c.NumberID), From: c.From, To: c.To, Contact: toWireContact(c.Contact),
		Direction: c.Direction, Status: c.Status, StartedAt: isoTime(c.StartedAt), EndedAt: isoTime(c.EndedAt),
		DurationSeconds: c.DurationSeconds(), DisconnectionReason: nullable(c.DisconnectionReason),
		Transcript: []wireTurn{}, Summary: nullable(c.Summary), UserSentiment: nullable(c.UserSentiment),
		CallSuccessful: c.CallSuccessful,
	}
	for _, t := range c.Turns {
		data.Transcript = append(data.Transcript, wireTurn{Role: t.Role, Content: t.Content})
	}
	at := c.EndedAt.Add(time.Second)
	body := encode(envelope{Event: EventCallEnded, Channel: "voice", Timestamp: isoTime(at), AgentID: c.AgentID, Data: data})
	return Event{Name: EventCallEnded, Channel: "voice", AgentID: c.AgentID, At: at, Body: body}
}

// ReactionEvent returns the agent.reaction webhook of r (SPEC.md 2.6), sent
// one second after the reaction.
func ReactionEvent(r Reaction) Event {
	data := wireReaction{
		ConversationID: nullable(r.ConversationID), NumberID: nullable(r.NumberID), ReactionType: r.Type,
		FromNumber: r.From, Direction: r.Direction, MessageID: r.MessageID, MessageBody: nullable(r.MessageBody),
		MessageMediaURLs: nonNil(r.MessageMediaURLs), CreatedAt: isoTime(r.At),
	}
	if len(r.MessageMediaURLs) > 0 {
		data.MessageMediaURL = &r.MessageMediaURLs[0]
	}
	at := r.At.Add(time.Second)
	body := encode(envelope{Event: EventReaction, Channel: r.Channel, Timestamp: isoTime(at), AgentID: r.AgentID, Data: data})
	return Event{Name: EventReaction, Channel: r.Channel, AgentID: r.AgentID, At: at, MessageID: r.MessageID, Body: body}
}

// RawEvent returns a webhook with any event name and data, in the common
// envelope (SPEC.md 2.2): for event types the connector does not know yet.
// data must marshal to JSON.
func RawEvent(name, channel, agentID string, at time.Time, data any) Event {
	body := encode(envelope{Event: name, Channel: channel, Timestamp: isoTime(at), AgentID: agentID, Data: data})
	return Event{Name: name, Channel: channel, AgentID: agentID, At: at, Body: body}
}

// compactJSON returns raw compacted, or nil (JSON null) when it is empty or
// not JSON.
func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if len(raw) == 0 || json.Compact(&b, raw) != nil {
		return nil
	}
	return b.Bytes()
}
