package sinks

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	connector "github.com/agentphone-connector/connector"
)

// Route says which journaled events a sink receives: those of its kinds
// and those on its subjects; an empty Route is every event. The sink's
// journal consumer filters on it (JetStream FilterSubjects), so the journal
// never hands the other events to the sink: they cost it nothing, and a
// replay of the sink re-sends only the events of its route.
//
// Journal subjects are <prefix>.<kind>.<call or conversation>.<channel>.<agent>,
// so a kind is the literal prefix <prefix>.<kind>.>, which the server
// reaches without walking other kinds' subjects.
type Route struct {
	Kinds    []string // kind tokens of the catalogue (connector.Kinds): message, call_ended, ...
	Subjects []string // journal subject filters, each under <prefix>., e.g. agentphone.message.*.whatsapp.>
}

// Empty reports whether the route is every event.
func (r Route) Empty() bool { return len(r.Kinds) == 0 && len(r.Subjects) == 0 }

// Filter returns the consumer's filter subjects under the journal's subject
// prefix: one per kind, then the subjects; nil for every event.
func (r Route) Filter(prefix string) []string {
	if r.Empty() {
		return nil
	}
	out := make([]string, 0, len(r.Kinds)+len(r.Subjects))
	for _, k := range r.Kinds {
		out = append(out, prefix+"."+k+".>")
	}
	return append(out, r.Subjects...)
}

// Validate reports every problem of the route that does not depend on the
// journal: kinds the catalogue does not know, kinds given twice, subjects
// that are not subject filters. kindsVar and subjectsVar name the variables.
func (r Route) Validate(kindsVar, subjectsVar string) error {
	var errs []error
	tokens := kindTokens()
	for i, k := range r.Kinds {
		switch {
		case !slices.Contains(tokens, k):
			errs = append(errs, connector.Invalid(kindsVar, "%q is not a kind; the kinds are %s", k, strings.Join(tokens, ", ")))
		case slices.Contains(r.Kinds[:i], k):
			errs = append(errs, connector.Invalid(kindsVar, "kind %q given twice", k))
		}
	}
	for _, s := range r.Subjects {
		if err := checkFilterSubject(s); err != nil {
			errs = append(errs, connector.Invalid(subjectsVar, "%v", err))
		}
	}
	return errors.Join(errs...)
}

// Check reports the problems of the route on a journal whose subjects are
// under prefix: a subject outside it, and filters that overlap (the server
// refuses a consumer whose filters overlap: an event would match twice).
func (r Route) Check(prefix, kindsVar, subjectsVar string) error {
	var errs []error
	for _, s := range r.Subjects {
		if !strings.HasPrefix(s, prefix+".") {
			errs = append(errs, connector.Invalid(subjectsVar, "%q is not under the journal's subjects %s.>", s, prefix))
		}
	}
	if len(r.Subjects) == 0 {
		return errors.Join(errs...) // kinds alone never overlap; one given twice is Validate's
	}
	if err := checkOverlap(r.Filter(prefix)); err != nil {
		errs = append(errs, connector.Invalid(kindsVar+", "+subjectsVar, "%v", err))
	}
	return errors.Join(errs...)
}

// kindTokens returns the subject token of every kind of the catalogue.
func kindTokens() []string {
	var out []string
	for _, k := range connector.Kinds() {
		out = append(out, k.Token)
	}
	return out
}

var errBadFilter = errors.New("sinks: not a subject filter")

// checkFilterSubject reports a string that is not a NATS subject filter:
// tokens of printable characters without spaces, * for one token, > last.
func checkFilterSubject(s string) error {
	toks := strings.Split(s, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return fmt.Errorf("%w: %q has an empty token", errBadFilter, s)
		case strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			return fmt.Errorf("%w: %q holds a space or a control character", errBadFilter, s)
		case t == ">" && i != len(toks)-1:
			return fmt.Errorf("%w: %q has > before its last token", errBadFilter, s)
		case t != ">" && t != "*" && strings.ContainsAny(t, "*>"):
			return fmt.Errorf("%w: %q has a wildcard inside a token", errBadFilter, s)
		}
	}
	return nil
}

// checkOverlap reports the first two filters some subject matches both.
func checkOverlap(filters []string) error {
	for i, a := range filters {
		for _, b := range filters[:i] {
			if overlap(strings.Split(a, "."), strings.Split(b, ".")) {
				return fmt.Errorf("the filters %s and %s overlap", b, a)
			}
		}
	}
	return nil
}

// overlap reports whether some subject matches both filters (split into
// tokens; > only last).
func overlap(a, b []string) bool {
	for i := 0; ; i++ {
		switch {
		case i == len(a) || i == len(b):
			return len(a) == len(b)
		case a[i] == ">" || b[i] == ">":
			return true
		case a[i] != "*" && b[i] != "*" && a[i] != b[i]:
			return false
		}
	}
}

// checkFilter reports a sink filter the journal would refuse.
func checkFilter(filter []string) error {
	for _, s := range filter {
		if err := checkFilterSubject(s); err != nil {
			return err
		}
	}
	return checkOverlap(filter)
}
