package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"cloud.google.com/go/civil"
	"github.com/sethvargo/go-envconfig"

	"github.com/agentphone-connector/connector/sinks/bigquerysink"
)

const queryUsage = "query NAME [--since 7d] [--agent ID] [--format table|csv|json] [--timeout 2m] | query --list"

// runQuery runs a named analytics query on the BigQuery dataset and prints
// its rows: `connector query calls --since 30d --format csv`.
func runQuery(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.String("since", "7d", "rows from this far back (days as 7d, a duration as 36h, or a date as 2026-03-01)")
	agent := fs.String("agent", "", "only this agent ID")
	format := fs.String("format", "table", "table, csv or json")
	list := fs.Bool("list", false, "list the named queries")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long the query may take, connecting included")
	name, rest := "", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, rest = args[0], args[1:]
	}
	if err := fs.Parse(rest); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("%w: %s", errUsage, queryUsage)
	}
	if *list {
		printQueries(stdout)
		return nil
	}
	from, err := parseSince(*since, time.Now())
	if err != nil || name == "" || (*format != "table" && *format != "csv" && *format != "json") {
		return fmt.Errorf("%w: %s", errUsage, queryUsage)
	}
	cfg, err := loadConfig(ctx, env)
	if err != nil {
		return err
	}
	if !cfg.BigQuery.Enabled() {
		return errors.New("query: set CONNECTOR_BIGQUERY_PROJECT (and CONNECTOR_BIGQUERY_DATASET) to the dataset to query")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	endpoint, via := bigQueryEndpoint(cfg.BigQuery)
	if err := probe(ctx, endpoint); err != nil {
		return unreachable("BigQuery", endpoint, via, err)
	}
	res, err := bigquerysink.RunQuery(ctx, cfg.BigQuery, name, bigquerysink.QueryParams{Since: from, Agent: *agent})
	switch {
	case errors.Is(err, bigquerysink.ErrUnknownQuery):
		return fmt.Errorf("%w: %v (connector query --list)", errUsage, err)
	case errors.Is(err, bigquerysink.ErrNoClient):
		return fmt.Errorf("no credentials for BigQuery (GOOGLE_APPLICATION_CREDENTIALS, or gcloud auth application-default login): %w", err)
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("BigQuery at %s (%s) did not answer within %s (query --timeout): %w", endpoint, via, *timeout, err)
	case err != nil:
		return err
	}
	return printResult(stdout, res, *format)
}

// bigQueryEndpoint is the REST endpoint a query goes to, and the variable
// that sets it.
func bigQueryEndpoint(cfg bigquerysink.Config) (endpoint, via string) {
	if cfg.Endpoint != "" {
		return cfg.Endpoint, "CONNECTOR_BIGQUERY_ENDPOINT"
	}
	return "https://bigquery.googleapis.com", "Google's; CONNECTOR_BIGQUERY_ENDPOINT for another"
}

// probe opens and closes a TCP connection to the host of an http(s) URL
// within dialTimeout: a refused or unroutable address fails at once rather
// than through a client's retries.
func probe(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return err
	}
	return conn.Close()
}

func printQueries(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUERY\tWHAT")
	for _, q := range bigquerysink.Queries() {
		fmt.Fprintf(tw, "%s\t%s\n", q.Name, q.Doc)
	}
	tw.Flush()
}

// printResult writes the rows as an aligned table, CSV (a header line, full
// precision) or JSON (one object per row, columns in query order).
func printResult(w io.Writer, res *bigquerysink.Result, format string) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(res.Columns)
		for _, row := range res.Rows {
			rec := make([]string, len(row))
			for i, v := range row {
				rec[i] = cell(v, false)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "json":
		return printJSON(w, res)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(res.Columns, "\t")+"\t")
	for _, row := range res.Rows {
		for _, v := range row {
			fmt.Fprint(tw, cell(v, true)+"\t")
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// cell formats one value; short rounds floats to 4 decimals for reading.
func cell(v any, short bool) string {
	switch v := v.(type) {
	case nil:
		if short {
			return "-"
		}
		return ""
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	case civil.Date:
		return v.String()
	case float64:
		if short {
			v = math.Round(v*1e4) / 1e4
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func printJSON(w io.Writer, res *bigquerysink.Result) error {
	var b bytes.Buffer
	b.WriteString("[")
	for i, row := range res.Rows {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  {")
		for j, v := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			k, _ := json.Marshal(res.Columns[j])
			val, err := json.Marshal(jsonValue(v))
			if err != nil {
				return err
			}
			b.Write(k)
			b.WriteString(": ")
			b.Write(val)
		}
		b.WriteString("}")
	}
	b.WriteString("\n]\n")
	_, err := w.Write(b.Bytes())
	return err
}

func jsonValue(v any) any {
	switch v := v.(type) {
	case time.Time, civil.Date:
		return cell(v, false)
	}
	return v
}
