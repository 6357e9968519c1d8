package connector

import (
	"encoding/json"
	"time"
)

// The typed data of each kind. Field names are the connector's own
// (snake_case, the same in JSON and as BigQuery columns), not AgentPhone's
// wire names; transform maps one to the other. Optional values are pointers or
// omitted when empty; times are UTC.

// Message is the data of agent.message on every channel. Voice messages (a
// caller's utterance during a live call) fill CallID, CallStatus, Transcript
// and Confidence instead of Body.
type Message struct {
	MessageID         string          `json:"message_id,omitempty"`
	ConversationID    string          `json:"conversation_id,omitempty"`
	NumberID          string          `json:"number_id,omitempty"`
	From              string          `json:"from,omitempty"`
	To                string          `json:"to,omitempty"`
	Direction         string          `json:"direction,omitempty"`
	Body              string          `json:"body,omitempty"`
	MediaURLs         []string        `json:"media_urls,omitempty"`
	ReceivedAt        *time.Time      `json:"received_at,omitempty"`
	Contact           *Contact        `json:"contact,omitempty"`
	SenderIdentifier  string          `json:"sender_identifier,omitempty"`
	Group             *Group          `json:"group,omitempty"`
	ReplyTo           *ReplyTo        `json:"reply_to,omitempty"`
	CallID            string          `json:"call_id,omitempty"`
	CallStatus        string          `json:"call_status,omitempty"`
	Transcript        string          `json:"transcript,omitempty"`
	Confidence        *float64        `json:"confidence,omitempty"`
	ConversationState json.RawMessage `json:"conversation_state,omitempty"`
}

// Contact is the sender as found in the account's contacts.
type Contact struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
}

// Group describes an iMessage group conversation.
type Group struct {
	GroupID      string        `json:"group_id,omitempty"`
	Name         string        `json:"name,omitempty"`
	IconURL      string        `json:"icon_url,omitempty"`
	Participants []Participant `json:"participants,omitempty"`
}

// Participant is one member of a group.
type Participant struct {
	Identifier string `json:"identifier"`
	Name       string `json:"name,omitempty"`
}

// ReplyTo is the message an inline reply answers.
type ReplyTo struct {
	MessageID string   `json:"message_id,omitempty"`
	Body      string   `json:"body,omitempty"`
	MediaURLs []string `json:"media_urls,omitempty"`
}

// CallEnded is the data of agent.call_ended.
type CallEnded struct {
	CallID              string     `json:"call_id"`
	NumberID            string     `json:"number_id,omitempty"`
	From                string     `json:"from,omitempty"`
	To                  string     `json:"to,omitempty"`
	Direction           string     `json:"direction,omitempty"`
	Status              string     `json:"status,omitempty"`
	StartedAt           *time.Time `json:"started_at,omitempty"`
	EndedAt             *time.Time `json:"ended_at,omitempty"`
	DurationSeconds     float64    `json:"duration_seconds"`
	DisconnectionReason string     `json:"disconnection_reason,omitempty"`
	Contact             *Contact   `json:"contact,omitempty"`
	Summary             string     `json:"summary,omitempty"`
	UserSentiment       string     `json:"user_sentiment,omitempty"`
	CallSuccessful      *bool      `json:"call_successful,omitempty"`
	TurnCount           int        `json:"turn_count"`
	Transcript          []Turn     `json:"transcript"`
}

// Turn is one utterance of a call transcript.
type Turn struct {
	Role    string `json:"role"` // agent or user
	Content string `json:"content"`
}

// Reaction is the data of agent.reaction.
type Reaction struct {
	ConversationID   string     `json:"conversation_id,omitempty"`
	NumberID         string     `json:"number_id,omitempty"`
	ReactionType     string     `json:"reaction_type"`
	From             string     `json:"from,omitempty"`
	Direction        string     `json:"direction,omitempty"`
	MessageID        string     `json:"message_id,omitempty"`
	MessageBody      string     `json:"message_body,omitempty"`
	MessageMediaURLs []string   `json:"message_media_urls,omitempty"`
	CreatedAt        *time.Time `json:"created_at,omitempty"`
}

// TranscriptTurn is the data of transcript.turn: one turn of a call as the
// transcript stream or the REST transcript reports it.
type TranscriptTurn struct {
	CallID     string     `json:"call_id"`
	Position   int        `json:"position"` // 0-based index of the turn in the call
	Role       string     `json:"role"`     // agent or user
	Content    string     `json:"content"`
	CreatedAt  *time.Time `json:"created_at,omitempty"`
	Confidence *float64   `json:"confidence,omitempty"`
}
