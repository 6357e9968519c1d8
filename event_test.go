package connector_test

import (
	"bytes"
	"errors"
	"reflect"
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
	valid := `{"specversion":"1.0","id":"x","type":"t"}`
	for _, in := range []string{``, `[]`, `{"specversion":"0.3","id":"x","type":"t"}`, `{"specversion":"1.0","type":"t"}`, valid + `{}`, valid + `x`} {
		for name, unmarshal := range unmarshals {
			if _, err := unmarshal([]byte(in)); !errors.Is(err, connector.ErrNotEvent) {
				t.Errorf("%s(%q): %v", name, in, err)
			}
		}
	}
}

var unmarshals = map[string]func([]byte) (*connector.Event, error){
	"Unmarshal": connector.Unmarshal, "UnmarshalNoCopy": connector.UnmarshalNoCopy, "DecodeNoCopy": new(connector.Decoder).DecodeNoCopy,
}

// TestUnmarshalRoundTrip decodes what Marshal wrote back into the same
// event, with and without copying, and checks which one shares the input.
func TestUnmarshalRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	want := &connector.Event{
		ID: "whd_1", Source: "agentphone/webhook/p", Type: "ai.agentphone.agent.message", Subject: "conv_1",
		Time: at, DataSchema: "agentphone.message/1", AgentID: "agt_1", CallID: "call_1", ConversationID: "conv_1",
		Channel: "sms", Direction: "inbound", Status: connector.StatusOK, ReceivedAt: at.Add(time.Second),
		Data: []byte(`{"body":"caf\u00e9 \"quoted\""}`), Raw: []byte(`{"event":"agent.message", "data":{}}`),
	}
	b, err := want.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, unmarshal := range unmarshals {
		in := bytes.Clone(b)
		got, err := unmarshal(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !sameFields(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
		noCopy := name != "Unmarshal"
		if enc := got.Encoded(); noCopy != bytes.Equal(enc, in) {
			t.Errorf("%s: Encoded() = %q", name, enc)
		}
		clear(in) // what a reader that does not own the input may see
		if shared := got.ID != want.ID || string(got.Raw) != string(want.Raw); shared != noCopy {
			t.Errorf("%s: the event shares its input: %v", name, shared)
		}
	}
}

// sameFields reports whether the exported fields of a and b are equal.
func sameFields(a, b *connector.Event) bool {
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	for i := range va.NumField() {
		if va.Type().Field(i).IsExported() && !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			return false
		}
	}
	return true
}

// BenchmarkUnmarshal decodes a journaled message event, as a sink does.
func BenchmarkUnmarshal(b *testing.B) {
	e := &connector.Event{
		ID: "whd_242fa456de7139cb", Source: "agentphone/webhook/project", Type: "ai.agentphone.agent.message",
		Subject: "conv_1", Time: time.Now(), AgentID: "agt_1", ConversationID: "conv_1", Channel: "sms",
		Status: connector.StatusOK, ReceivedAt: time.Now(),
		Data: []byte(`{"id":"msg_1","body":"` + strings.Repeat("lorem ipsum ", 50) + `"}`),
		Raw:  []byte(`{"event":"agent.message","data":{"body":"` + strings.Repeat("lorem ipsum ", 50) + `"}}`),
	}
	msg, err := e.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"Unmarshal", "UnmarshalNoCopy", "DecodeNoCopy"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := unmarshals[name](msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestSubjectIn(t *testing.T) {
	tests := []struct {
		name string
		e    connector.Event
		want string
	}{
		{"message", connector.Event{Type: "ai.agentphone.agent.message", Channel: "sms", AgentID: "agt_1", Subject: "conv_1"}, "p.message.conv_1.sms.agt_1"},
		{"unknown type", connector.Event{Type: "ai.agentphone.agent.new", Channel: "voice", AgentID: "agt_1", Subject: "call_1"}, "p.unknown.call_1.voice.agt_1"},
		{"missing tokens", connector.Event{Type: "ai.agentphone.agent.call_ended"}, "p.call_ended._._._"},
		{"characters NATS reserves", connector.Event{Type: "ai.agentphone.agent.reaction", Channel: "a.b", AgentID: "x *>\ty", Subject: "*"}, "p.reaction._.a_b.x____y"},
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

// TestSubjectToken: what NATS gives a meaning to becomes _, the rest is
// kept (bytes that are not UTF-8 as U+FFFD).
func TestSubjectToken(t *testing.T) {
	for in, want := range map[string]string{
		"": "_", "conv_9f3a11": "conv_9f3a11", "café": "café", "a.b*c>d e\tf\x7fg": "a_b_c_d_e_f_g", "ok\xff": "ok\uFFFD", "+14155550123": "+14155550123",
	} {
		if got := connector.SubjectToken(in); got != want {
			t.Errorf("SubjectToken(%q) = %q, want %q", in, got, want)
		}
	}
}
