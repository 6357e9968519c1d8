package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	connector "github.com/agentphone-connector/connector"
)

// fuzzSeeds are bodies at the edges of what an envelope can carry; the
// fixtures are added too. testdata/fuzz/FuzzNormalize holds what fuzzing
// found.
var fuzzSeeds = []string{
	`{"event":"agent.message","data":{"messageId":"m","mediaUrls":[null]}}`,
	"\xff",
	nested("agent.new_thing", connector.MaxDepth-2),
	nested("agent.new_thing", connector.MaxDepth-1),
	nested("agent.message", 5000),
	`{"event":"agent.message","data":{"messageId":"m1"},"conversationState":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70) + `}`,
	"{\"event\":\"agent.new_thing\",\"data\":{\"x\":\"caf\xe9\"}}",
	"{\"event\":\"agent.message\",\"data\":{\"messageId\":\"m\xff\",\"message\":\"\xed\xa0\x80\"}}",
	`{"event":"agent.new_thing","data":{"x":1e400,"y":-1e-400}}`,
	`{"event":"agent.call_ended","data":{"callId":"c","durationSeconds":1e400}}`,
	`{"event":"agent.new_thing","data":{"x":"\ud800\udc00\ud800","y":"\u0000\u2028"}}`,
	`{"event":"agent.message","timestamp":"9999-12-31T23:00:00-05:00","data":{"messageId":"m","receivedAt":"0000-01-01T00:00:00Z"}}`,
	`{"event":"agent.reaction","data":{"conversationId":"c","reactionType":"x"},"event":"agent.message"}`,
	"\xef\xbb\xbf{\"event\":\"agent.message\"}",
	`{"event":"agent.new_thing","data":` + strings.Repeat("9", 400) + `}`,
}

// FuzzNormalize checks what every journaled envelope must be, whatever the
// signed body: Normalize keeps the body byte for byte; the envelope encodes;
// Go's encoding/json decodes it (into any, as a consumer that knows nothing
// of it would); it is UTF-8 and nests no deeper than MaxDepth+1; it decodes
// back to the same event; and what the BigQuery sink writes from it is what
// BigQuery takes: JSON data, UTF-8 strings, times within years 1 to 9999.
// The BigQuery sink's own encoder is fuzzed in sinks/bigquerysink.
func FuzzNormalize(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := Normalize(Meta{ID: "fuzz", Source: "s", ReceivedAt: received}, body)
		if e.Type == "" || e.Status == "" || !bytes.Equal(e.Raw, body) {
			t.Fatalf("type %q status %q raw kept %v", e.Type, e.Status, bytes.Equal(e.Raw, body))
		}
		if e.Status == connector.StatusOK && !json.Valid(e.Data) {
			t.Fatalf("typed data is not JSON: %s", e.Data)
		}
		env, err := e.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		checkDecodes(t, env)
		back, err := connector.Unmarshal(env)
		if err != nil {
			t.Fatalf("unmarshal %s: %v", env, err)
		}
		if !bytes.Equal(back.Raw, body) || back.Type != e.Type || back.Subject != e.Subject || !bytes.Equal(compact(back.Data), compact(e.Data)) {
			t.Fatalf("round trip changed the event:\n%s", env)
		}
		checkBigQuery(t, back)
	})
}

// checkDecodes fails unless encoding/json reads env as a generic value, env
// is UTF-8, and it nests at most MaxDepth+1 levels (raw and data sit one
// level down).
func checkDecodes(t *testing.T, env []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(env, &v); err != nil {
		t.Fatalf("encoding/json cannot read the envelope: %v\n%q", err, env)
	}
	if !utf8.Valid(env) {
		t.Fatalf("the envelope is not UTF-8: %q", env)
	}
	if d := depth(t, env); d > connector.MaxDepth+1 {
		t.Fatalf("the envelope nests %d levels", d)
	}
}

// depth counts how deeply doc nests, with encoding/json's tokenizer.
func depth(t *testing.T, doc []byte) int {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	d, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return deepest
		}
		if err != nil {
			t.Fatalf("tokens: %v", err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			d++
			deepest = max(deepest, d)
		case json.Delim('}'), json.Delim(']'):
			d--
		}
	}
}

// checkBigQuery fails on what BigQuery's Storage Write API refuses in the
// events table and the typed ones: JSON columns that are not JSON, STRING
// columns that are not UTF-8, TIMESTAMPs outside years 1 to 9999.
func checkBigQuery(t *testing.T, e *connector.Event) {
	t.Helper()
	if e.Data != nil && !json.Valid(e.Data) {
		t.Fatalf("data is not JSON: %q", e.Data)
	}
	for _, s := range []string{e.ID, e.Type, e.Source, e.Subject, e.DataSchema, e.AgentID, e.CallID, e.ConversationID, e.Channel, e.Direction, string(e.Status)} {
		if !utf8.ValidString(s) {
			t.Fatalf("attribute %q is not UTF-8", s)
		}
	}
	for _, tm := range []time.Time{e.Time, e.ReceivedAt} {
		if tm.Year() < 1 || tm.Year() > 9999 {
			t.Fatalf("time %v is outside BigQuery's range", tm)
		}
	}
}

func compact(b []byte) []byte {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return b
	}
	return out.Bytes()
}
