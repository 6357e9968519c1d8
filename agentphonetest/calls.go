package agentphonetest

import (
	"errors"
	"fmt"
	"time"
)

// ErrCallExists reports a StartCall with the ID of a call the server has.
var ErrCallExists = errors.New("agentphonetest: call already exists")

// callState is a call as the server holds it, guarded by Server.mu.
type callState struct {
	call    Call
	changed chan struct{} // closed and replaced when a turn is added or the call ends
	conns   int           // transcript stream connections so far
}

func (s *Server) addCallLocked(c Call) *callState {
	cs := &callState{call: c, changed: make(chan struct{})}
	s.calls = append(s.calls, cs)
	s.callsByID[c.ID] = cs
	return cs
}

func (cs *callState) notify() {
	close(cs.changed)
	cs.changed = make(chan struct{})
}

// CallEnd is how a live call ends; the zero value is a completed call without
// analysis.
type CallEnd struct {
	Status              string // completed (the default) or failed
	DisconnectionReason string
	Summary             string
	UserSentiment       string
	CallSuccessful      *bool
}

// StartCall places a live call and returns it. From the template c it keeps
// ID (a new call_… when empty), AgentID (the first agent when empty),
// Direction (inbound when empty), From, To, Contact, RecordingAvailable, any
// Turns already spoken, and StartedAt (now when zero); the agent's number
// fills NumberID, PhoneNumber and the empty side of From/To. The call is
// in progress until EndCall: listed with status in-progress, streamed live.
func (s *Server) StartCall(c Call) (Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return Call{}, ErrClosed
	case len(s.agents) == 0:
		return Call{}, errors.New("agentphonetest: the account has no agents")
	}
	if c.ID == "" {
		c.ID = s.newIDLocked("call_", 12)
	}
	if _, ok := s.callsByID[c.ID]; ok {
		return Call{}, fmt.Errorf("%w: %s", ErrCallExists, c.ID)
	}
	if c.AgentID == "" {
		c.AgentID = s.agents[0].ID
	}
	if c.Direction == "" {
		c.Direction = "inbound"
	}
	s.fillNumberLocked(&c)
	if c.StartedAt.IsZero() {
		c.StartedAt = s.clock.Now()
	}
	c.Status, c.EndedAt, c.DisconnectionReason, c.Summary, c.UserSentiment, c.CallSuccessful =
		StatusInProgress, time.Time{}, "", "", "", nil
	c = c.clone()
	s.addCallLocked(c)
	return c.clone(), nil
}

func (s *Server) fillNumberLocked(c *Call) {
	for _, n := range s.numbers {
		if n.AgentID != c.AgentID {
			continue
		}
		c.NumberID, c.PhoneNumber = n.ID, n.PhoneNumber
		switch {
		case c.Direction == "outbound" && c.From == "":
			c.From = n.PhoneNumber
		case c.Direction != "outbound" && c.To == "":
			c.To = n.PhoneNumber
		}
	}
	if c.From == "" {
		c.From = "+14155550100"
	}
	if c.To == "" {
		c.To = "+14155550101"
	}
}

// AddTurn appends t to a live call and wakes its transcript streams. t.At
// zero is now; t.Role must be "agent" or "user". It returns the turn as
// stored, ErrNoCall for an unknown call and ErrCallEnded for a finished one.
func (s *Server) AddTurn(callID string, t Turn) (Turn, error) {
	if t.Role != "agent" && t.Role != "user" {
		return Turn{}, fmt.Errorf("%w: %q", ErrInvalidTurn, t.Role)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := s.liveCallLocked(callID)
	if err != nil {
		return Turn{}, err
	}
	if t.At.IsZero() {
		t.At = s.clock.Now()
	}
	cs.call.Turns = append(cs.call.Turns, t)
	cs.notify()
	return t, nil
}

// EndCall ends a live call at the clock's now and returns it: its streams
// send ended and close, and it is listed with its final status. It does not
// deliver agent.call_ended; pass CallEndedEvent(call) to Deliver for that.
func (s *Server) EndCall(callID string, end CallEnd) (Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := s.liveCallLocked(callID)
	if err != nil {
		return Call{}, err
	}
	if end.Status == "" {
		end.Status = StatusCompleted
	}
	c := &cs.call
	c.Status, c.EndedAt, c.DisconnectionReason, c.Summary, c.UserSentiment, c.CallSuccessful =
		end.Status, s.clock.Now(), end.DisconnectionReason, end.Summary, end.UserSentiment, end.CallSuccessful
	if !c.EndedAt.After(c.StartedAt) {
		c.EndedAt = c.StartedAt
	}
	cs.notify()
	return c.clone(), nil
}

func (s *Server) liveCallLocked(id string) (*callState, error) {
	switch cs, ok := s.callsByID[id]; {
	case s.closed:
		return nil, ErrClosed
	case !ok:
		return nil, fmt.Errorf("%w: %s", ErrNoCall, id)
	case cs.call.Status != StatusInProgress:
		return nil, fmt.Errorf("%w: %s is %s", ErrCallEnded, id, cs.call.Status)
	default:
		return cs, nil
	}
}

// Call returns a copy of the call with the given ID.
func (s *Server) Call(id string) (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.callsByID[id]
	if !ok {
		return Call{}, false
	}
	return cs.call.clone(), true
}

// Calls returns a copy of every call, placed calls by start time first, then
// live calls in the order they were started.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, cs := range s.calls {
		out[i] = cs.call.clone()
	}
	return out
}
