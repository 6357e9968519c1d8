package agentphonetest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
)

// GET /v1/calls/{id}/transcript/stream (SPEC.md 4.1):
//
//	connected ─▶ turn × every stored turn ─▶ ┬─ call finished: ended, close
//	                                         └─ live: turn as each is added,
//	                                            ": heartbeat" every Heartbeat,
//	                                            ended and close when it ends
//
// Options.Stream can drop the connection or stall it after some events, end
// lines with CRLF, and spread data over several data: lines.
func (s *Server) streamTranscript(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	cs, ok := s.callsByID[r.PathValue("id")]
	conn := 0
	if ok {
		conn = cs.conns
		cs.conns++
	}
	s.mu.Unlock()
	if !ok {
		s.writeError(w, errNotFound("Call"))
		return
	}
	f := s.opts.Stream
	st := &stream{w: w, rc: http.NewResponseController(w), nl: "\n", multi: f.MultiLineData}
	if f.CRLF {
		st.nl = "\r\n"
	}
	if f.Connections == 0 || conn < f.Connections {
		st.dropAfter, st.stallAfter = f.DropAfter, f.StallAfter
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	// The stream ends with the request or with the Server, also when the
	// handler is mounted on a server of the caller's.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	s.follow(ctx, cs, st)
}

type connectedData struct {
	CallID string `json:"callId"`
	Status string `json:"status"`
}

type endedData struct {
	Status string `json:"status"`
}

// follow writes the call's stream until the call ends, the client leaves,
// the server closes, or a fault ends it.
func (s *Server) follow(ctx context.Context, cs *callState, st *stream) {
	s.mu.Lock()
	hello := connectedData{CallID: cs.call.ID, Status: cs.call.Status}
	s.mu.Unlock()
	if !st.event(ctx, "connected", hello) {
		return
	}
	hb := s.clock.NewTimer(s.opts.Heartbeat)
	defer func() { hb.Stop() }()
	sent := 0
	for {
		s.mu.Lock()
		turns, status, changed := slices.Clone(cs.call.Turns[sent:]), cs.call.Status, cs.changed
		s.mu.Unlock()
		for _, t := range turns {
			if !st.event(ctx, "turn", turnOf(t)) {
				return
			}
			sent++
		}
		if status != StatusInProgress {
			st.event(ctx, "ended", endedData{Status: status})
			return
		}
		select {
		case <-changed:
		case <-hb.C():
			if !st.write([]byte(": heartbeat" + st.nl + st.nl)) {
				return
			}
			hb = s.clock.NewTimer(s.opts.Heartbeat)
		case <-ctx.Done():
			return
		}
	}
}

// stream writes server-sent events to one connection.
type stream struct {
	w          http.ResponseWriter
	rc         *http.ResponseController
	nl         string // line ending
	multi      bool   // indent the JSON over several data: lines
	dropAfter  int
	stallAfter int
	events     int // events written so far
}

// event writes one event and applies the faults; it reports whether the
// stream may go on.
func (st *stream) event(ctx context.Context, name string, data any) bool {
	if !st.write(st.frame(name, data)) {
		return false
	}
	st.events++
	switch {
	case st.dropAfter > 0 && st.events >= st.dropAfter:
		st.drop()
		return false
	case st.stallAfter > 0 && st.events >= st.stallAfter:
		<-ctx.Done()
		return false
	}
	return true
}

func (st *stream) frame(name string, data any) []byte {
	var js []byte
	if st.multi {
		js, _ = json.MarshalIndent(data, "", "  ")
	} else {
		js, _ = json.Marshal(data)
	}
	var b bytes.Buffer
	b.WriteString("event: " + name + st.nl)
	for line := range bytes.SplitSeq(js, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(line)
		b.WriteString(st.nl)
	}
	b.WriteString(st.nl)
	return b.Bytes()
}

// write sends p and flushes it; it reports whether the client is still there.
func (st *stream) write(p []byte) bool {
	if _, err := st.w.Write(p); err != nil {
		return false
	}
	return st.rc.Flush() == nil
}

// drop closes the connection under the response, so the client sees the
// body end without its terminating chunk. Where the connection cannot be
// taken over (HTTP/2, a recorder), the response just ends.
func (st *stream) drop() {
	if conn, _, err := st.rc.Hijack(); err == nil {
		_ = conn.Close()
	}
}
