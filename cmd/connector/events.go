package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	connector "github.com/agentphone-connector/connector"
)

// runEvents prints the event catalogue: what downstream teams subscribe to.
func runEvents(args []string, stdout io.Writer) error {
	switch {
	case len(args) == 0:
		printEvents(stdout)
	case len(args) == 1 && args[0] == "--markdown":
		printEventsMarkdown(stdout)
	default:
		return fmt.Errorf("%w: events [--markdown]", errUsage)
	}
	return nil
}

func printEvents(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tNATS SUBJECT\tKEY (ce subject)\tDATA FIELDS")
	for _, k := range connector.Kinds() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", typeOf(k), subjectOf(k), k.Subject, fieldsOf(k))
	}
	tw.Flush()
}

func printEventsMarkdown(w io.Writer) {
	fmt.Fprintln(w, "| type | NATS subject | key (`subject` attribute, Kafka key) | data fields | meaning |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for _, k := range connector.Kinds() {
		fmt.Fprintf(w, "| `%s` | `%s` | %s | %s | %s |\n", typeOf(k), subjectOf(k), k.Subject, fieldsOf(k), k.Doc)
	}
}

func typeOf(k connector.Kind) string {
	if k.Name == connector.EventUnknown {
		return connector.TypePrefix + "<event>"
	}
	return k.Type()
}

// subjectOf is the subject pattern of a kind; <subject> is the key column.
func subjectOf(k connector.Kind) string {
	return "agentphone." + k.Token + ".<channel>.<agent>.<subject>"
}

func fieldsOf(k connector.Kind) string {
	f := k.Fields()
	if f == nil {
		return "as sent by AgentPhone"
	}
	return strings.Join(f, ", ")
}
