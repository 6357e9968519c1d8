package agentphonetest

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apiError is an error answer of the REST API (SPEC.md 5).
type apiError struct {
	status  int
	code    string // VALIDATION_ERROR, RATE_LIMIT_EXCEEDED, …
	typ     string // validation_error, rate_limit_error, …
	message string
	details []fieldError
}

// fieldError is one problem of a request's parameters.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Type    string `json:"type"`
}

func errUnauthorized() apiError {
	return apiError{http.StatusUnauthorized, "UNAUTHORIZED", "authentication_error", "Invalid or missing API key", nil}
}

func errNotFound(what string) apiError {
	code := "NOT_FOUND"
	if what == "Call" {
		code = "CALL_NOT_FOUND"
	}
	return apiError{http.StatusNotFound, code, "not_found", what + " not found", nil}
}

func errValidation(details []fieldError) apiError {
	return apiError{http.StatusUnprocessableEntity, "VALIDATION_ERROR", "validation_error", "Invalid request parameters", details}
}

func errRateLimited(limit int, window time.Duration) apiError {
	return apiError{http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "rate_limit_error",
		fmt.Sprintf("Rate limit exceeded. Limit: %d requests per %ds", limit, int(window.Seconds())), nil}
}

// writeError answers e in the documented envelope, or in FastAPI's
// {"detail": …} with Quirks.FastAPIErrors.
func (s *Server) writeError(w http.ResponseWriter, e apiError) {
	if !s.opts.Quirks.FastAPIErrors {
		type body struct {
			Message string       `json:"message"`
			Code    string       `json:"code"`
			Type    string       `json:"type"`
			Details []fieldError `json:"details"`
		}
		writeJSON(w, e.status, struct {
			Error body `json:"error"`
		}{body{e.message, e.code, e.typ, nonNil(e.details)}})
		return
	}
	type detail struct {
		Loc  []string `json:"loc"`
		Msg  string   `json:"msg"`
		Type string   `json:"type"`
	}
	if len(e.details) == 0 {
		writeJSON(w, e.status, struct {
			Detail string `json:"detail"`
		}{e.message})
		return
	}
	var ds []detail
	for _, d := range e.details {
		ds = append(ds, detail{Loc: []string{"query", d.Field}, Msg: d.Message, Type: d.Type})
	}
	writeJSON(w, e.status, struct {
		Detail []detail `json:"detail"`
	}{ds})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"detail":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// api wraps an endpoint with the checks every request passes first: the
// Bearer API key (401), then the endpoint's rate limit (429 with Retry-After).
func (s *Server) api(endpoint string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			s.writeError(w, errUnauthorized())
			return
		}
		if ok, wait := s.limiter.allow(endpoint); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			s.writeError(w, errRateLimited(s.limiter.limit, s.limiter.window))
			return
		}
		h(w, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.opts.APIKey)) == 1
}

// limiter counts requests per endpoint in fixed windows, as per-minute API
// limits do.
type limiter struct {
	limit  int // 0: no limit
	window time.Duration
	now    func() time.Time
	mu     sync.Mutex
	counts map[string]*fixedWindow
}

type fixedWindow struct {
	start time.Time
	n     int
}

func newLimiter(limit int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: window, now: now, counts: map[string]*fixedWindow{}}
}

// allow counts one request to endpoint; when over the limit it returns false
// and how long until the window ends.
func (l *limiter) allow(endpoint string) (bool, time.Duration) {
	if l.limit <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	fw := l.counts[endpoint]
	if fw == nil || !now.Before(fw.start.Add(l.window)) {
		fw = &fixedWindow{start: now}
		l.counts[endpoint] = fw
	}
	if fw.n >= l.limit {
		return false, fw.start.Add(l.window).Sub(now)
	}
	fw.n++
	return true, 0
}
