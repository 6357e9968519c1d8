package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks/bigquerysink"
)

// runEvents prints the event catalogue: what downstream teams subscribe to.
func runEvents(args []string, stdout io.Writer) error {
	tables, err := bigquerysink.Tables()
	if err != nil {
		return err
	}
	switch {
	case len(args) == 0:
		printEvents(stdout, tables)
	case len(args) == 1 && args[0] == "--markdown":
		printEventsMarkdown(stdout, tables)
	default:
		return fmt.Errorf("%w: events [--markdown]", errUsage)
	}
	return nil
}

func printEvents(w io.Writer, tables []bigquerysink.Table) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tNATS SUBJECT\tKEY (ce subject)\tBIGQUERY\tDATA FIELDS")
	for _, k := range connector.Kinds() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", typeOf(k), subjectOf(k), k.Subject, tablesOf(tables, k), fieldsOf(k))
	}
	tw.Flush()
}

func printEventsMarkdown(w io.Writer, tables []bigquerysink.Table) {
	fmt.Fprintln(w, "| type | NATS subject | key (`subject` attribute, Kafka key) | BigQuery tables | data fields (and typed columns) | meaning |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for _, k := range connector.Kinds() {
		fmt.Fprintf(w, "| `%s` | `%s` | %s | %s | %s | %s |\n", typeOf(k), subjectOf(k), k.Subject, tablesOf(tables, k), fieldsOf(k), k.Doc)
	}
}

// tablesOf names the BigQuery tables that hold rows of a kind's events:
// events for every event, the typed tables for theirs.
func tablesOf(tables []bigquerysink.Table, k connector.Kind) string {
	var names []string
	for _, t := range tables {
		if len(t.Kinds) == 0 || slices.Contains(t.Kinds, k.Name) {
			names = append(names, t.Name)
		}
	}
	return strings.Join(names, ", ")
}

func typeOf(k connector.Kind) string {
	if k.Name == connector.EventUnknown {
		return connector.TypePrefix + "<event>"
	}
	return k.Type()
}

// subjectOf is the subject pattern of a kind; <subject> is the key column.
func subjectOf(k connector.Kind) string {
	return "agentphone." + k.Token + ".<subject>.<channel>.<agent>"
}

func fieldsOf(k connector.Kind) string {
	f := k.Fields()
	if f == nil {
		return "as sent by AgentPhone"
	}
	return strings.Join(f, ", ")
}
