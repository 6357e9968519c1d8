package agentphonetest

import "fmt"

// REST answers as AgentPhone writes them (SPEC.md 4.2–4.4, 1.7): every key
// present, null for absent values, camelCase names.

type callSummary struct {
	ID                    string  `json:"id"`
	AgentID               *string `json:"agentId"`
	PhoneNumberID         *string `json:"phoneNumberId"`
	PhoneNumber           *string `json:"phoneNumber"`
	FromNumber            string  `json:"fromNumber"`
	ToNumber              string  `json:"toNumber"`
	Direction             string  `json:"direction"`
	Status                string  `json:"status"`
	StartedAt             string  `json:"startedAt"`
	EndedAt               *string `json:"endedAt"`
	DurationSeconds       *int    `json:"durationSeconds"`
	LastTranscriptSnippet *string `json:"lastTranscriptSnippet"`
	RecordingURL          *string `json:"recordingUrl"`
	RecordingAvailable    bool    `json:"recordingAvailable"`
}

type callList struct {
	Data    []callSummary `json:"data"`
	HasMore bool          `json:"hasMore"`
	Total   int           `json:"total"`
}

type callDetail struct {
	callSummary
	Transcripts []transcriptRow `json:"transcripts"`
}

// transcriptRow is the older row shape: a caller utterance and the agent's
// answer to it.
type transcriptRow struct {
	ID         string   `json:"id"`
	Transcript string   `json:"transcript"`
	Confidence *float64 `json:"confidence"`
	Response   *string  `json:"response"`
	CreatedAt  string   `json:"createdAt"`
}

type transcriptTurn struct {
	Role      string `json:"role"`
	Content   string `json:"content"`
	CreatedAt string `json:"createdAt"`
}

type callTranscript struct {
	CallID          string           `json:"callId"`
	Status          string           `json:"status"`
	StartedAt       string           `json:"startedAt"`
	EndedAt         *string          `json:"endedAt"`
	DurationSeconds *int             `json:"durationSeconds"`
	Transcript      []transcriptTurn `json:"transcript"`
}

type transcriptRows struct {
	Data []transcriptRow `json:"data"`
}

func summaryOf(c Call) callSummary {
	s := callSummary{
		ID: c.ID, AgentID: nullable(c.AgentID), PhoneNumberID: nullable(c.NumberID), PhoneNumber: nullable(c.PhoneNumber),
		FromNumber: c.From, ToNumber: c.To, Direction: c.Direction, Status: c.Status, StartedAt: isoTime(c.StartedAt),
		RecordingAvailable: c.RecordingAvailable,
	}
	if !c.EndedAt.IsZero() {
		s.EndedAt, s.DurationSeconds = nullable(isoTime(c.EndedAt)), ptr(c.DurationSeconds())
	}
	if n := len(c.Turns); n > 0 {
		s.LastTranscriptSnippet = nullable(snippet(c.Turns[n-1].Content, 100))
	}
	// recordingUrl stays null: the recording add-on is not simulated, which
	// AgentPhone reports as available with a null URL (SPEC.md 4.5).
	return s
}

func snippet(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// rowsOf pairs each caller turn with the agent turn that follows it; agent
// turns with no caller turn before them (the greeting) get an empty
// transcript.
func rowsOf(c Call) []transcriptRow {
	rows := []transcriptRow{}
	open := false
	for i, t := range c.Turns {
		if t.Role == "agent" && open {
			rows[len(rows)-1].Response = ptr(t.Content)
			open = false
			continue
		}
		row := transcriptRow{ID: fmt.Sprintf("tr_%s_%d", c.ID, i), CreatedAt: isoTime(t.At)}
		if t.Role == "user" {
			row.Transcript, row.Confidence, open = t.Content, ptr(t.Confidence), true
		} else {
			row.Response = ptr(t.Content)
		}
		rows = append(rows, row)
	}
	return rows
}

func transcriptOf(c Call) callTranscript {
	t := callTranscript{CallID: c.ID, Status: c.Status, StartedAt: isoTime(c.StartedAt), Transcript: []transcriptTurn{}}
	if !c.EndedAt.IsZero() {
		t.EndedAt, t.DurationSeconds = nullable(isoTime(c.EndedAt)), ptr(c.DurationSeconds())
	}
	for _, turn := range c.Turns {
		t.Transcript = append(t.Transcript, turnOf(turn))
	}
	return t
}

func turnOf(t Turn) transcriptTurn {
	return transcriptTurn{Role: t.Role, Content: t.Content, CreatedAt: isoTime(t.At)}
}
