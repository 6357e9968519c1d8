package bigquerysink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
)

// ErrUnknownQuery reports a query name Queries does not list.
var ErrUnknownQuery = errors.New("bigquerysink: unknown query")

// Query is one named analytics query of `connector query`. Every query takes
// two parameters: @since (a TIMESTAMP; rows of days before DATE(@since) are
// left out) and @agent (an agent ID, ” for every agent).
type Query struct {
	Name string
	Doc  string
	sql  func(ref func(string) string) string
}

// filter is the WHERE of queries over daily views.
const filter = "day >= DATE(@since) AND (@agent = '' OR agent_id = @agent)"

// Queries returns the named queries, in the order `connector query --list` shows them.
func Queries() []Query {
	return []Query{
		{Name: "calls", Doc: "calls per day by agent, number, direction and status", sql: func(ref func(string) string) string {
			return "SELECT * FROM " + ref("calls_daily") + " WHERE " + filter + "\nORDER BY day, agent_id, agent_number, direction, status"
		}},
		{Name: "durations", Doc: "call duration percentiles (p50, p90, p95, p99, max) per agent", sql: func(ref func(string) string) string {
			where := "DATE(" + callTime + ") >= DATE(@since) AND (@agent = '' OR agent_id = @agent)"
			return durationsSQL(ref("calls_unique"), where, []string{"agent_id"}, []string{"agent_id"}) + "\nORDER BY agent_id"
		}},
		{Name: "outcomes", Doc: "success rate and sentiment mix per agent", sql: func(ref func(string) string) string {
			return `SELECT agent_id, SUM(calls) AS calls, SUM(successful) AS successful, SUM(unsuccessful) AS unsuccessful,
  SAFE_DIVIDE(SUM(successful), SUM(successful) + SUM(unsuccessful)) AS success_rate,
  SUM(sentiment_positive) AS positive, SUM(sentiment_neutral) AS neutral,
  SUM(sentiment_negative) AS negative, SUM(sentiment_other) AS other
FROM ` + ref("call_outcomes_daily") + " WHERE " + filter + "\nGROUP BY agent_id ORDER BY agent_id"
		}},
		{Name: "messages", Doc: "messages per day by channel and direction", sql: func(ref func(string) string) string {
			return `SELECT day, channel, direction, SUM(messages) AS messages, SUM(with_media) AS with_media,
  SUM(media_items) AS media_items, SUM(group_messages) AS group_messages
FROM ` + ref("messages_daily") + " WHERE " + filter + "\nGROUP BY day, channel, direction ORDER BY day, channel, direction"
		}},
		{Name: "busiest-hours", Doc: "calls and text messages by hour of day (UTC), busiest first", sql: func(ref func(string) string) string {
			return `SELECT hour, SUM(calls) AS calls, SUM(messages) AS messages, SUM(calls) + SUM(messages) AS total
FROM ` + ref("activity_hourly") + " WHERE " + filter + "\nGROUP BY hour ORDER BY total DESC, hour"
		}},
		{Name: "agents", Doc: "per-agent summary: calls, talk time, success rate, messages, reactions", sql: func(ref func(string) string) string {
			return `SELECT agent_id, SUM(calls) AS calls, SUM(call_seconds) AS call_seconds,
  SAFE_DIVIDE(SUM(successful_calls), SUM(successful_calls) + SUM(unsuccessful_calls)) AS success_rate,
  SUM(messages_in) AS messages_in, SUM(messages_out) AS messages_out, SUM(reactions) AS reactions,
  MAX(last_event_time) AS last_event_time
FROM ` + ref("agent_daily") + " WHERE " + filter + "\nGROUP BY agent_id ORDER BY agent_id"
		}},
	}
}

// SQL returns the query's text for the dataset project.dataset.
func (q Query) SQL(project, dataset string) string {
	return q.sql(func(name string) string { return fmt.Sprintf("`%s.%s.%s`", project, dataset, name) })
}

// QueryParams are the values of a query's parameters.
type QueryParams struct {
	Since time.Time // rows from DATE(Since) on
	Agent string    // one agent, or "" for all
}

// Result is a query's output: column names and rows of BigQuery values
// (string, int64, float64, bool, time.Time, civil.Date, nil...).
type Result struct {
	Columns []string
	Rows    [][]bigquery.Value
}

// RunQuery runs the named query on the dataset of cfg and reads all its
// rows. It returns ErrUnknownQuery for a name Queries does not list.
func RunQuery(ctx context.Context, cfg Config, name string, p QueryParams) (*Result, error) {
	var q *Query
	for _, x := range Queries() {
		if x.Name == name {
			q = &x
		}
	}
	if q == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownQuery, name)
	}
	bq, err := newRESTClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer bq.Close()
	job := bq.Query(q.SQL(cfg.Project, cfg.Dataset))
	job.Parameters = []bigquery.QueryParameter{{Name: "since", Value: p.Since.UTC()}, {Name: "agent", Value: p.Agent}}
	it, err := job.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("bigquery query %s: %w", name, err)
	}
	res := &Result{}
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bigquery query %s: %w", name, err)
		}
		res.Rows = append(res.Rows, row)
	}
	for _, f := range it.Schema {
		res.Columns = append(res.Columns, f.Name)
	}
	return res, nil
}
