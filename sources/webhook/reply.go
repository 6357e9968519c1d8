package webhook

import (
	"errors"
	"net/http"
	"strconv"
)

// Every answer other than success is a status code, a short JSON body
// {"error": "<reason>", "message": "<what to do>"} and a metric label. 4xx is
// only for what no retry can fix; AgentPhone never retries a 4xx.

func (h *Handler) reject(w http.ResponseWriter, route string, code int, reason, msg string) {
	h.metrics.rejected(route, code, reason)
	writeJSON(w, code, `{"error":"`+reason+`","message":`+strconv.Quote(msg)+`}`)
}

// unavailable answers 503 with Retry-After: the provider retries and the
// delivery is not lost.
func (h *Handler) unavailable(w http.ResponseWriter, route, reason, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(h.cfg.RetryAfter.Seconds())))
	h.reject(w, route, http.StatusServiceUnavailable, reason, msg)
}

func (h *Handler) readFailed(w http.ResponseWriter, route string, err error) {
	if errors.Is(err, errTooLarge) {
		w.Header().Set("Connection", "close")
		h.reject(w, route, http.StatusRequestEntityTooLarge, "body_too_large",
			"the body is over "+strconv.FormatInt(h.cfg.MaxBodyBytes, 10)+" bytes")
		return
	}
	// The client went away or was too slow; it will retry. 400 is for the log
	// and metrics only: nobody reads the answer.
	h.log.Debug("webhook body read failed", "route", route, "error", err)
	h.reject(w, route, http.StatusBadRequest, "body_read", "the body could not be read")
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

func (h *Handler) unverified(w http.ResponseWriter, route string, r *http.Request, err error) {
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
			"webhook_id", r.Header.Get("X-Webhook-ID"), "timestamp", r.Header.Get("X-Webhook-Timestamp"))
	}
	h.reject(w, route, http.StatusUnauthorized, reason, err.Error())
}

var jsonContentType = []string{"application/json"}

func writeJSON(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h["Content-Type"] = jsonContentType // canonical keys, set directly: this runs for every request
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
