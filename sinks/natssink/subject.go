package natssink

import (
	"errors"
	"fmt"
	"strings"

	connector "github.com/agentphone-connector/connector"
)

// subjectTemplate is a parsed CONNECTOR_NATS_SINK_SUBJECT: literal text and
// placeholders, each placeholder filled with one subject token.
type subjectTemplate []segment

type segment struct {
	lit   string
	field func(*connector.Event) string // nil for a literal
}

// fields are the placeholders of a subject template.
var fields = map[string]func(*connector.Event) string{
	"kind":         func(e *connector.Event) string { return e.Kind().Token },
	"type":         func(e *connector.Event) string { return strings.TrimPrefix(e.Type, connector.TypePrefix) },
	"channel":      func(e *connector.Event) string { return e.Channel },
	"agent":        func(e *connector.Event) string { return e.AgentID },
	"call":         func(e *connector.Event) string { return e.CallID },
	"conversation": func(e *connector.Event) string { return e.ConversationID },
	"subject":      func(e *connector.Event) string { return e.Subject },
	"direction":    func(e *connector.Event) string { return e.Direction },
}

var errBadSubject = errors.New("not a subject template")

// parseSubject parses a template such as "agentphone.{kind}.{subject}.{channel}.{agent}".
func parseSubject(s string) (subjectTemplate, error) {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") || strings.ContainsAny(s, " \t\r\n*>") {
		return nil, fmt.Errorf("%w: %q", errBadSubject, s)
	}
	var t subjectTemplate
	for rest := s; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t = append(t, segment{lit: rest})
			break
		}
		closing := strings.IndexByte(rest[open:], '}')
		if closing < 0 {
			return nil, fmt.Errorf("%w: unclosed { in %q", errBadSubject, s)
		}
		name := rest[open+1 : open+closing]
		f, ok := fields[name]
		if !ok {
			return nil, fmt.Errorf("%w: unknown placeholder {%s} in %q", errBadSubject, name, s)
		}
		if open > 0 {
			t = append(t, segment{lit: rest[:open]})
		}
		t = append(t, segment{field: f})
		rest = rest[open+closing+1:]
	}
	return t, nil
}

// subject returns the template filled in for e.
func (t subjectTemplate) subject(e *connector.Event) string {
	var b strings.Builder
	b.Grow(64 + len(e.Subject) + len(e.AgentID))
	for _, s := range t {
		if s.field == nil {
			b.WriteString(s.lit)
			continue
		}
		connector.WriteSubjectToken(&b, s.field(e))
	}
	return b.String()
}
