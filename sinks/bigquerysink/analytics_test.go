package bigquerysink

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"

	connector "github.com/agentphone-connector/connector"
)

// figures holds what a view must return: per key (the key columns' values
// joined by "|"), per column, a number.
type figures map[string]map[string]float64

func (f figures) add(key, col string, v float64) {
	if f[key] == nil {
		f[key] = map[string]float64{}
	}
	f[key][col] += v
}

func (f figures) set(key, col string, v float64) {
	f.add(key, col, 0)
	f[key][col] = v
}

func key(vals ...any) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
			s[i] = "NULL"
		case time.Time:
			s[i] = v.UTC().Format(time.DateOnly)
		default:
			s[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(s, "|")
}

// expect computes in Go, from the events, the figures of every view.
func expect(t *testing.T, events []*connector.Event) map[string]figures {
	out := map[string]figures{}
	for _, v := range []string{"calls_daily", "call_durations_daily", "call_outcomes_daily", "messages_daily", "activity_hourly", "agent_daily"} {
		out[v] = figures{}
	}
	durations := map[string][]float64{}
	convs := map[string]map[string]bool{}
	for _, e := range events {
		switch e.Kind().Name {
		case connector.EventCallEnded:
			var c connector.CallEnded
			mustDecode(t, e, &c)
			day := key(deref(c.StartedAt))
			number := c.To
			if c.Direction == "outbound" {
				number = c.From
			}
			k := key(day, e.AgentID, c.NumberID, number, c.Direction, c.Status)
			out["calls_daily"].add(k, "calls", 1)
			out["calls_daily"].add(k, "duration_seconds", c.DurationSeconds)
			durations[key(day, e.AgentID)] = append(durations[key(day, e.AgentID)], c.DurationSeconds)
			o := out["call_outcomes_daily"]
			dk := key(day, e.AgentID)
			o.add(dk, "calls", 1)
			switch {
			case c.CallSuccessful == nil:
				o.add(dk, "success_unknown", 1)
			case *c.CallSuccessful:
				o.add(dk, "successful", 1)
				out["agent_daily"].add(dk, "successful_calls", 1)
			default:
				o.add(dk, "unsuccessful", 1)
				out["agent_daily"].add(dk, "unsuccessful_calls", 1)
			}
			sentiment := "sentiment_" + strings.ToLower(c.UserSentiment)
			if c.UserSentiment == "" {
				sentiment = "sentiment_other"
			}
			o.add(dk, sentiment, 1)
			out["activity_hourly"].add(key(day, deref(c.StartedAt).Hour(), e.AgentID), "calls", 1)
			out["agent_daily"].add(dk, "calls", 1)
			out["agent_daily"].add(dk, "call_seconds", c.DurationSeconds)
		case connector.EventMessage:
			var m connector.Message
			mustDecode(t, e, &m)
			at := deref(m.ReceivedAt)
			if at.IsZero() {
				at = e.Time
			}
			k := key(at, e.AgentID, e.Channel, m.Direction)
			f := out["messages_daily"]
			f.add(k, "messages", 1)
			f.add(k, "media_items", float64(len(m.MediaURLs)))
			if len(m.MediaURLs) > 0 {
				f.add(k, "with_media", 1)
			}
			if m.Group != nil {
				f.add(k, "group_messages", 1)
			}
			if convs[k] == nil {
				convs[k] = map[string]bool{}
			}
			if m.ConversationID != "" {
				convs[k][m.ConversationID] = true
			}
			f.set(k, "conversations", float64(len(convs[k])))
			if e.Channel == "voice" {
				continue
			}
			out["activity_hourly"].add(key(at, at.Hour(), e.AgentID), "messages", 1)
			out["agent_daily"].add(key(at, e.AgentID), "messages_"+map[string]string{"inbound": "in", "outbound": "out"}[m.Direction], 1)
		case connector.EventReaction:
			var r connector.Reaction
			mustDecode(t, e, &r)
			out["agent_daily"].add(key(deref(r.CreatedAt), e.AgentID), "reactions", 1)
		}
	}
	for k, ds := range durations {
		slices.Sort(ds)
		f := out["call_durations_daily"]
		f.set(k, "calls", float64(len(ds)))
		for _, p := range percentiles {
			f.set(k, fmt.Sprintf("p%d_seconds", p), ds[int(math.Ceil(float64(p)*float64(len(ds))/100))-1])
		}
		f.set(k, "max_seconds", ds[len(ds)-1])
	}
	for _, f := range []figures{out["call_outcomes_daily"], out["agent_daily"]} {
		for _, m := range f {
			s, u := m["successful"]+m["successful_calls"], m["unsuccessful"]+m["unsuccessful_calls"]
			if s+u > 0 {
				m["success_rate"] = s / (s + u)
			}
		}
	}
	return out
}

func mustDecode(t *testing.T, e *connector.Event, v any) {
	t.Helper()
	if err := json.Unmarshal(e.Data, v); err != nil {
		t.Fatal(err)
	}
}

// viewKeys are the key columns of each view, in the order expect joins them.
var viewKeys = map[string][]string{
	"calls_daily":          {"day", "agent_id", "number_id", "agent_number", "direction", "status"},
	"call_durations_daily": {"day", "agent_id"},
	"call_outcomes_daily":  {"day", "agent_id"},
	"messages_daily":       {"day", "agent_id", "channel", "direction"},
	"activity_hourly":      {"day", "hour", "agent_id"},
	"agent_daily":          {"day", "agent_id"},
}

// checkView compares a view's rows with the figures: the same keys, and
// every figure's column equal (a column the figures lack must be 0 or NULL).
func checkView(t *testing.T, ctx context.Context, bq *bigquery.Client, cfg Config, view string, want figures) {
	t.Helper()
	rows := queryRows(t, ctx, bq, fmt.Sprintf("SELECT * FROM `%s.%s.%s`", cfg.Project, cfg.Dataset, view))
	got := map[string]map[string]bigquery.Value{}
	for _, r := range rows {
		var kv []any
		for _, c := range viewKeys[view] {
			kv = append(kv, civilOrValue(r[c]))
		}
		k := key(kv...)
		if _, dup := got[k]; dup {
			t.Errorf("%s: key %s twice", view, k)
		}
		got[k] = r
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", view, len(got), len(want))
	}
	for k, cols := range want {
		r, ok := got[k]
		if !ok {
			t.Errorf("%s: no row for %s", view, k)
			continue
		}
		for c, w := range cols {
			if g := numberOf(r[c]); math.Abs(g-w) > 1e-9 {
				t.Errorf("%s[%s].%s = %v, want %v", view, k, c, r[c], w)
			}
		}
	}
}

// civilOrValue turns a civil.Date into the same key text as a time.Time.
func civilOrValue(v bigquery.Value) any {
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return v
}

func numberOf(v bigquery.Value) float64 {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

func TestAnalyticsOnEmulator(t *testing.T) {
	cfg := startEmulator(t)
	ctx := context.Background()
	for run := range 2 { // the second run finds everything in place
		if err := EnsureSchema(ctx, cfg, Settings{}); err != nil {
			t.Fatalf("EnsureSchema run %d: %v", run+1, err)
		}
	}
	bq, err := newRESTClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer bq.Close()
	events := simulate(42, 40, 100, 20)
	again := events[:25] // written twice, as a retry or a replay would
	load(t, ctx, bq, events, again)

	for view, want := range expect(t, events) {
		t.Run(view, func(t *testing.T) { checkView(t, ctx, bq, cfg, view, want) })
	}
	t.Run("unique", func(t *testing.T) {
		rows := expected(t, events)
		for _, table := range []string{TableEvents, TableCalls, TableCallTurns, TableMessages, TableReactions} {
			raw := count(t, ctx, bq, cfg, table)
			unique := count(t, ctx, bq, cfg, table+"_unique")
			if unique != rows[table] || raw != rows[table]+expected(t, again)[table] {
				t.Errorf("%s: %d rows, %s_unique %d; want %d and %d", table, raw, table, unique, rows[table]+expected(t, again)[table], rows[table])
			}
		}
	})
	t.Run("queries", func(t *testing.T) { checkQueries(t, ctx, cfg, events) })
	t.Run("docs examples", func(t *testing.T) { runDocExamples(t, ctx, bq, cfg) })
}

// runDocExamples runs every SQL example of docs/bigquery.md: they must at
// least be valid on the emulator.
func runDocExamples(t *testing.T, ctx context.Context, bq *bigquery.Client, cfg Config) {
	b, err := os.ReadFile("../../docs/bigquery.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) == 0 {
		t.Fatal("no SQL examples in docs/bigquery.md")
	}
	for _, m := range blocks {
		for _, q := range strings.Split(m[1], ";") {
			if strings.TrimSpace(q) != "" {
				queryRows(t, ctx, bq, strings.ReplaceAll(q, "PROJECT.agentphone", cfg.Project+"."+cfg.Dataset))
			}
		}
	}
}

func count(t *testing.T, ctx context.Context, bq *bigquery.Client, cfg Config, table string) int {
	rows := queryRows(t, ctx, bq, fmt.Sprintf("SELECT COUNT(*) AS n FROM `%s.%s.%s`", cfg.Project, cfg.Dataset, table))
	return int(numberOf(rows[0]["n"]))
}

// checkQueries runs every named query and checks the per-agent summary
// against the figures of the traffic, for all agents and for one.
func checkQueries(t *testing.T, ctx context.Context, cfg Config, events []*connector.Event) {
	since := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, q := range Queries() {
		res, err := RunQuery(ctx, cfg, q.Name, QueryParams{Since: since})
		if err != nil {
			t.Errorf("query %s: %v", q.Name, err)
			continue
		}
		if len(res.Rows) == 0 || len(res.Columns) == 0 {
			t.Errorf("query %s: no rows", q.Name)
		}
	}
	perAgent := figures{}
	for k, cols := range expect(t, events)["agent_daily"] {
		agent := strings.Split(k, "|")[1]
		for c, v := range cols {
			if c != "success_rate" {
				perAgent.add(agent, c, v)
			}
		}
	}
	for _, agent := range []string{"", agents[1]} {
		res, err := RunQuery(ctx, cfg, "agents", QueryParams{Since: since, Agent: agent})
		if err != nil {
			t.Fatal(err)
		}
		want := len(perAgent)
		if agent != "" {
			want = 1
		}
		if len(res.Rows) != want {
			t.Errorf("agents (agent %q): %d rows, want %d", agent, len(res.Rows), want)
		}
		for _, row := range res.Rows {
			a := fmt.Sprint(row[0])
			for i, c := range res.Columns {
				if w, ok := perAgent[a][c]; ok && math.Abs(numberOf(row[i])-w) > 1e-9 {
					t.Errorf("agents[%s].%s = %v, want %v", a, c, row[i], w)
				}
			}
		}
	}
	later, err := RunQuery(ctx, cfg, "calls", QueryParams{Since: since.AddDate(0, 0, 30)})
	if err != nil || len(later.Rows) != 0 {
		t.Errorf("calls since a later day: %d rows, %v; want none", len(later.Rows), err)
	}
}

// deref is the time p points to, the zero time for nil.
func deref(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}
