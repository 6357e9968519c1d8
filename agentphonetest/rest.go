package agentphonetest

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// routes returns the handler of every endpoint the server serves.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/calls", s.api("calls.list", s.listCalls))
	mux.Handle("GET /v1/calls/{id}", s.api("calls.get", s.getCall))
	mux.Handle("GET /v1/calls/{id}/transcript", s.api("calls.transcript", s.getTranscript))
	mux.Handle("GET /v1/calls/{id}/transcript/stream", s.api("calls.stream", s.streamTranscript))
	mux.Handle("GET /v1/webhooks/deliveries", s.api("webhooks.deliveries", s.listDeliveries))
	mux.Handle("/", s.api("other", func(w http.ResponseWriter, r *http.Request) { s.writeError(w, errNotFound("Resource")) }))
	return mux
}

// GET /v1/calls: newest first; status, direction, type and search filters;
// limit (default 20, at most 100) and offset (SPEC.md 4.3).
func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) {
	q := params{v: r.URL.Query()}
	limit, offset := q.intIn("limit", 20, 1, 100), q.intIn("offset", 0, 0, math.MaxInt32)
	status := strings.ReplaceAll(q.oneOf("status", StatusCompleted, StatusInProgress, "in_progress", StatusFailed), "_", "-")
	direction, typ := q.oneOf("direction", "inbound", "outbound", "web"), q.oneOf("type", "pstn", "web")
	search := q.v.Get("search")
	if len(q.errs) > 0 {
		s.writeError(w, errValidation(q.errs))
		return
	}
	var match []Call
	for _, c := range s.Calls() {
		isWeb := c.Direction == "web"
		switch {
		case status != "" && c.Status != status, direction != "" && c.Direction != direction,
			typ == "web" && !isWeb, typ == "pstn" && isWeb,
			search != "" && !strings.Contains(c.From, search) && !strings.Contains(c.To, search):
			continue
		}
		match = append(match, c)
	}
	slices.Reverse(match) // newest first; live calls were started last
	slices.SortStableFunc(match, func(a, b Call) int { return b.StartedAt.Compare(a.StartedAt) })
	page := match[min(offset, len(match)):min(offset+limit, len(match))]
	out := callList{Data: []callSummary{}, HasMore: offset+len(page) < len(match), Total: len(match)}
	for _, c := range page {
		out.Data = append(out.Data, summaryOf(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /v1/calls/{id}: the call and its transcript rows (SPEC.md 4.4).
func (s *Server) getCall(w http.ResponseWriter, r *http.Request) {
	c, ok := s.Call(r.PathValue("id"))
	if !ok {
		s.writeError(w, errNotFound("Call"))
		return
	}
	writeJSON(w, http.StatusOK, callDetail{callSummary: summaryOf(c), Transcripts: rowsOf(c)})
}

// GET /v1/calls/{id}/transcript: every turn so far, in order (SPEC.md 4.2).
func (s *Server) getTranscript(w http.ResponseWriter, r *http.Request) {
	c, ok := s.Call(r.PathValue("id"))
	switch {
	case !ok:
		s.writeError(w, errNotFound("Call"))
	case s.opts.Quirks.TranscriptRows:
		writeJSON(w, http.StatusOK, transcriptRows{Data: rowsOf(c)})
	default:
		writeJSON(w, http.StatusOK, transcriptOf(c))
	}
}

// params reads query parameters, collecting every problem.
type params struct {
	v    url.Values
	errs []fieldError
}

// intIn returns the integer parameter name, def when it is absent.
func (p *params) intIn(name string, def, lo, hi int) int {
	s := p.v.Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		p.errs = append(p.errs, fieldError{name, "value is not a valid integer", "type_error.integer"})
	case n < lo || n > hi:
		p.errs = append(p.errs, fieldError{name, "value must be between " + strconv.Itoa(lo) + " and " + strconv.Itoa(hi), "value_error.number"})
	default:
		return n
	}
	return def
}

// oneOf returns the parameter name, "" when absent.
func (p *params) oneOf(name string, allowed ...string) string {
	s := p.v.Get(name)
	if s != "" && !slices.Contains(allowed, s) {
		p.errs = append(p.errs, fieldError{name, "value is not one of " + strings.Join(allowed, ", "), "value_error.enum"})
		return ""
	}
	return s
}
