package agentphoneapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinels an *Error matches with errors.Is, by its status.
var (
	ErrUnauthorized = errors.New("agentphoneapi: unauthorized")      // 401 or 403: the key is wrong or lacks access
	ErrNotFound     = errors.New("agentphoneapi: not found")         // 404
	ErrRateLimited  = errors.New("agentphoneapi: rate limited")      // 429; see Error.RetryAfter
	ErrServer       = errors.New("agentphoneapi: server error")      // 5xx
	ErrUnexpected   = errors.New("agentphoneapi: unexpected answer") // a 2xx body that is not what the endpoint returns
)

// Error is an answer of the API other than 2xx, read from any of the error
// shapes AgentPhone uses (SPEC.md 5).
type Error struct {
	Status     int
	Code       string        // e.g. CALL_NOT_FOUND, RATE_LIMIT_EXCEEDED; empty when the body has none
	Type       string        // e.g. not_found, rate_limit_error
	Message    string        // the provider's message, or the status text
	RetryAfter time.Duration // from Retry-After on 429 and 503; 0 when absent
}

func (e *Error) Error() string {
	s := "agentphone api: " + strconv.Itoa(e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	return s + ": " + e.Message
}

// Is matches the sentinel of e's status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrServer:
		return e.Status >= 500
	}
	return false
}

// Retryable reports whether the same request may succeed later: 408, 429
// and 5xx (SPEC.md 5).
func (e *Error) Retryable() bool {
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// parseError reads an error answer: {"error": {message, code, type}} or
// {"error": "…"}, FastAPI's {"detail": "…" | [{loc, msg, type}]}, or
// {"message": "…"}; anything else leaves the status text as the message.
func parseError(status int, header http.Header, body []byte) *Error {
	e := &Error{Status: status, Message: http.StatusText(status), RetryAfter: retryAfter(header.Get("Retry-After"))}
	var env struct {
		Error   json.RawMessage `json:"error"`
		Detail  json.RawMessage `json:"detail"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &env) != nil {
		return e
	}
	var obj struct{ Message, Code, Type string }
	var str string
	var details []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	switch {
	case json.Unmarshal(env.Error, &obj) == nil && obj.Message != "":
		e.Message, e.Code, e.Type = obj.Message, obj.Code, obj.Type
	case json.Unmarshal(env.Error, &str) == nil && str != "":
		e.Message = str
	case json.Unmarshal(env.Detail, &str) == nil && str != "":
		e.Message = str
	case json.Unmarshal(env.Detail, &details) == nil && len(details) > 0:
		var parts []string
		for _, d := range details {
			loc := make([]string, len(d.Loc))
			for i, l := range d.Loc {
				loc[i] = fmt.Sprint(l)
			}
			parts = append(parts, strings.Join(loc, ".")+": "+d.Msg)
		}
		e.Message = strings.Join(parts, "; ")
	case env.Message != "":
		e.Message = env.Message
	}
	return e
}

// retryAfter reads Retry-After: integer seconds (SPEC.md 5) or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
