package agentphonetest

import (
	"bytes"
	"encoding/json"
	"time"
)

// Webhook bodies as AgentPhone writes them (SPEC.md section 2): camelCase
// names in the order of the provider's examples, null for absent optional
// values, ISO-8601 UTC times to the second.

// envelope is the body of agent.call_ended, agent.reaction and events the
// connector does not know: no conversationState or recentHistory.
type envelope struct {
	Event     string `json:"event"`
	Channel   string `json:"channel"`
	Timestamp string `json:"timestamp"`
	AgentID   string `json:"agentId"`
	Data      any    `json:"data"`
}

// messageEnvelope is the body of agent.message: conversationState and
// recentHistory are always present.
type messageEnvelope struct {
	Event             string          `json:"event"`
	Channel           string          `json:"channel"`
	Timestamp         string          `json:"timestamp"`
	AgentID           string          `json:"agentId"`
	Data              any             `json:"data"`
	ConversationState json.RawMessage `json:"conversationState"`
	RecentHistory     []historyItem   `json:"recentHistory"`
}

type historyItem struct {
	MessageID string `json:"messageId,omitempty"`
	Content   string `json:"content"`
	Direction string `json:"direction"`
	Channel   string `json:"channel"`
	At        string `json:"at"`
}

type wireContact struct {
	ID          string  `json:"id"`
	Name        *string `json:"name"`
	Email       *string `json:"email"`
	PhoneNumber string  `json:"phoneNumber"`
}

type wireMessage struct {
	MessageID        string       `json:"messageId"`
	ConversationID   *string      `json:"conversationId"`
	NumberID         *string      `json:"numberId"`
	From             string       `json:"from"`
	To               string       `json:"to"`
	Contact          *wireContact `json:"contact"`
	Message          string       `json:"message"`
	MediaURL         *string      `json:"mediaUrl"`
	MediaURLs        []string     `json:"mediaUrls"`
	Direction        string       `json:"direction"`
	ReceivedAt       string       `json:"receivedAt"`
	SenderIdentifier string       `json:"senderIdentifier,omitempty"`
	Group            *wireGroup   `json:"group,omitempty"`
	ReplyTo          *wireReplyTo `json:"replyTo,omitempty"`
}

type wireGroup struct {
	IsGroup      bool              `json:"isGroup"`
	GroupID      string            `json:"groupId"`
	GroupName    *string           `json:"groupName"`
	GroupIconURL *string           `json:"groupIconUrl"`
	Participants []wireParticipant `json:"participants"`
}

type wireParticipant struct {
	Identifier string  `json:"identifier"`
	Name       *string `json:"name"`
}

type wireReplyTo struct {
	MessageID string   `json:"messageId"`
	Message   *string  `json:"message"`
	MediaURLs []string `json:"mediaUrls"`
}

type wireVoice struct {
	CallID     string  `json:"callId"`
	NumberID   *string `json:"numberId"`
	From       string  `json:"from"`
	To         string  `json:"to"`
	Status     string  `json:"status"`
	Transcript string  `json:"transcript"`
	Confidence float64 `json:"confidence"`
	Direction  string  `json:"direction"`
}

type wireCallEnded struct {
	CallID              string       `json:"callId"`
	NumberID            *string      `json:"numberId"`
	From                string       `json:"from"`
	To                  string       `json:"to"`
	Contact             *wireContact `json:"contact"`
	Direction           string       `json:"direction"`
	Status              string       `json:"status"`
	StartedAt           string       `json:"startedAt"`
	EndedAt             string       `json:"endedAt"`
	DurationSeconds     int          `json:"durationSeconds"`
	DisconnectionReason *string      `json:"disconnectionReason"`
	Transcript          []wireTurn   `json:"transcript"`
	Summary             *string      `json:"summary"`
	UserSentiment       *string      `json:"userSentiment"`
	CallSuccessful      *bool        `json:"callSuccessful"`
}

type wireTurn struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type wireReaction struct {
	ConversationID   *string  `json:"conversationId"`
	NumberID         *string  `json:"numberId"`
	ReactionType     string   `json:"reactionType"`
	FromNumber       string   `json:"fromNumber"`
	Direction        string   `json:"direction"`
	MessageID        string   `json:"messageId"`
	MessageBody      *string  `json:"messageBody"`
	MessageMediaURL  *string  `json:"messageMediaUrl"`
	MessageMediaURLs []string `json:"messageMediaUrls"`
	CreatedAt        string   `json:"createdAt"`
}

// isoTime formats t as AgentPhone does: UTC, to the second, with a Z.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// nullable returns nil for an empty string: JSON null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nonNil returns s, or an empty slice for nil: JSON [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// encode marshals v compactly without HTML escaping (AgentPhone sends "<",
// ">" and "&" as they are) and without a trailing newline.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value encoded here is built from strings, numbers and
		// RawMessages checked by json.Valid; an error is a bug in this package.
		return []byte(`{"event":"agentphonetest.encode_error"}`)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func toWireContact(c *Contact) *wireContact {
	if c == nil {
		return nil
	}
	return &wireContact{ID: c.ID, Name: nullable(c.Name), Email: nullable(c.Email), PhoneNumber: c.PhoneNumber}
}

func toWireGroup(g *Group) *wireGroup {
	if g == nil {
		return nil
	}
	w := &wireGroup{IsGroup: true, GroupID: g.ID, GroupName: nullable(g.Name), GroupIconURL: nullable(g.IconURL),
		Participants: []wireParticipant{}}
	for _, p := range g.Participants {
		w.Participants = append(w.Participants, wireParticipant{Identifier: p.Identifier, Name: nullable(p.Name)})
	}
	return w
}
