package transform

import (
	"strings"
	"time"

	connector "github.com/agentphone-connector/connector"
)

// TurnMeta is what a source knows about the call a transcript entry belongs to.
type TurnMeta struct {
	CallID     string
	AgentID    string // when the source knows it: it routes the event's subject
	Direction  string // inbound, outbound or web, when known
	Source     string // "agentphone/transcript" or "agentphone/backfill"
	ReceivedAt time.Time
}

// wireTurn is a transcript entry in either of AgentPhone's shapes (SPEC.md
// 4.1, 4.2): a turn {role, content, createdAt}, or an older row {id,
// transcript, response, confidence, createdAt} holding a caller's utterance
// and the agent's answer to it.
type wireTurn struct {
	Role       string   `json:"role"`
	Content    string   `json:"content"`
	CreatedAt  string   `json:"createdAt"`
	Status     string   `json:"status"`
	Transcript *string  `json:"transcript"`
	Response   *string  `json:"response"`
	Confidence *float64 `json:"confidence"`
}

// Interim reports whether raw is a turn still being spoken (status partial
// or interim): neither stored by AgentPhone nor replayed, so it takes no
// position and is not journaled.
func Interim(raw []byte) bool {
	var w wireTurn
	if decode(raw, &w) != nil {
		return false
	}
	s := strings.ToLower(w.Status)
	return s == "partial" || s == "interim"
}

// Turns normalizes one transcript entry into transcript.turn events, the
// first at position first. A turn is one event; a row is one event per
// utterance it holds (the caller's, then the agent's), so rows and turns of
// the same call number alike. An entry that yields no utterance is one event
// with StatusInvalidData and its bytes, so it still takes its position on
// every path. Every event keeps raw (not a copy).
func Turns(m TurnMeta, first int, raw []byte) []*connector.Event {
	var w wireTurn
	if decode(raw, &w) != nil || !isObject(raw) {
		return []*connector.Event{invalidTurn(m, first, raw)}
	}
	at := timeOrNil(w.CreatedAt)
	var turns []connector.TranscriptTurn
	switch {
	case w.Role != "" || w.Content != "":
		turns = append(turns, connector.TranscriptTurn{Role: w.Role, Content: w.Content, CreatedAt: at, Confidence: w.Confidence})
	default:
		if w.Transcript != nil && *w.Transcript != "" {
			turns = append(turns, connector.TranscriptTurn{Role: "user", Content: *w.Transcript, CreatedAt: at, Confidence: w.Confidence})
		}
		if w.Response != nil && *w.Response != "" {
			turns = append(turns, connector.TranscriptTurn{Role: "agent", Content: *w.Response, CreatedAt: at})
		}
	}
	if len(turns) == 0 {
		return []*connector.Event{invalidTurn(m, first, raw)}
	}
	out := make([]*connector.Event, len(turns))
	for i, t := range turns {
		t.CallID, t.Position = m.CallID, first+i
		e := turnEvent(m, t.Position, raw, t.CreatedAt)
		if err := setData(e, &t, len(t.Content)); err != nil {
			return []*connector.Event{invalidTurn(m, first, raw)}
		}
		e.DataSchema = e.Kind().Schema()
		out[i] = e
	}
	return out
}

func turnEvent(m TurnMeta, pos int, raw []byte, at *time.Time) *connector.Event {
	e := &connector.Event{
		ID: connector.TurnEventID(m.CallID, pos), Source: m.Source, Type: connector.TypePrefix + connector.EventTranscriptTurn,
		Subject: m.CallID, Time: m.ReceivedAt, AgentID: m.AgentID, CallID: m.CallID, Channel: "voice",
		Direction: m.Direction, ReceivedAt: m.ReceivedAt, Raw: raw,
	}
	if at != nil {
		e.Time = *at
	}
	return e
}

func invalidTurn(m TurnMeta, pos int, raw []byte) *connector.Event {
	e := turnEvent(m, pos, raw, nil)
	e.Status = connector.StatusInvalidData
	if isJSONValue(raw) && decode(raw, new(any)) == nil {
		e.Data = raw
	}
	return e
}
