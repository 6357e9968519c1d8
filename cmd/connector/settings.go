package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sources/webhook"
)

// configError is an invalid configuration: every problem found, each shown
// with the values of the variables it names (secrets masked).
type configError struct {
	problems []error
	lookup   envconfig.Lookuper
}

func (e *configError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration, %d problem%s:", len(e.problems), plural(len(e.problems)))
	for _, p := range e.problems {
		b.WriteString("\n  - " + describe(p, e.lookup))
	}
	return b.String()
}

// describe shows one problem: "VAR=value: rule" for a setting, the error's
// own text for anything else.
func describe(err error, lookup envconfig.Lookuper) string {
	var se *connector.SettingError
	if !errors.As(err, &se) {
		return err.Error()
	}
	shown := make([]string, len(se.Vars))
	for i, name := range se.Vars {
		shown[i] = showVar(name, lookup)
	}
	return strings.Join(shown, ", ") + ": " + se.Rule
}

// showVar is a variable with its value as the user set it: quoted, "(set)"
// for a secret, or "(not set, default X)".
func showVar(name string, lookup envconfig.Lookuper) string {
	val, set := lookup.Lookup(name)
	switch {
	case !set:
		if d := defaultOf(name); d != "" {
			return name + " (not set, default " + d + ")"
		}
		return name + " (not set)"
	case isSecretVar(name) && val != "":
		return name + "=(set)"
	}
	return name + "=" + strconv.Quote(redactURL(val))
}

// problems splits a joined error into its leaves.
func problems(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, problems(e)...)
		}
		return out
	}
	return []error{err}
}

// unparsable reports every set variable whose value cannot be read as its
// type, each as a SettingError, and the names of those variables.
func unparsable(ctx context.Context, lookup envconfig.Lookuper) (map[string]bool, []error) {
	bad := map[string]bool{}
	var errs []error
	for _, v := range envVars() {
		val, set := lookup.Lookup(v.Name)
		if !set || v.Type == nil {
			continue
		}
		if err := parseAs(ctx, v, val); err != nil {
			bad[v.Name] = true
			errs = append(errs, connector.Invalid(v.Name, "%s", parseRule(v.Type, err)))
		}
	}
	return bad, errs
}

// parseAs reads val into a value of v's type the way envconfig does.
func parseAs(ctx context.Context, v envVar, val string) error {
	t := reflect.StructOf([]reflect.StructField{{Name: "V", Type: v.Type, Tag: reflect.StructTag(`env:"` + v.Name + `"`)}})
	target := reflect.New(t).Interface()
	return envconfig.ProcessWith(ctx, &envconfig.Config{Target: target, Lookuper: envconfig.MapLookuper(map[string]string{v.Name: val})})
}

// parseRule says what a value of type t must look like.
func parseRule(t reflect.Type, err error) string {
	switch {
	case errors.Is(err, strconv.ErrRange):
		return "out of range"
	case t == reflect.TypeFor[time.Duration]():
		return "not a duration (a number with a unit: 300ms, 30s, 5m, 72h)"
	case t.Kind() == reflect.Bool:
		return "not true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "not a whole number"
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		return "not a whole number, 0 or more"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "not a number"
	}
	return "cannot be read: " + errors.Unwrap(err).Error()
}

// without hides the variables in bad, so that they take their defaults
// while the others are read and checked.
func without(lookup envconfig.Lookuper, bad map[string]bool) envconfig.Lookuper {
	return envconfig.LookuperFunc(func(key string) (string, bool) {
		if bad[key] {
			return "", false
		}
		return lookup.Lookup(key)
	})
}

// involves reports whether a problem names one of the variables in bad.
func involves(err error, bad map[string]bool) bool {
	var se *connector.SettingError
	if !errors.As(err, &se) {
		return false
	}
	for _, v := range se.Vars {
		if bad[v] {
			return true
		}
	}
	return false
}

// isSecretVar reports whether name holds a secret: a variable of a Secret
// type, or a named route's secrets.
func isSecretVar(name string) bool {
	if strings.HasPrefix(name, webhook.RouteSecretVar("")) {
		return true
	}
	for _, v := range envVars() {
		if v.Name == name {
			return v.Secret
		}
	}
	return false
}

// defaultOf is the default shown for name, "" when it has none.
func defaultOf(name string) string {
	for _, v := range envVars() {
		if v.Name == name {
			return v.Default
		}
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
