package agentphonetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

func (g *gen) makeMessages() {
	times := make([]time.Time, g.o.Messages)
	for i := range times {
		times[i] = g.moment()
	}
	slices.SortFunc(times, time.Time.Compare)
	for _, at := range times {
		conv := g.conversationFor()
		in := g.inbound(conv, at)
		g.a.Messages = append(g.a.Messages, in, g.reply(conv, in))
	}
	slices.SortStableFunc(g.a.Messages, func(a, b Message) int { return a.At.Compare(b.At) })
}

// conversationFor returns an existing conversation about half the time, a
// new one otherwise.
func (g *gen) conversationFor() *Conversation {
	if n := len(g.a.Conversations); n > 0 && g.chance(0.55) {
		return &g.a.Conversations[g.r.IntN(n)]
	}
	ag, num := g.agentNumber()
	p := pick(g, g.people)
	c := Conversation{ID: g.hexID("conv_", 6), AgentID: ag.ID, NumberID: num.ID, Contact: p.contact}
	switch x := g.r.Float64(); {
	case x < 0.45:
		c.Channel, c.Participant = "sms", p.phone
	case x < 0.75:
		c.Channel, c.Participant = "imessage", p.address
		if g.chance(0.25) {
			c.Group, c.Contact = g.group(), nil
			c.Participant = c.Group.ID
		}
	default:
		c.Channel, c.Participant = "whatsapp", p.phone
	}
	if g.chance(0.3) {
		c.State = g.state()
	}
	g.a.Conversations = append(g.a.Conversations, c)
	return &g.a.Conversations[len(g.a.Conversations)-1]
}

func (g *gen) group() *Group {
	gr := &Group{ID: g.hexID("grp_", 4), Name: pick(g, groupNames[:])}
	if g.chance(0.2) {
		gr.IconURL = "https://media.example/" + gr.ID + ".png"
	}
	for _, i := range g.r.Perm(len(g.people))[:min(len(g.people), 3+g.r.IntN(3))] {
		p := g.people[i]
		name := ""
		if p.contact != nil {
			name, _, _ = strings.Cut(p.contact.Name, " ")
		}
		gr.Participants = append(gr.Participants, Participant{Identifier: p.address, Name: name})
	}
	return gr
}

var stages = [...]string{"new", "qualifying", "rescheduling", "awaiting_payment", "resolved"}

func (g *gen) state() json.RawMessage {
	if g.chance(0.5) {
		return json.RawMessage(fmt.Sprintf(`{"customerId":"c_%d","stage":%q}`, 100+g.r.IntN(900), pick(g, stages[:])))
	}
	return json.RawMessage(fmt.Sprintf(`{"customerId":"c_%d","tags":["vip","returning"],"lastOrder":{"id":"%d","total":%d.99}}`,
		100+g.r.IntN(900), 40000+g.r.IntN(9999), 10+g.r.IntN(200)))
}

func (g *gen) numberPhone(id string) string {
	for _, n := range g.a.Numbers {
		if n.ID == id {
			return n.PhoneNumber
		}
	}
	return ""
}

func (g *gen) inbound(c *Conversation, at time.Time) Message {
	m := Message{ID: g.hexID("msg_", 6), ConversationID: c.ID, AgentID: c.AgentID, NumberID: c.NumberID, Channel: c.Channel,
		From: c.Participant, To: g.numberPhone(c.NumberID), Body: pick(g, inboundTexts[:]), Direction: "inbound", At: at, Contact: c.Contact}
	switch {
	case c.Group != nil:
		sender := pick(g, c.Group.Participants)
		m.From, m.To, m.SenderIdentifier, m.Group, m.Body = sender.Identifier, c.Group.ID, sender.Identifier, c.Group, pick(g, groupTexts[:])
	case c.Channel == "sms" && g.chance(0.2):
		m.Channel = "mms"
		m.MediaURLs = g.media()
		if g.chance(0.4) {
			m.Body = ""
		}
	case c.Channel != "sms" && g.chance(0.1):
		m.MediaURLs = g.media()
	}
	if c.Channel == "whatsapp" && g.chance(0.15) {
		if prev := g.lastOutbound(c.ID, at); prev != nil {
			m.ReplyTo = &ReplyTo{MessageID: prev.ID, Body: prev.Body, MediaURLs: prev.MediaURLs}
		}
	}
	return m
}

func (g *gen) media() []string {
	urls := make([]string, 1+g.r.IntN(3))
	for i := range urls {
		urls[i] = "https://media.example/" + g.hexID("m", 8) + pick(g, []string{".jpg", ".png", ".heic", ".mp4"})
	}
	return urls
}

func (g *gen) lastOutbound(convID string, before time.Time) *Message {
	for i := len(g.a.Messages) - 1; i >= 0; i-- {
		if m := &g.a.Messages[i]; m.ConversationID == convID && m.Direction == "outbound" && m.At.Before(before) {
			return m
		}
	}
	return nil
}

func (g *gen) reply(c *Conversation, in Message) Message {
	return Message{ID: g.hexID("msg_", 6), ConversationID: c.ID, AgentID: c.AgentID, NumberID: c.NumberID, Channel: c.Channel,
		From: g.numberPhone(c.NumberID), To: c.Participant, Body: pick(g, outboundTexts[:]), Direction: "outbound",
		At: in.At.Add(g.between(20*time.Second, 5*time.Minute)).Truncate(time.Second)}
}

func (g *gen) makeReactions() {
	convs := g.conversationIndex()
	for _, m := range g.a.Messages {
		if m.Direction != "outbound" || (m.Channel != "imessage" && m.Channel != "whatsapp") || !g.chance(0.2) {
			continue
		}
		c := convs[m.ConversationID]
		from := c.Participant
		if c.Group != nil {
			from = pick(g, c.Group.Participants).Identifier
		}
		g.a.Reactions = append(g.a.Reactions, Reaction{ConversationID: c.ID, NumberID: c.NumberID, AgentID: c.AgentID,
			Channel: m.Channel, Type: pick(g, reactionTypes[:]), From: from, Direction: "inbound", MessageID: m.ID,
			MessageBody: m.Body, MessageMediaURLs: m.MediaURLs, At: m.At.Add(g.between(time.Minute, 30*time.Minute)).Truncate(time.Second)})
	}
}

func (g *gen) conversationIndex() map[string]*Conversation {
	idx := make(map[string]*Conversation, len(g.a.Conversations))
	for i := range g.a.Conversations {
		idx[g.a.Conversations[i].ID] = &g.a.Conversations[i]
	}
	return idx
}

// messageEvents makes the agent.message webhook of every inbound message,
// with the conversation's earlier messages as recentHistory, and the
// agent.reaction webhooks.
func (g *gen) messageEvents() {
	convs := g.conversationIndex()
	seen := map[string][]Message{} // conversation → its messages so far, by time
	for _, m := range g.a.Messages {
		prev := seen[m.ConversationID]
		seen[m.ConversationID] = append(prev, m)
		if m.Direction != "inbound" {
			continue
		}
		hist := prev[max(0, len(prev)-g.o.ContextLimit):]
		g.a.Events = append(g.a.Events, MessageEvent(m, convs[m.ConversationID].State, hist))
	}
	for _, r := range g.a.Reactions {
		g.a.Events = append(g.a.Events, ReactionEvent(r))
	}
}

// oddEvents adds about one event in forty whose type the connector does not
// know, or agent.contact_shared.
func (g *gen) oddEvents() {
	n := (g.o.Calls + g.o.Messages) / 40
	if n == 0 && g.o.Calls+g.o.Messages >= 10 {
		n = 1
	}
	for i := range n {
		at := g.moment()
		ag, num := g.agentNumber()
		p := pick(g, g.people)
		var ev Event
		switch i % 3 {
		case 0:
			ev = RawEvent("agent.voicemail_left", "voice", ag.ID, at, voicemail{CallID: g.hexID("call_", 12),
				AudioURL: "https://media.example/" + g.hexID("vm", 6) + ".wav", DurationSeconds: 5 + g.r.IntN(60)})
		case 1:
			ev = RawEvent(EventContactShared, "imessage", ag.ID, at, contactShared{NumberID: num.ID, From: p.address,
				Contact: sharedCard{Name: pick(g, names[:]), PhoneNumber: g.phone()}, ReceivedAt: isoTime(at.Add(-time.Second))})
		default:
			// The event name of AgentPhone's older documentation.
			ev = RawEvent("call.started", "voice", ag.ID, at, callStarted{CallID: g.hexID("call_", 12), From: p.phone,
				To: num.PhoneNumber, Direction: "inbound"})
		}
		g.a.Events = append(g.a.Events, ev)
	}
}

type voicemail struct {
	CallID          string `json:"callId"`
	AudioURL        string `json:"audioUrl"`
	DurationSeconds int    `json:"durationSeconds"`
}

type contactShared struct {
	NumberID   string     `json:"numberId"`
	From       string     `json:"from"`
	Contact    sharedCard `json:"contact"`
	ReceivedAt string     `json:"receivedAt"`
}

type sharedCard struct {
	Name        string `json:"name"`
	PhoneNumber string `json:"phoneNumber"`
}

type callStarted struct {
	CallID    string `json:"callId"`
	From      string `json:"from"`
	To        string `json:"to"`
	Direction string `json:"direction"`
}
