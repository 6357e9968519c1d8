package transform

import (
	"encoding/json"
	"time"
)

// AgentPhone's wire format (SPEC.md section 2), decoded leniently: every field
// is optional, unknown fields are ignored, nulls become zero values.

type wireBody struct {
	Event             string          `json:"event"`
	Channel           string          `json:"channel"`
	Timestamp         string          `json:"timestamp"`
	AgentID           string          `json:"agentId"`
	Data              json.RawMessage `json:"data"`
	ConversationState json.RawMessage `json:"conversationState"`
}

type wireContact struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	PhoneNumber string `json:"phoneNumber"`
}

type wireMessage struct {
	MessageID        string       `json:"messageId"`
	ConversationID   string       `json:"conversationId"`
	NumberID         string       `json:"numberId"`
	From             string       `json:"from"`
	To               string       `json:"to"`
	Contact          *wireContact `json:"contact"`
	Message          string       `json:"message"`
	MediaURL         string       `json:"mediaUrl"`
	MediaURLs        []string     `json:"mediaUrls"`
	Direction        string       `json:"direction"`
	ReceivedAt       string       `json:"receivedAt"`
	SenderIdentifier string       `json:"senderIdentifier"`
	Group            *struct {
		GroupID      string `json:"groupId"`
		GroupName    string `json:"groupName"`
		GroupIconURL string `json:"groupIconUrl"`
		Participants []struct {
			Identifier string `json:"identifier"`
			Name       string `json:"name"`
		} `json:"participants"`
	} `json:"group"`
	ReplyTo *struct {
		MessageID string   `json:"messageId"`
		Message   string   `json:"message"`
		MediaURLs []string `json:"mediaUrls"`
	} `json:"replyTo"`
	// Voice channel.
	CallID     string   `json:"callId"`
	Status     string   `json:"status"`
	Transcript string   `json:"transcript"`
	Confidence *float64 `json:"confidence"`
}

type wireCallEnded struct {
	CallID              string       `json:"callId"`
	NumberID            string       `json:"numberId"`
	From                string       `json:"from"`
	To                  string       `json:"to"`
	Contact             *wireContact `json:"contact"`
	Direction           string       `json:"direction"`
	Status              string       `json:"status"`
	StartedAt           string       `json:"startedAt"`
	EndedAt             string       `json:"endedAt"`
	DurationSeconds     float64      `json:"durationSeconds"`
	DisconnectionReason string       `json:"disconnectionReason"`
	Transcript          []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"transcript"`
	Summary        string `json:"summary"`
	UserSentiment  string `json:"userSentiment"`
	CallSuccessful *bool  `json:"callSuccessful"`
}

type wireReaction struct {
	ConversationID   string   `json:"conversationId"`
	NumberID         string   `json:"numberId"`
	ReactionType     string   `json:"reactionType"`
	FromNumber       string   `json:"fromNumber"`
	Direction        string   `json:"direction"`
	MessageID        string   `json:"messageId"`
	MessageBody      string   `json:"messageBody"`
	MessageMediaURL  string   `json:"messageMediaUrl"`
	MessageMediaURLs []string `json:"messageMediaUrls"`
	CreatedAt        string   `json:"createdAt"`
}

// wireRefs are the identifiers any event's data may carry; read from events
// the connector does not type, so they can still be routed and keyed.
type wireRefs struct {
	CallID         string `json:"callId"`
	ConversationID string `json:"conversationId"`
	Direction      string `json:"direction"`
}

// parseTime reads an AgentPhone timestamp (RFC 3339, UTC in practice); a
// missing or malformed one is the zero time, and so is one outside years 1
// to 9999 in UTC, which neither JSON's time encoding nor BigQuery's
// TIMESTAMP can hold.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}
	}
	return t
}

// timeOrNil is parseTime for optional fields: nil when missing or malformed.
func timeOrNil(s string) *time.Time {
	t := parseTime(s)
	if t.IsZero() {
		return nil
	}
	return &t
}
