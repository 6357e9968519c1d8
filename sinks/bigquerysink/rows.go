package bigquerysink

import (
	"fmt"
	"reflect"

	fastjson "github.com/segmentio/encoding/json"

	connector "github.com/agentphone-connector/connector"
)

// rows returns the rows event e has in table t: one in the events table for
// every event; in a typed table, one per typed record of e when e was
// normalized (Status ok) and its kind has rows there, else none. An error
// means the event's data does not decode into its kind's type: no retry can
// change that.
func (t *table) rows(e *connector.Event) ([]row, error) {
	if t.Name == TableEvents {
		return []row{{reflect.ValueOf(eventRowOf(e))}}, nil
	}
	name := e.Kind().Name
	typ, ok := t.kind[name]
	if !ok || e.Status != connector.StatusOK {
		return nil, nil
	}
	data := reflect.New(typ)
	if err := decodeData(e.Data, data.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s data: %w", name, err)
	}
	env := reflect.ValueOf(envelope{
		EventID: e.ID, EventType: e.Type, EventTime: e.Time, Source: e.Source,
		AgentID: e.AgentID, Channel: e.Channel,
	})
	if t.Name == TableCallTurns && name == connector.EventCallEnded {
		return callTurns(env, data.Interface().(*connector.CallEnded)), nil
	}
	r := row{env, data.Elem()}
	if t.extra != nil {
		r = append(r, reflect.ValueOf(t.extra(data.Interface())))
	}
	return []row{r}, nil
}

// decodeData decodes an event's data as encoding/json does, faster and
// without copying: the strings of v point into b, which is fine for a row
// that is serialized and dropped before b is.
func decodeData(b []byte, v any) error {
	rest, err := fastjson.Parse(b, v, fastjson.ZeroCopy)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%d bytes after the data", len(rest))
	}
	return err
}

// callTurns returns the rows of a call's final transcript, positioned as in
// the call. The webhook gives turns no time: created_at stays NULL.
func callTurns(env reflect.Value, c *connector.CallEnded) []row {
	out := make([]row, len(c.Transcript))
	for i, turn := range c.Transcript {
		out[i] = row{env, reflect.ValueOf(connector.TranscriptTurn{
			CallID: c.CallID, Position: i, Role: turn.Role, Content: turn.Content,
		})}
	}
	return out
}

func eventRowOf(e *connector.Event) eventRow {
	return eventRow{
		EventID: e.ID, Type: e.Type, Source: e.Source, Subject: e.Subject, EventTime: e.Time,
		DataSchema: e.DataSchema, AgentID: e.AgentID, CallID: e.CallID,
		ConversationID: e.ConversationID, Channel: e.Channel, Direction: e.Direction,
		NormStatus: string(e.Status), ReceivedAt: e.ReceivedAt, Data: e.Data, Raw: e.Raw,
	}
}
