package agentphoneapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// CallSummary is a call as GET /v1/calls lists it (SPEC.md 4.3). Times are
// zero when absent or unreadable; Raw is the item as sent.
type CallSummary struct {
	ID              string
	AgentID         string
	PhoneNumberID   string
	FromNumber      string
	ToNumber        string
	Direction       string
	Status          string // in-progress, completed or failed (an "_" is read as "-", Q18)
	StartedAt       time.Time
	EndedAt         time.Time
	DurationSeconds *float64
	Raw             json.RawMessage
}

// InProgress reports whether the call is live.
func (c CallSummary) InProgress() bool { return c.Status == "in-progress" }

// CallPage is one page of the calls list.
type CallPage struct {
	Calls   []CallSummary
	HasMore bool
	Total   int // -1 when the answer does not say
}

// ListCalls asks for calls to AgentPhone's list: newest first.
type ListCalls struct {
	Status string // "" for every status; in-progress, completed or failed
	Limit  int    // 1 to 100; 0 is the API's default (20)
	Offset int
}

// ListCalls returns one page of GET /v1/calls.
func (c *Client) ListCalls(ctx context.Context, q ListCalls) (CallPage, error) {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	body, err := c.get(ctx, "/v1/calls", v)
	if err != nil {
		return CallPage{}, fmt.Errorf("list calls: %w", err)
	}
	p, err := decodePage(body, q.Offset)
	if err != nil {
		return CallPage{}, fmt.Errorf("list calls: %w", err)
	}
	out := CallPage{HasMore: p.HasMore, Total: p.Total}
	for _, raw := range p.Items {
		s, err := decodeCall(raw)
		if err != nil {
			return CallPage{}, fmt.Errorf("list calls: %w", err)
		}
		out.Calls = append(out.Calls, s)
	}
	return out, nil
}

func decodeCall(raw json.RawMessage) (CallSummary, error) {
	var w struct {
		ID, AgentID, PhoneNumberID, FromNumber, ToNumber, Direction, Status, StartedAt, EndedAt *string
		DurationSeconds                                                                         *float64
	}
	if err := json.Unmarshal(raw, &w); err != nil || w.ID == nil || *w.ID == "" {
		return CallSummary{}, fmt.Errorf("%w: a call without an id: %.200s", ErrUnexpected, raw)
	}
	return CallSummary{
		ID: *w.ID, AgentID: str(w.AgentID), PhoneNumberID: str(w.PhoneNumberID), FromNumber: str(w.FromNumber),
		ToNumber: str(w.ToNumber), Direction: str(w.Direction), Status: strings.ReplaceAll(str(w.Status), "_", "-"),
		StartedAt: parseTime(str(w.StartedAt)), EndedAt: parseTime(str(w.EndedAt)), DurationSeconds: w.DurationSeconds,
		Raw: raw,
	}, nil
}

// Transcript is a call's transcript as GET /v1/calls/{id}/transcript
// returns it, in either shape (SPEC.md 4.2, Q9): Entries are the turns
// {role, content, createdAt} or the older rows {id, transcript, response,
// confidence, createdAt}, in order, each as sent.
type Transcript struct {
	CallID  string
	Status  string
	Entries []json.RawMessage
	Raw     json.RawMessage // the whole answer
}

// Transcript returns the transcript of the call.
func (c *Client) Transcript(ctx context.Context, callID string) (Transcript, error) {
	body, err := c.get(ctx, "/v1/calls/"+url.PathEscape(callID)+"/transcript", nil)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcript of %s: %w", callID, err)
	}
	var w struct {
		CallID     string            `json:"callId"`
		Status     string            `json:"status"`
		Transcript []json.RawMessage `json:"transcript"`
		Data       []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return Transcript{}, fmt.Errorf("transcript of %s: %w: %v", callID, ErrUnexpected, err)
	}
	t := Transcript{CallID: w.CallID, Status: strings.ReplaceAll(w.Status, "_", "-"), Entries: w.Transcript, Raw: body}
	if t.Entries == nil {
		t.Entries = w.Data
	}
	if t.CallID == "" {
		t.CallID = callID
	}
	return t, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// parseTime reads an ISO-8601 time; the zero time when absent or unreadable.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
