package main

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"

	"github.com/sethvargo/go-envconfig"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sources/webhook"
)

// envVar is one configuration variable, read from Config's struct tags.
type envVar struct {
	Name, Default, Help string
	Note                string // how the default follows other settings (derivedDefaults)
	Secret              bool
	Type                reflect.Type // the field's; nil for the route secrets, which are read apart
}

var secretType = reflect.TypeFor[connector.Secret]()

// envVars lists every variable of Config, in declaration order.
func envVars() []envVar {
	var out []envVar
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, ok := f.Tag.Lookup("env")
			if !ok {
				if f.Type.Kind() == reflect.Struct {
					walk(f.Type)
				}
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			v := envVar{Name: name, Help: f.Tag.Get("help"), Note: derivedNote(name), Type: f.Type,
				Secret: f.Type == secretType || f.Type.Kind() == reflect.Slice && f.Type.Elem() == secretType || f.Tag.Get("secret") == "true"}
			for _, o := range strings.Split(opts, ",") {
				if d, ok := strings.CutPrefix(strings.TrimSpace(o), "default="); ok {
					v.Default = d
				}
			}
			out = append(out, v)
		}
	}
	walk(reflect.TypeFor[Config]())
	return append(out, envVar{
		Name: webhook.RouteSecretVar("<name>"), Secret: true,
		Help: "secrets of the named route <name>, comma separated (name upper-cased, - as _); set but empty, the route answers 503 (retried) until a secret is set",
	})
}

// printVars writes every variable with its default, its current value
// (secrets only as set or unset) and its meaning; each route named in
// AGENTPHONE_WEBHOOK_ROUTES gets a line for its secret variable.
func printVars(w io.Writer, lookup envconfig.Lookuper) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tCURRENT\tMEANING")
	routes := routeNames(lookup)
	for _, v := range envVars() {
		cur := current(v, lookup)
		if v.Type == nil && len(routes) > 0 {
			cur = "(one line per route below)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Name, orDash(joinNote(v.Default, v.Note)), cur, v.Help)
	}
	for _, r := range routes {
		v := envVar{Name: webhook.RouteSecretVar(r), Secret: true}
		fmt.Fprintf(tw, "%s\t-\t%s\tsecrets of the route %s\n", v.Name, current(v, lookup), r)
	}
	tw.Flush()
}

// current is a variable's value for `connector config`: "-" when unset,
// "(set)" (or "(set, empty)") for a secret.
func current(v envVar, lookup envconfig.Lookuper) string {
	cur, set := lookup.Lookup(v.Name)
	switch {
	case !set:
		return "-"
	case v.Secret && cur == "":
		return "(set, empty)"
	case v.Secret:
		return "(set)"
	case cur == "":
		return `""`
	}
	return redactURL(cur)
}

// routeNames are the routes named in AGENTPHONE_WEBHOOK_ROUTES.
func routeNames(lookup envconfig.Lookuper) []string {
	v, _ := lookup.Lookup("AGENTPHONE_WEBHOOK_ROUTES")
	var out []string
	for _, r := range strings.Split(v, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func joinNote(def, note string) string {
	if note == "" {
		return def
	}
	return def + ", " + note
}

// printVarsMarkdown writes the configuration table of the README.
func printVarsMarkdown(w io.Writer) {
	fmt.Fprintln(w, "| variable | default | meaning |")
	fmt.Fprintln(w, "| --- | --- | --- |")
	for _, v := range envVars() {
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", v.Name, joinNote(mdCode(v.Default), v.Note), strings.ReplaceAll(v.Help, "|", `\|`))
	}
}

// printVarNames writes the name of every variable, one a line, for tools
// and tests that check a deployment sets only variables the connector
// knows. The route secrets are listed as AGENTPHONE_WEBHOOK_SECRET_<NAME>.
func printVarNames(w io.Writer) {
	for _, v := range envVars() {
		fmt.Fprintln(w, v.Name)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}
