package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Every answer other than success is a status code, a short JSON body
// {"error": "<reason>", "message": "<what to do>"} and a metric label. 4xx is
// only for what no retry can fix; AgentPhone never retries a 4xx.

// reply is an answer of the handler, written by the server's adapter.
type reply struct {
	code       int
	body       string // JSON
	route      string // the metric label of the route, "-" for none
	reason     string // why the request was not journaled; "" for a 200
	retryAfter string // seconds, for 503 and 429
	allowPost  bool   // Allow: POST, for 405
	close      bool   // Connection: close: the rest of the body is not read
}

func reject(route string, code int, reason, msg string) reply {
	return reply{code: code, route: route, reason: reason, body: `{"error":"` + reason + `","message":` + strconv.Quote(msg) + `}`}
}

// unavailable answers 503 with Retry-After: the provider retries and the
// delivery is not lost.
func (h *Handler) unavailable(route, reason, msg string) reply {
	rep := reject(route, http.StatusServiceUnavailable, reason, msg)
	rep.retryAfter = seconds(h.cfg.RetryAfter)
	return rep
}

// tooLarge answers a body over the limit.
func (h *Handler) tooLarge(route string) reply {
	rep := reject(route, http.StatusRequestEntityTooLarge, "body_too_large",
		"the body is over "+strconv.FormatInt(h.cfg.MaxBodyBytes, 10)+" bytes")
	rep.close = true
	return rep
}

// unreadable answers a request the server could not read: the client went
// away or was too slow, and will retry. 400 is for the log and metrics only:
// nobody reads the answer.
func unreadable(route string) reply {
	rep := reject(route, http.StatusBadRequest, "body_read", "the request could not be read")
	rep.close = true
	return rep
}

// overBudget answers a rejected request of a client that has spent its
// budget of rejections; wait is until the budget has room again.
func overBudget(route string, wait time.Duration) reply {
	rep := reject(route, http.StatusTooManyRequests, "over_budget", "too many rejected requests from this client; retry later")
	rep.retryAfter = seconds(wait)
	return rep
}

// seconds is d as Retry-After writes it: whole seconds, at least one.
func seconds(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
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

// authentic reports whether a rejection with this reason came with a
// correct signature: such a request is never counted against its client.
func authentic(reason string) bool {
	return reason == "stale_timestamp" || reason == "future_timestamp"
}

func (h *Handler) unverified(route string, req request, err error) reply {
	reason := "unverified"
	for _, v := range verifyReasons {
		if errors.Is(err, v.err) {
			reason = v.reason
		}
	}
	if authentic(reason) {
		// Authentic but outside the window: worth a look (clock skew, or a
		// provider retry that was not re-signed). One example now and then;
		// the rejection summary has the count.
		h.stale.Do(func() {
			h.log.Warn("authentic webhook outside the time window", "route", route,
				"webhook_id", req.src.header("X-Webhook-ID"), "timestamp", req.src.header("X-Webhook-Timestamp"))
		})
	}
	return reject(route, http.StatusUnauthorized, reason, err.Error())
}
