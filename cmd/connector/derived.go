package main

import "github.com/sethvargo/go-envconfig"

// derivedDefault is a default that follows another setting. When the user
// leaves name unset, derive sets it from the settings made, so that a
// default never conflicts with a setting the user made: a dedupe window of
// 1h makes backfill look back 1h, not fail over its own 72h.
type derivedDefault struct {
	name   string
	note   string // how the default follows, after the default itself in `connector config`
	derive func(c *Config)
}

func derivedDefaults() []derivedDefault {
	return []derivedDefault{
		{"CONNECTOR_BACKFILL_SINCE", "or CONNECTOR_DEDUPE_WINDOW if shorter",
			func(c *Config) { c.Backfill.Since = min(c.Backfill.Since, c.Journal.DedupeWindow) }},
		{"CONNECTOR_JOURNAL_MAX_AGE", "or CONNECTOR_DEDUPE_WINDOW if longer",
			func(c *Config) { c.Journal.MaxAge = max(c.Journal.MaxAge, c.Journal.DedupeWindow) }},
		{"CONNECTOR_SINK_ACK_WAIT", "or twice CONNECTOR_SINK_WRITE_TIMEOUT if longer",
			func(c *Config) { c.Sinks.AckWait = max(c.Sinks.AckWait, 2*c.Sinks.WriteTimeout) }},
		{"CONNECTOR_SINK_RETRY_MAX", "or CONNECTOR_SINK_RETRY_MIN if longer",
			func(c *Config) { c.Sinks.RetryMax = max(c.Sinks.RetryMax, c.Sinks.RetryMin) }},
		{"AGENTPHONE_TRANSCRIPT_RETRY_MAX", "or AGENTPHONE_TRANSCRIPT_RETRY_MIN if longer",
			func(c *Config) { c.Transcript.RetryMax = max(c.Transcript.RetryMax, c.Transcript.RetryMin) }},
		{"CONNECTOR_DLQ_SUBJECT_PREFIX", "that is, CONNECTOR_JOURNAL_SUBJECT_PREFIX followed by -dlq",
			func(c *Config) { c.Sinks.DeadLetter.SubjectPrefix = c.Journal.SubjectPrefix + "-dlq" }},
		{"CONNECTOR_NATS_MAX_PAYLOAD", "or what CONNECTOR_MAX_BODY_BYTES needs if more (twice it and 64 KiB; at most 64 MiB)",
			func(c *Config) {
				c.NATS.MaxPayload = int32(min(max(int64(c.NATS.MaxPayload), minPayload(c.Webhook.MaxBodyBytes)), maxEmbeddedPayload))
			}},
	}
}

// maxEmbeddedPayload is the largest max_payload the embedded server takes.
const maxEmbeddedPayload = 64 << 20

// applyDerived sets each derived default the user left unset.
func applyDerived(c *Config, lookup envconfig.Lookuper) {
	for _, d := range derivedDefaults() {
		if _, set := lookup.Lookup(d.name); !set {
			d.derive(c)
		}
	}
}

// derivedNote returns how the default of name follows other settings, ""
// when it does not.
func derivedNote(name string) string {
	for _, d := range derivedDefaults() {
		if d.name == name {
			return d.note
		}
	}
	return ""
}
