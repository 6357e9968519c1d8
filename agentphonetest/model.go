package agentphonetest

import (
	"encoding/json"
	"slices"
	"time"
)

// The account model: what AgentPhone stores and reports through webhooks and
// REST. Field names are Go's; the wire names (camelCase) are in wire.go and
// restwire.go.

// Account is an AgentPhone account with a day of traffic. Generate makes one;
// a Server takes ownership of the one it is given.
type Account struct {
	Agents        []Agent
	Numbers       []Number
	Calls         []Call // placed calls, by start time
	Live          []Call // scripted calls not placed yet, for Server.StartCall (AccountOptions.Live)
	Conversations []Conversation
	Messages      []Message // inbound and outbound, by time
	Reactions     []Reaction
	Events        []Event // the webhook traffic of the day, by time
}

// Agent is one of the account's voice and messaging agents.
type Agent struct {
	ID        string // agt_…
	Name      string
	VoiceMode string // "hosted", or "webhook": its callers' utterances are delivered as voice agent.message
	NumberID  string // the agent's phone number
}

// Number is a phone number of the account, attached to one agent.
type Number struct {
	ID          string // num_…
	PhoneNumber string // E.164
	AgentID     string
}

// Contact is a person of the account's contacts; Name and Email may be empty.
type Contact struct {
	ID, Name, Email, PhoneNumber string
}

// Call is a phone or web call. While Status is StatusInProgress, EndedAt is
// zero and Turns grows.
type Call struct {
	ID          string // call_…
	AgentID     string
	NumberID    string
	PhoneNumber string // the account's number on the call
	From, To    string // E.164; for outbound calls From is the account's number
	Direction   string // inbound, outbound or web
	Status      string // in-progress, completed or failed
	StartedAt   time.Time
	EndedAt     time.Time

	DisconnectionReason string // user_hangup, agent_hangup, …; empty is null
	Summary             string // empty is null
	UserSentiment       string // Positive, Neutral, Negative; empty is null
	CallSuccessful      *bool
	RecordingAvailable  bool
	Contact             *Contact
	Turns               []Turn
}

// Call statuses.
const (
	StatusInProgress = "in-progress"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
)

// Turn is one utterance of a call.
type Turn struct {
	Role       string // "agent" or "user"
	Content    string
	At         time.Time
	Confidence float64 // speech recognition confidence of a user turn; 0 for agent turns
}

// DurationSeconds returns the whole seconds between start and end: 0 while
// the call is in progress, and 0 for a failed call, which never connected
// (as in the provider's example of a failed outbound call).
func (c Call) DurationSeconds() int {
	if c.EndedAt.IsZero() || c.Status == StatusFailed {
		return 0
	}
	return int(c.EndedAt.Sub(c.StartedAt) / time.Second)
}

// clone returns a copy that shares nothing mutable with c.
func (c Call) clone() Call {
	c.Turns = slices.Clone(c.Turns)
	if c.CallSuccessful != nil {
		ok := *c.CallSuccessful
		c.CallSuccessful = &ok
	}
	return c
}

// Conversation is a thread with one person (or an iMessage group) on one
// channel of one number.
type Conversation struct {
	ID          string // conv_…
	AgentID     string
	NumberID    string
	Channel     string // sms, imessage, whatsapp (mms messages belong to sms conversations)
	Participant string // the other side's number or iMessage address; the group ID for groups
	Contact     *Contact
	Group       *Group
	State       json.RawMessage // the metadata AgentPhone sends as conversationState; nil is null
}

// Message is a text or media message.
type Message struct {
	ID               string // msg_…
	ConversationID   string
	AgentID          string
	NumberID         string
	Channel          string // sms, mms, imessage or whatsapp
	From, To         string
	Body             string // may be empty for media only
	MediaURLs        []string
	Direction        string // inbound or outbound
	At               time.Time
	Contact          *Contact
	SenderIdentifier string // the group member who sent it
	Group            *Group
	ReplyTo          *ReplyTo
}

// Group is an iMessage group.
type Group struct {
	ID           string // grp_…
	Name         string
	IconURL      string
	Participants []Participant
}

// Participant is a member of a group; Name may be empty.
type Participant struct {
	Identifier, Name string
}

// ReplyTo is the message an inline reply answers.
type ReplyTo struct {
	MessageID string
	Body      string
	MediaURLs []string
}

// Reaction is a tapback on a message.
type Reaction struct {
	ConversationID   string
	NumberID         string
	AgentID          string
	Channel          string // imessage or whatsapp
	Type             string // love, like, dislike, laugh, emphasize, question
	From             string
	Direction        string
	MessageID        string // the message reacted to
	MessageBody      string
	MessageMediaURLs []string
	At               time.Time
}

// Event is one webhook: the body AgentPhone POSTs and what routes it.
type Event struct {
	Name      string // the body's event, e.g. "agent.message"
	Channel   string
	AgentID   string    // routes the delivery to the agent's webhook, if it has one
	At        time.Time // the body's timestamp
	WebhookID string    // X-Webhook-ID; Server.Deliver assigns one when empty
	MessageID string    // the message the event is about, for the deliveries log; may be empty
	Body      []byte    // the JSON body, exactly as sent
}
