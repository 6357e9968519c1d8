package connector

import (
	"fmt"
	"strings"
)

// SettingError is a problem of the configuration: the environment variables
// at fault and the rule their values break. Every Validate method of the
// configuration returns its problems as SettingErrors (joined), so that the
// command line can show each with the values the user set, secrets masked,
// and report them all at once.
type SettingError struct {
	Vars []string // the variables involved, the one to change first
	Rule string   // what their values must satisfy, e.g. "must be 1, 3 or 5"
}

// Error is "VAR: rule", or "VAR1, VAR2: rule" for a conflict.
func (e *SettingError) Error() string { return strings.Join(e.Vars, ", ") + ": " + e.Rule }

// Invalid returns a *SettingError: the variables named in vars (one, or
// several separated by ", ") break the rule, formatted as fmt.Sprintf does.
// The rule need not repeat a variable's value: whoever shows the error looks
// the values up.
func Invalid(vars, format string, args ...any) error {
	return &SettingError{Vars: strings.Split(vars, ", "), Rule: fmt.Sprintf(format, args...)}
}
