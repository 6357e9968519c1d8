package natssink

import (
	"testing"

	connector "github.com/agentphone-connector/connector"
)

func TestSubjectTemplate(t *testing.T) {
	e := &connector.Event{
		Type: connector.TypePrefix + connector.EventCallEnded, AgentID: "agent.7", CallID: "call-1",
		Channel: "voice", Subject: "call-1", Direction: "inbound",
	}
	cases := []struct {
		name, template, want string
	}{
		{"journal subjects", "agentphone.{kind}.{subject}.{channel}.{agent}", "agentphone.call_ended.call-1.voice.agent_7"},
		{"type and call", "events.{type}.{call}", "events.agent_call_ended.call-1"},
		{"empty value", "events.{conversation}", "events._"},
		{"literal around a placeholder", "x.call-{call}.y", "x.call-call-1.y"},
		{"no placeholder", "fixed.subject", "fixed.subject"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl, err := parseSubject(c.template)
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.subject(e); got != c.want {
				t.Fatalf("subject %q, want %q", got, c.want)
			}
		})
	}
}

func TestSubjectTemplateInvalid(t *testing.T) {
	for name, template := range map[string]string{
		"empty": "", "leading dot": ".a.{kind}", "trailing dot": "a.", "empty token": "a..b",
		"wildcard": "a.*.{kind}", "full wildcard": "a.>", "space": "a b", "unknown placeholder": "a.{nope}",
		"unclosed": "a.{kind",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseSubject(template); err == nil {
				t.Fatalf("%q parsed", template)
			}
		})
	}
}
