package connector

import (
	"log/slog"
	"strings"
)

// Secret is a password, token or signing secret in the configuration. It
// prints as "[redacted]" in every format, log and JSON, so it cannot leak by
// accident; `connector config` shows only whether it is set.
type Secret string

// String, GoString, LogValue, MarshalJSON and MarshalText print "[redacted]";
// UnmarshalText reads the secret, trimmed of white space.
func (Secret) String() string                  { return "[redacted]" }
func (Secret) GoString() string                { return "[redacted]" }
func (Secret) LogValue() slog.Value            { return slog.StringValue("[redacted]") }
func (Secret) MarshalJSON() ([]byte, error)    { return []byte(`"[redacted]"`), nil }
func (Secret) MarshalText() ([]byte, error)    { return []byte("[redacted]"), nil }
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(strings.TrimSpace(string(b))); return nil }

// Reveal returns the secret itself, for the client that needs it.
func (s Secret) Reveal() string { return string(s) }
