package bigquerysink

import (
	"fmt"
	"strings"
)

// View is one view the connector keeps in the dataset. Every view reads the
// tables through the *_unique views, which keep one row per event_id (per
// event_id and position for transcript turns), so a row written twice (the
// default stream's retries, a replay of the journal) is counted once.
type View struct {
	Name string
	Doc  string
	SQL  string
}

// day is the calendar day (UTC) a call belongs to: when it started, or when
// it ended if AgentPhone gave no start.
const (
	callTime    = "COALESCE(started_at, event_time)"
	messageTime = "COALESCE(received_at, event_time)"
)

// Views returns the views of the dataset project.dataset, in creation order
// (a view only reads views before it).
func Views(project, dataset string) []View {
	ref := func(name string) string { return fmt.Sprintf("`%s.%s.%s`", project, dataset, name) }
	var out []View
	for _, u := range []struct{ table, key string }{
		{TableEvents, "event_id"}, {TableCalls, "event_id"}, {TableCallTurns, "event_id, position"},
		{TableMessages, "event_id"}, {TableReactions, "event_id"},
	} {
		out = append(out, View{
			Name: u.table + "_unique",
			Doc:  fmt.Sprintf("%s with one row per %s: the table as if every row were written exactly once", u.table, u.key),
			SQL:  uniqueSQL(ref(u.table), u.key),
		})
	}
	calls, messages, reactions := ref(TableCalls+"_unique"), ref(TableMessages+"_unique"), ref(TableReactions+"_unique")
	return append(out,
		View{Name: "calls_daily", Doc: "calls per day by agent, agent number, direction and status, with their duration", SQL: callsDailySQL(calls)},
		View{Name: "call_durations_daily", Doc: "call duration percentiles (nearest rank) per day and agent", SQL: durationsSQL(calls, "", []string{"DATE(" + callTime + ")", "agent_id"}, []string{"day", "agent_id"})},
		View{Name: "call_outcomes_daily", Doc: "success rate and sentiment mix of calls per day and agent", SQL: outcomesDailySQL(calls)},
		View{Name: "messages_daily", Doc: "messages per day by agent, channel and direction, with media and group counts", SQL: messagesDailySQL(messages)},
		View{Name: "activity_hourly", Doc: "calls started and text messages per day, hour of day (UTC) and agent", SQL: activitySQL(calls, messages)},
		View{Name: "agent_daily", Doc: "one row per agent and day: calls, talk time, outcomes, messages in and out, reactions", SQL: agentDailySQL(calls, messages, reactions)},
	)
}

// uniqueSQL keeps the first row of each key.
func uniqueSQL(table, key string) string {
	return fmt.Sprintf(`SELECT * EXCEPT (_copy)
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY %s ORDER BY event_time) AS _copy
  FROM %s
)
WHERE _copy = 1`, key, table)
}

func callsDailySQL(calls string) string {
	return `SELECT
  DATE(` + callTime + `) AS day,
  agent_id,
  number_id,
  IF(direction = 'outbound', ` + "`from`, `to`" + `) AS agent_number,
  direction,
  status,
  COUNT(*) AS calls,
  SUM(duration_seconds) AS duration_seconds,
  AVG(duration_seconds) AS avg_duration_seconds
FROM ` + calls + `
GROUP BY 1, 2, 3, 4, 5, 6`
}

// percentiles are the duration percentiles the views and queries report.
var percentiles = []int{50, 90, 95, 99}

// durationsSQL computes nearest-rank duration percentiles per group: pN is
// the smallest duration d such that at least N% of the group's calls last
// d or less. Exact, and the same on BigQuery and its emulator (whose
// APPROX_QUANTILES and PERCENTILE_CONT differ from BigQuery's). exprs are
// the grouping expressions, names their output names; where filters calls.
func durationsSQL(calls, where string, exprs, names []string) string {
	var sel, part []string
	for i, e := range exprs {
		sel = append(sel, e+" AS "+names[i])
		part = append(part, e)
	}
	var pcts []string
	for _, p := range percentiles {
		pcts = append(pcts, fmt.Sprintf("  MIN(IF(pos >= CEIL(%d * n / 100), d, NULL)) AS p%d_seconds,", p, p))
	}
	if where != "" {
		where = "\n  WHERE " + where
	}
	by := strings.Join(part, ", ")
	return `SELECT
  ` + strings.Join(names, ", ") + `,
  COUNT(*) AS calls,
` + strings.Join(pcts, "\n") + `
  MAX(d) AS max_seconds,
  AVG(d) AS avg_seconds
FROM (
  SELECT
    ` + strings.Join(sel, ", ") + `,
    duration_seconds AS d,
    ROW_NUMBER() OVER (PARTITION BY ` + by + ` ORDER BY duration_seconds) AS pos,
    COUNT(*) OVER (PARTITION BY ` + by + `) AS n
  FROM ` + calls + where + `
)
GROUP BY ` + strings.Join(names, ", ")
}

func outcomesDailySQL(calls string) string {
	return `SELECT
  DATE(` + callTime + `) AS day,
  agent_id,
  COUNT(*) AS calls,
  COUNTIF(call_successful) AS successful,
  COUNTIF(NOT call_successful) AS unsuccessful,
  COUNTIF(call_successful IS NULL) AS success_unknown,
  SAFE_DIVIDE(COUNTIF(call_successful), COUNTIF(call_successful IS NOT NULL)) AS success_rate,
  COUNTIF(LOWER(user_sentiment) = 'positive') AS sentiment_positive,
  COUNTIF(LOWER(user_sentiment) = 'neutral') AS sentiment_neutral,
  COUNTIF(LOWER(user_sentiment) = 'negative') AS sentiment_negative,
  COUNTIF(user_sentiment IS NULL OR LOWER(user_sentiment) NOT IN ('positive', 'neutral', 'negative')) AS sentiment_other
FROM ` + calls + `
GROUP BY 1, 2`
}

func messagesDailySQL(messages string) string {
	return `SELECT
  DATE(` + messageTime + `) AS day,
  agent_id,
  channel,
  direction,
  COUNT(*) AS messages,
  COUNT(DISTINCT conversation_id) AS conversations,
  COUNTIF(media_count > 0) AS with_media,
  SUM(media_count) AS media_items,
  COUNTIF(` + "`group`" + ` IS NOT NULL) AS group_messages
FROM ` + messages + `
GROUP BY 1, 2, 3, 4`
}

// textOnly leaves out voice utterances, which are turns of a call.
const textOnly = "(channel IS NULL OR channel != 'voice')"

func activitySQL(calls, messages string) string {
	return `SELECT
  DATE(t) AS day,
  EXTRACT(HOUR FROM t) AS hour,
  agent_id,
  COUNTIF(what = 'call') AS calls,
  COUNTIF(what = 'message') AS messages
FROM (
  SELECT ` + callTime + ` AS t, agent_id, 'call' AS what FROM ` + calls + `
  UNION ALL
  SELECT ` + messageTime + ` AS t, agent_id, 'message' AS what FROM ` + messages + ` WHERE ` + textOnly + `
)
GROUP BY 1, 2, 3`
}

func agentDailySQL(calls, messages, reactions string) string {
	return `SELECT
  day,
  agent_id,
  SUM(calls) AS calls,
  SUM(call_seconds) AS call_seconds,
  SUM(successful) AS successful_calls,
  SUM(unsuccessful) AS unsuccessful_calls,
  SAFE_DIVIDE(SUM(successful), SUM(successful) + SUM(unsuccessful)) AS success_rate,
  SUM(messages_in) AS messages_in,
  SUM(messages_out) AS messages_out,
  SUM(reactions) AS reactions,
  MAX(event_time) AS last_event_time
FROM (
  SELECT DATE(` + callTime + `) AS day, agent_id, 1 AS calls, COALESCE(duration_seconds, 0.0) AS call_seconds,
    IF(call_successful, 1, 0) AS successful, IF(NOT call_successful, 1, 0) AS unsuccessful,
    0 AS messages_in, 0 AS messages_out, 0 AS reactions, event_time
  FROM ` + calls + `
  UNION ALL
  SELECT DATE(` + messageTime + `), agent_id, 0, 0.0, 0, 0,
    IF(direction = 'inbound', 1, 0), IF(direction = 'outbound', 1, 0), 0, event_time
  FROM ` + messages + ` WHERE ` + textOnly + `
  UNION ALL
  SELECT DATE(COALESCE(created_at, event_time)), agent_id, 0, 0.0, 0, 0, 0, 0, 1, event_time
  FROM ` + reactions + `
)
GROUP BY 1, 2`
}
