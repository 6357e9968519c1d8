package bigquerysink

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"

	connector "github.com/agentphone-connector/connector"
)

// Table describes one table the sink writes. Its schema is derived from Go
// types (see the column rules in schema.go): the events table from the
// envelope, each typed table from the envelope columns every typed row
// carries plus the fields of its kind's data type in the catalogue.
type Table struct {
	Name      string          // table ID in the dataset
	Doc       string          // what one row is; the table's description
	Kinds     []string        // the event names whose events have rows here; empty for every event
	Schema    bigquery.Schema // the columns, in order
	Partition string          // the TIMESTAMP column the table is partitioned on, by day
	Cluster   []string        // the clustering columns
}

// Table names.
const (
	TableEvents           = "events"
	TableCalls            = "calls"
	TableCallTurns        = "call_turns"
	TableMessages         = "messages"
	TableReactions        = "reactions"
	TableDeliveryFailures = "delivery_failures"
)

// eventRow is a row of the events table: the audit history, one row per
// event with every envelope attribute, the normalized data and the raw body.
type eventRow struct {
	EventID        string          `json:"event_id" bq:"required"`
	Type           string          `json:"type" bq:"required"`
	Source         string          `json:"source,omitempty"`
	Subject        string          `json:"subject,omitempty"`
	EventTime      time.Time       `json:"event_time" bq:"required"`
	DataSchema     string          `json:"data_schema,omitempty"`
	AgentID        string          `json:"agent_id,omitempty"`
	CallID         string          `json:"call_id,omitempty"`
	ConversationID string          `json:"conversation_id,omitempty"`
	Channel        string          `json:"channel,omitempty"`
	Direction      string          `json:"direction,omitempty"`
	NormStatus     string          `json:"norm_status"`
	ReceivedAt     time.Time       `json:"received_at,omitzero"`
	Data           json.RawMessage `json:"data,omitempty"`
	Raw            []byte          `json:"raw,omitempty"`
}

// envelope is what every typed row carries from its event, before the
// columns of the data.
type envelope struct {
	EventID   string    `json:"event_id" bq:"required"`
	EventType string    `json:"event_type" bq:"required"`
	EventTime time.Time `json:"event_time" bq:"required"`
	Source    string    `json:"source,omitempty"`
	AgentID   string    `json:"agent_id,omitempty"`
	Channel   string    `json:"channel,omitempty"`
}

// messageExtra holds the columns a messages row adds to connector.Message.
type messageExtra struct {
	MediaCount int `json:"media_count"` // len(media_urls)
}

// typedSpec says how the events of one kind become rows of one table. The
// columns come from the kind's Data type in connector.Kinds().
type typedSpec struct {
	table   string
	doc     string
	omit    []string // data fields not stored as columns (a call's transcript goes to call_turns)
	cluster []string
	extra   func(data any) any // more columns computed from the data (a struct), or nil
}

// typedSpecs maps every kind that has typed data to its table. A kind added
// to the catalogue with typed data and no entry here fails New.
var typedSpecs = map[string]typedSpec{
	connector.EventCallEnded: {table: TableCalls, doc: "one row per ended call (agent.call_ended): numbers, times, duration, outcome and analysis",
		omit: []string{"transcript"}, cluster: []string{"agent_id", "direction", "status"}},
	connector.EventTranscriptTurn: {table: TableCallTurns, doc: "one row per transcript turn, from transcript.turn events and from the transcript of agent.call_ended",
		cluster: []string{"agent_id", "call_id"}},
	connector.EventMessage: {table: TableMessages, doc: "one row per message (agent.message) on every channel, voice utterances included",
		cluster: []string{"agent_id", "channel", "direction"}, extra: func(data any) any {
			return messageExtra{MediaCount: len(data.(*connector.Message).MediaURLs)}
		}},
	connector.EventReaction: {table: TableReactions, doc: "one row per reaction (agent.reaction)",
		cluster: []string{"agent_id", "reaction_type"}},
	connector.EventDeliveryFailed: {table: TableDeliveryFailures, doc: "one row per webhook delivery AgentPhone gave up on (connector.delivery_failed, from backfill)",
		cluster: []string{"webhook_event", "channel"}},
}

// table is a Table with what the sink needs to fill it.
type table struct {
	Table
	parts [][]column              // the column groups a row is made of, in order (envelope, data, extra)
	kind  map[string]reflect.Type // the data type of each kind with rows here
	extra func(data any) any      // the extra group, or nil
}

// row is one row to append: one value per column group of its table.
type row []reflect.Value

// buildTables derives every table from the catalogue.
func buildTables() ([]*table, error) {
	evCols, err := columnsOf(reflect.TypeFor[eventRow]())
	if err != nil {
		return nil, err
	}
	out := []*table{{
		Table: Table{Name: TableEvents, Doc: "the audit history: one row per journaled event, whatever its type or status, with the raw body as AgentPhone sent it",
			Partition: "event_time", Cluster: []string{"type", "agent_id"}},
		parts: [][]column{evCols},
	}}
	out[0].Schema = bqSchema(evCols)
	envCols, err := columnsOf(reflect.TypeFor[envelope]())
	if err != nil {
		return nil, err
	}
	for _, k := range connector.Kinds() {
		if k.Data == nil {
			continue
		}
		spec, ok := typedSpecs[k.Name]
		if !ok {
			return nil, fmt.Errorf("kind %s has typed data but no BigQuery table", k.Name)
		}
		t, err := typedTable(spec, k, envCols)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func typedTable(spec typedSpec, k connector.Kind, envCols []column) (*table, error) {
	data, err := columnsOf(k.Data)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", spec.table, err)
	}
	parts := [][]column{append([]column(nil), envCols...), without(data, spec.omit...)} // numbered per table: no sharing
	if spec.extra != nil {
		extra, err := columnsOf(reflect.TypeOf(spec.extra(reflect.New(k.Data).Interface())))
		if err != nil {
			return nil, err
		}
		parts = append(parts, extra)
	}
	t := &table{
		Table: Table{Name: spec.table, Doc: spec.doc, Kinds: []string{k.Name}, Partition: "event_time", Cluster: spec.cluster},
		parts: parts, kind: map[string]reflect.Type{k.Name: k.Data}, extra: spec.extra,
	}
	if k.Name == connector.EventTranscriptTurn { // a call's final transcript lands here too
		t.Kinds = append(t.Kinds, connector.EventCallEnded)
		t.kind[connector.EventCallEnded] = reflect.TypeFor[connector.CallEnded]()
	}
	seen := map[string]bool{}
	for _, p := range parts {
		for _, c := range p {
			if seen[c.name] {
				return nil, fmt.Errorf("table %s: column %s defined twice", t.Name, c.name)
			}
			seen[c.name] = true
			t.Schema = append(t.Schema, bqSchema([]column{c})...)
		}
	}
	return t, nil
}

// Tables returns the tables the sink writes, in order: events first, then a
// typed table for every kind of the catalogue that has typed data.
func Tables() ([]Table, error) {
	ts, err := buildTables()
	if err != nil {
		return nil, err
	}
	out := make([]Table, len(ts))
	for i, t := range ts {
		out[i] = t.Table
	}
	return out, nil
}

// StorageSchema returns the table's schema as the Storage Write API gives
// it: what a Storage Write server (a test's, say) holds for the table.
func (t Table) StorageSchema() (*storagepb.TableSchema, error) {
	ts, err := adapt.BQSchemaToStorageTableSchema(t.Schema)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.Name, err)
	}
	return ts, nil
}
