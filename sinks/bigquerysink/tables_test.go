package bigquerysink

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"

	connector "github.com/agentphone-connector/connector"
)

func columnNames(s bigquery.Schema) []string {
	var out []string
	for _, f := range s {
		out = append(out, f.Name)
	}
	return out
}

func TestEveryTypedKindHasATable(t *testing.T) {
	tables, err := Tables()
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]string{}
	for _, tb := range tables {
		for _, k := range tb.Kinds {
			byKind[k] = tb.Name
		}
	}
	for _, k := range connector.Kinds() {
		if k.Data != nil && byKind[k.Name] == "" {
			t.Errorf("kind %s has typed data and no table", k.Name)
		}
	}
}

// The typed tables follow the catalogue's data types: every JSON field of
// the kind's type is a column (but those left out on purpose).
func TestTypedColumnsComeFromTheCatalogue(t *testing.T) {
	tables, err := Tables()
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables[1:] {
		cols := columnNames(tb.Schema)
		for _, k := range connector.Kinds() {
			if k.Name != tb.Kinds[0] {
				continue
			}
			for _, f := range k.Fields() {
				if !slices.Contains(cols, f) && !slices.Contains(typedSpecs[k.Name].omit, f) {
					t.Errorf("%s: no column for %s field %s", tb.Name, k.Name, f)
				}
			}
		}
		for _, c := range []string{"event_id", "event_type", "event_time", "agent_id"} {
			if !slices.Contains(cols, c) {
				t.Errorf("%s: no envelope column %s", tb.Name, c)
			}
		}
	}
	calls := columnNames(tables[slices.IndexFunc(tables, func(tb Table) bool { return tb.Name == TableCalls })].Schema)
	for _, c := range []string{"direction", "status", "from", "to", "started_at", "ended_at", "duration_seconds",
		"disconnection_reason", "summary", "user_sentiment", "call_successful", "turn_count"} {
		if !slices.Contains(calls, c) {
			t.Errorf("calls: no column %s", c)
		}
	}
}

// A field added to a data type becomes a column; a type with no BigQuery
// mapping is an error, not a silent gap.
func TestColumnsOf(t *testing.T) {
	type rec struct {
		A string `json:"a"`
	}
	type v2 struct {
		connector.Reaction
		New      *int64         `json:"new_field,omitempty"`
		Recs     []rec          `json:"recs"`
		Skip     string         `json:"-"`
		internal string         //nolint:unused
		Map      map[string]int `json:"-"`
	}
	cols, err := columnsOf(reflect.TypeFor[v2]())
	if err != nil {
		t.Fatal(err)
	}
	s := bqSchema(cols)
	got := columnNames(s)
	if got[0] != "conversation_id" || got[len(got)-2] != "new_field" || got[len(got)-1] != "recs" {
		t.Errorf("columns = %v", got)
	}
	if r := s[len(s)-1]; !r.Repeated || r.Type != bigquery.RecordFieldType || r.Schema[0].Name != "a" {
		t.Errorf("recs = %+v, want REPEATED RECORD", r)
	}
	if _, err := columnsOf(reflect.TypeFor[struct {
		M map[string]int `json:"m"`
	}]()); err == nil {
		t.Error("a map field was accepted")
	}
}

func TestMergeSchemaIsAdditive(t *testing.T) {
	have := bigquery.Schema{
		{Name: "a", Type: bigquery.StringFieldType},
		{Name: "r", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{{Name: "x", Type: bigquery.IntegerFieldType}}},
		{Name: "old", Type: bigquery.StringFieldType},
	}
	want := bigquery.Schema{
		{Name: "a", Type: bigquery.StringFieldType},
		{Name: "r", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{{Name: "x", Type: bigquery.IntegerFieldType}, {Name: "y", Type: bigquery.StringFieldType}}},
		{Name: "b", Type: bigquery.TimestampFieldType, Required: true},
	}
	merged, added := mergeSchema(have, want, "")
	if strings.Join(added, ",") != "r.y,b" {
		t.Errorf("added = %v, want r.y,b", added)
	}
	if got := columnNames(merged); strings.Join(got, ",") != "a,r,old,b" {
		t.Errorf("merged = %v: existing columns must stay, in place", got)
	}
	if merged[3].Required {
		t.Error("a new column must be NULLABLE: old rows have no value")
	}
	if _, added := mergeSchema(merged, want, ""); len(added) != 0 {
		t.Errorf("second merge added %v", added)
	}
}

// docs/bigquery.md documents every table, column, view and query.
func TestDocsCoverTheSchema(t *testing.T) {
	b, err := os.ReadFile("../../docs/bigquery.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	tables, err := Tables()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, "`"+tb.Name+"`")
		for _, f := range tb.Schema {
			names = append(names, "`"+f.Name+"`")
		}
	}
	for _, v := range Views("p", "d") {
		names = append(names, "`"+v.Name+"`")
	}
	for _, q := range Queries() {
		names = append(names, "`"+q.Name+"`")
	}
	for _, n := range names {
		if !strings.Contains(doc, n) {
			t.Errorf("docs/bigquery.md does not mention %s", n)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Project: "p", Dataset: "agentphone", Location: "US", Stream: StreamCommitted, BatchSize: 500, BatchTimeout: time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, ep := range []string{"bigquerystorage.googleapis.com:443", "127.0.0.1:9060", "http://bigquery-emulator:9060"} {
		c := ok
		c.StorageEndpoint = ep
		if err := c.Validate(); err != nil {
			t.Errorf("storage endpoint %s: %v", ep, err)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("a disabled sink must be valid: %v", err)
	}
	bad := Config{Project: "p", Dataset: "a-b", Endpoint: "localhost:9050", StorageEndpoint: "nohost", Stream: "pending"}
	err := bad.Validate()
	for _, v := range []string{"CONNECTOR_BIGQUERY_BATCH_SIZE", "CONNECTOR_BIGQUERY_BATCH_TIMEOUT", "CONNECTOR_BIGQUERY_DATASET", "CONNECTOR_BIGQUERY_LOCATION", "CONNECTOR_BIGQUERY_ENDPOINT",
		"CONNECTOR_BIGQUERY_STORAGE_ENDPOINT", "CONNECTOR_BIGQUERY_STREAM"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("Validate = %v: want a problem with %s", err, v)
		}
	}
}

func TestChunks(t *testing.T) {
	big := make([]byte, maxAppendBytes/2)
	huge := make([]byte, maxAppendBytes+1)
	got := chunks([][]byte{big, big, []byte("x"), huge, big}, []string{"a", "b", "c", "d", "e"})
	if len(got) != 4 || got[0].end != 1 || got[1].end != 3 || !errors.Is(got[2].err, ErrRowTooLarge) || got[3].start != 4 {
		t.Errorf("chunks = %+v", got)
	}
	if !connector.IsPermanent(got[2].err) {
		t.Error("a row too large must fail for good")
	}
	// One event's rows stay in one request when they fit in one.
	small := make([]byte, maxAppendBytes/3)
	got = chunks([][]byte{small, small, small, small}, []string{"a", "b", "b", "c"})
	if len(got) != 3 || got[0].end != 1 || got[1].start != 1 || got[1].end != 3 {
		t.Errorf("chunks split an event's rows: %+v", got)
	}
}
