package bigquerysink

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks/bigquerysink/bqwritetest"
	"github.com/agentphone-connector/connector/transform"
)

// FuzzEventRows checks that every webhook body, once normalized and read
// back from its journaled envelope as the sink reads it, gives rows that
// BigQuery takes in every table: the sink's own encoder, checked by the
// fake server's row checks (UTF-8 strings, JSON values, TIMESTAMP range,
// required columns). A row BigQuery refused would be dead-lettered.
func FuzzEventRows(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/agentphone/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, "vectors.json") {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"event":"agent.message","data":{"messageId":"m","conversationId":"c"},"conversationState":` + strings.Repeat("[", 80) + strings.Repeat("]", 80) + `}`,
		"{\"event\":\"agent.new_thing\",\"data\":{\"callId\":\"c\xff\",\"x\":\"caf\xe9\"}}",
		`{"event":"agent.call_ended","timestamp":"0000-01-01T00:00:00Z","data":{"callId":"c","startedAt":"9999-12-31T23:59:59-01:00","transcript":[{"role":"agent","content":"\ud800"}]}}`,
		`{"event":"agent.new_thing","data":{"x":1e999}}`,
	} {
		f.Add([]byte(s))
	}
	tables, err := buildTables()
	if err != nil {
		f.Fatal(err)
	}
	schemas := make([]*writerSchema, len(tables))
	for i, t := range tables {
		if schemas[i], err = newWriterSchema(t); err != nil {
			f.Fatal(err)
		}
	}
	received := time.Date(2026, 3, 2, 17, 5, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		e := transform.Normalize(transform.Meta{ID: "whd_fuzz", Source: "agentphone/webhook/project", ReceivedAt: received}, body)
		env, err := e.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := connector.Unmarshal(env)
		if err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		for i, tb := range tables {
			rs, err := tb.rows(back)
			if err != nil {
				t.Fatalf("table %s: %v", tb.Name, err)
			}
			for _, r := range rs {
				if _, err := bqwritetest.DecodeRow(schemas[i].desc, schemas[i].storage, tb.encode(nil, r)); err != nil {
					t.Fatalf("table %s refuses the row of %q: %v", tb.Name, body, err)
				}
			}
		}
	})
}
