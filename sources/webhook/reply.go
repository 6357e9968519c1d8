package webhook

import (
	"errors"
	"net/http"
	"strconv"
)

// Every answer other than success is a status code, a short JSON body
// {"error": "<reason>", "message": "<what to do>"} and a metric label. 4xx is
// only for what no retry can fix; AgentPhone never retries a 4xx.

// reply is an answer of the handler, written by the server's adapter.
type reply struct {
	code       int
	body       string // JSON
	retryAfter string // seconds, for 503
	allowPost  bool   // Allow: POST, for 405
	close      bool   // Connection: close: the rest of the body is not read
}

func (h *Handler) reject(route string, code int, reason, msg string) reply {
	h.metrics.rejected(route, code, reason)
	return reply{code: code, body: `{"error":"` + reason + `","message":` + strconv.Quote(msg) + `}`}
}

// unavailable answers 503 with Retry-After: the provider retries and the
// delivery is not lost.
func (h *Handler) unavailable(route, reason, msg string) reply {
	rep := h.reject(route, http.StatusServiceUnavailable, reason, msg)
	rep.retryAfter = strconv.Itoa(int(h.cfg.RetryAfter.Seconds()))
	return rep
}

// tooLarge answers a body over the limit.
func (h *Handler) tooLarge(route string) reply {
	rep := h.reject(route, http.StatusRequestEntityTooLarge, "body_too_large",
		"the body is over "+strconv.FormatInt(h.cfg.MaxBodyBytes, 10)+" bytes")
	rep.close = true
	return rep
}

// unreadable answers a request the server could not read: the client went
// away or was too slow, and will retry. 400 is for the log and metrics only:
// nobody reads the answer.
func (h *Handler) unreadable(route string, err error) reply {
	h.log.Debug("webhook request unreadable", "route", route, "error", err)
	rep := h.reject(route, http.StatusBadRequest, "body_read", "the request could not be read")
	rep.close = true
	return rep
}

var verifyReasons = []struct {
	err    error
	reason string
}{
	{ErrNoSignature, "missing_signature"},
	{ErrNoTimestamp, "missing_timestamp"},
	{ErrBadTimestamp, "bad_timestamp"},
	{ErrMalformedSignature, "malformed_signature"},
	{ErrBadSignature, "bad_signature"},
	{ErrStaleTimestamp, "stale_timestamp"},
	{ErrFutureTimestamp, "future_timestamp"},
}

func (h *Handler) unverified(route string, req request, err error) reply {
	reason := "unverified"
	for _, v := range verifyReasons {
		if errors.Is(err, v.err) {
			reason = v.reason
		}
	}
	if errors.Is(err, ErrStaleTimestamp) || errors.Is(err, ErrFutureTimestamp) {
		// Authentic but outside the window: worth a look (clock skew, or a
		// provider retry that was not re-signed).
		h.log.Warn("authentic webhook outside the time window", "route", route,
			"webhook_id", req.header("X-Webhook-ID"), "timestamp", req.header("X-Webhook-Timestamp"))
	}
	return h.reject(route, http.StatusUnauthorized, reason, err.Error())
}
