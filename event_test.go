package connector_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
)

func TestMarshalKeepsRawBody(t *testing.T) {
	tests := []struct {
		name, raw, member string
	}{
		{"JSON with its spacing", "{\n  \"event\": \"agent.message\" ,\"x\":\"<&>\"}", `"raw":{`},
		{"not JSON", `{"event":`, `"raw_base64":`},
		{"not UTF-8", "{\"a\":\"\xff\"}", `"raw_base64":`},
		{"empty", ``, `"normstatus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &connector.Event{ID: "id1", Type: "ai.agentphone.x", Time: time.Unix(1, 0), Raw: []byte(tt.raw), Status: connector.StatusOK}
			b, err := e.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(tt.member)) {
				t.Fatalf("encoded without %s: %s", tt.member, b)
			}
			back, err := connector.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if string(back.Raw) != tt.raw || back.ID != "id1" {
				t.Fatalf("raw %q, want %q", back.Raw, tt.raw)
			}
		})
	}
}

func TestMarshalDoesNotEscapeHTML(t *testing.T) {
	e := &connector.Event{ID: "a&b", Type: "t", Data: []byte(`{"body":"1 < 2 & 3"}`)}
	b, _ := e.Marshal()
	if !bytes.Contains(b, []byte(`"1 < 2 & 3"`)) || !bytes.Contains(b, []byte(`"a&b"`)) {
		t.Fatalf("escaped: %s", b)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"specversion":"0.3","id":"x","type":"t"}`, `{"specversion":"1.0","type":"t"}`} {
		if _, err := connector.Unmarshal([]byte(in)); !errors.Is(err, connector.ErrNotEvent) {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestSubjectIn(t *testing.T) {
	tests := []struct {
		name string
		e    connector.Event
		want string
	}{
		{"message", connector.Event{Type: "ai.agentphone.agent.message", Channel: "sms", AgentID: "agt_1", Subject: "conv_1"}, "p.message.sms.agt_1.conv_1"},
		{"unknown type", connector.Event{Type: "ai.agentphone.agent.new", Channel: "voice", AgentID: "agt_1", Subject: "call_1"}, "p.unknown.voice.agt_1.call_1"},
		{"missing tokens", connector.Event{Type: "ai.agentphone.agent.call_ended"}, "p.call_ended._._._"},
		{"characters NATS reserves", connector.Event{Type: "ai.agentphone.agent.reaction", Channel: "a.b", AgentID: "x *>\ty", Subject: "*"}, "p.reaction.a_b.x____y._"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.SubjectIn("p"); got != tt.want {
				t.Fatalf("%q, want %q", got, tt.want)
			}
		})
	}
}

func TestEveryKindHasADistinctToken(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range connector.Kinds() {
		if seen[k.Token] || strings.ContainsAny(k.Token, ".*> ") {
			t.Errorf("kind %s: token %q reused or not a subject token", k.Name, k.Token)
		}
		seen[k.Token] = true
		if connector.KindOf(k.Type()).Name != k.Name {
			t.Errorf("KindOf(%s) = %s", k.Type(), connector.KindOf(k.Type()).Name)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	boom := errors.New("boom")
	err := error(connector.WriteErrors{nil, connector.Permanent(boom), nil})
	if connector.ErrorAt(err, 0) != nil || !connector.IsPermanent(connector.ErrorAt(err, 1)) || !errors.Is(err, boom) {
		t.Fatalf("per-event outcomes lost: %v", err)
	}
	if connector.ErrorAt(boom, 2) != boom {
		t.Fatal("a batch error applies to every event")
	}
	if connector.Permanent(nil) != nil || connector.IsPermanent(boom) {
		t.Fatal("Permanent marks only what it wraps")
	}
}
