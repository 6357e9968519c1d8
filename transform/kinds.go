package transform

import (
	"fmt"

	connector "github.com/agentphone-connector/connector"
)

func message(e *connector.Event, b *wireBody) error {
	var w wireMessage
	if err := decode(b.Data, &w); err != nil {
		return err
	}
	if w.MessageID == "" && w.CallID == "" && w.ConversationID == "" {
		return fmt.Errorf("%w: messageId, callId or conversationId", errMissing)
	}
	m := connector.Message{
		MessageID: w.MessageID, ConversationID: w.ConversationID, NumberID: w.NumberID,
		From: w.From, To: w.To, Direction: w.Direction, Body: w.Message,
		MediaURLs: w.MediaURLs, ReceivedAt: timeOrNil(w.ReceivedAt), Contact: contact(w.Contact),
		SenderIdentifier: w.SenderIdentifier, CallID: w.CallID, CallStatus: w.Status,
		Transcript: w.Transcript, Confidence: w.Confidence,
	}
	if len(m.MediaURLs) == 0 && w.MediaURL != "" {
		m.MediaURLs = []string{w.MediaURL}
	}
	if isJSONValue(b.ConversationState) {
		m.ConversationState = b.ConversationState
	}
	if g := w.Group; g != nil {
		m.Group = &connector.Group{GroupID: g.GroupID, Name: g.GroupName, IconURL: g.GroupIconURL}
		for _, p := range g.Participants {
			m.Group.Participants = append(m.Group.Participants, connector.Participant{Identifier: p.Identifier, Name: p.Name})
		}
	}
	if r := w.ReplyTo; r != nil {
		m.ReplyTo = &connector.ReplyTo{MessageID: r.MessageID, Body: r.Message, MediaURLs: r.MediaURLs}
	}
	e.CallID, e.ConversationID, e.Direction = w.CallID, w.ConversationID, w.Direction
	e.Subject = firstOf(w.ConversationID, w.CallID)
	return setData(e, &m, len(b.Data))
}

func callEnded(e *connector.Event, b *wireBody) error {
	var w wireCallEnded
	if err := decode(b.Data, &w); err != nil {
		return err
	}
	if w.CallID == "" {
		return fmt.Errorf("%w: callId", errMissing)
	}
	c := connector.CallEnded{
		CallID: w.CallID, NumberID: w.NumberID, From: w.From, To: w.To, Direction: w.Direction,
		Status: w.Status, StartedAt: timeOrNil(w.StartedAt), EndedAt: timeOrNil(w.EndedAt),
		DurationSeconds: w.DurationSeconds, DisconnectionReason: w.DisconnectionReason,
		Contact: contact(w.Contact), Summary: w.Summary, UserSentiment: w.UserSentiment,
		CallSuccessful: w.CallSuccessful, TurnCount: len(w.Transcript),
		Transcript: make([]connector.Turn, len(w.Transcript)),
	}
	for i, t := range w.Transcript {
		c.Transcript[i] = connector.Turn{Role: t.Role, Content: t.Content}
	}
	e.CallID, e.Direction, e.Subject = w.CallID, w.Direction, w.CallID
	return setData(e, &c, len(b.Data))
}

func reaction(e *connector.Event, b *wireBody) error {
	var w wireReaction
	if err := decode(b.Data, &w); err != nil {
		return err
	}
	if w.MessageID == "" || w.ReactionType == "" {
		return fmt.Errorf("%w: messageId and reactionType", errMissing)
	}
	r := connector.Reaction{
		ConversationID: w.ConversationID, NumberID: w.NumberID, ReactionType: w.ReactionType,
		From: w.FromNumber, Direction: w.Direction, MessageID: w.MessageID,
		MessageBody: w.MessageBody, MessageMediaURLs: w.MessageMediaURLs, CreatedAt: timeOrNil(w.CreatedAt),
	}
	if len(r.MessageMediaURLs) == 0 && w.MessageMediaURL != "" {
		r.MessageMediaURLs = []string{w.MessageMediaURL}
	}
	e.ConversationID, e.Direction, e.Subject = w.ConversationID, w.Direction, w.ConversationID
	return setData(e, &r, len(b.Data))
}

func contact(c *wireContact) *connector.Contact {
	if c == nil {
		return nil
	}
	return &connector.Contact{ID: c.ID, Name: c.Name, Email: c.Email, PhoneNumber: c.PhoneNumber}
}

// setData encodes the typed data; sizeHint is the size of AgentPhone's data,
// which the normalized form is close to.
func setData(e *connector.Event, v any, sizeHint int) error {
	data, err := connector.AppendJSON(make([]byte, 0, sizeHint+128), v)
	if err != nil {
		return err
	}
	e.Data, e.Status = data, connector.StatusOK
	return nil
}
