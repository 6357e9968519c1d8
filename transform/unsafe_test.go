package transform

import (
	"encoding/json"
	"strings"
	"testing"

	connector "github.com/agentphone-connector/connector"
)

// nested returns a body whose data holds n levels of arrays.
func nested(event string, n int) string {
	return `{"event":"` + event + `","agentId":"agt_1","data":{"conversationId":"conv_1","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}`
}

// A body that is JSON but unsafe to embed keeps its type and routing, gets no
// data and a status saying why, and its envelope carries it as raw_base64:
// Go's encoding/json reads the envelope.
func TestUnsafeBodies(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     connector.Status
	}{
		{"64 levels in all", nested("agent.new_thing", connector.MaxDepth-2), connector.StatusUnknownType},
		{"65 levels", nested("agent.new_thing", connector.MaxDepth-1), connector.StatusTooDeep},
		{"100,000 levels", nested("agent.new_thing", 100000), connector.StatusTooDeep},
		{"deep conversation state of a typed message", `{"event":"agent.message","agentId":"agt_1","data":{"messageId":"m1","conversationId":"conv_1"},"conversationState":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70) + `}`, connector.StatusTooDeep},
		{"not UTF-8 in untyped data", "{\"event\":\"agent.new_thing\",\"agentId\":\"agt_1\",\"data\":{\"conversationId\":\"conv_1\",\"x\":\"caf\xe9\"}}", connector.StatusUnsafeJSON},
		{"number beyond float64", `{"event":"agent.new_thing","agentId":"agt_1","data":{"conversationId":"conv_1","x":1e400}}`, connector.StatusUnsafeJSON},
		{"large number within float64", `{"event":"agent.new_thing","agentId":"agt_1","data":{"conversationId":"conv_1","x":1e300}}`, connector.StatusUnknownType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Normalize(Meta{ID: "whd_1", Source: "s", ReceivedAt: received}, []byte(tc.body))
			if e.Status != tc.status || e.AgentID != "agt_1" || e.Subject != "conv_1" {
				t.Fatalf("status %s agent %q subject %q, want %s", e.Status, e.AgentID, e.Subject, tc.status)
			}
			env, err := e.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Data      json.RawMessage `json:"data"`
				Raw       json.RawMessage `json:"raw"`
				RawBase64 []byte          `json:"raw_base64"`
			}
			var generic any
			if err := json.Unmarshal(env, &generic); err != nil {
				t.Fatalf("encoding/json cannot read the envelope: %v", err)
			}
			if err := json.Unmarshal(env, &got); err != nil {
				t.Fatal(err)
			}
			unsafe := tc.status == connector.StatusTooDeep || tc.status == connector.StatusUnsafeJSON
			if unsafe && (got.Data != nil || got.Raw != nil || string(got.RawBase64) != tc.body) {
				t.Fatalf("an unsafe body is in the envelope as JSON: data %d bytes, raw %d bytes, raw_base64 %d bytes", len(got.Data), len(got.Raw), len(got.RawBase64))
			}
			if !unsafe && (got.Data == nil || string(got.Raw) != tc.body) {
				t.Fatalf("a safe body is not embedded: data %s raw %s", got.Data, got.Raw)
			}
		})
	}
}

// Times outside years 1 to 9999 in UTC are no times: JSON's time encoding
// and BigQuery's TIMESTAMP cannot hold them.
func TestTimesOutOfRange(t *testing.T) {
	for _, ts := range []string{"0000-06-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:00:00-05:00"} {
		body := `{"event":"agent.message","timestamp":"` + ts + `","data":{"messageId":"m1","receivedAt":"` + ts + `"}}`
		e := Normalize(Meta{ID: "whd_1", ReceivedAt: received}, []byte(body))
		if !e.Time.Equal(received) || strings.Contains(string(e.Data), "received_at") {
			t.Errorf("%s: time %v, data %s", ts, e.Time, e.Data)
		}
		if _, err := e.Marshal(); err != nil {
			t.Errorf("%s: %v", ts, err)
		}
	}
}
