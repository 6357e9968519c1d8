package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/transform"
)

// PathPrefix is where AgentPhone delivers: PathPrefix for the project route,
// PathPrefix + "/<route>" for a named one.
const PathPrefix = "/webhooks/agentphone"

// Handler receives AgentPhone webhooks: it verifies each body before reading
// anything from it, normalizes it, and answers 2xx only once the journal holds
// the event. It serves both net/http (ServeHTTP) and fasthttp
// (ServeFastHTTP), and is safe for concurrent use.
type Handler struct {
	cfg     Config
	routes  map[string]*route
	journal connector.Appender
	now     func() time.Time
	log     *slog.Logger
	metrics *Metrics
	gate    *gate          // what rejected requests may cost
	bufs    sync.Pool      // *[]byte: request bodies, reused once a request is answered
	ready   error          // what Ready reports: fixed by the configuration
	warn    rate.Sometimes // journal failures are logged at most this often
	stale   rate.Sometimes // and authentic deliveries outside the time window
}

type route struct {
	name     string
	source   string
	verifier *Verifier // nil: the route has no secret and answers 503
}

// Settings is what the wiring passes to the handler.
type Settings struct {
	Logger  *slog.Logger
	Metrics *Metrics         // nil: not exported anywhere
	Now     func() time.Time // nil for time.Now
}

// NewHandler returns a handler that journals into j, usually a dedupe.Guard.
func NewHandler(cfg Config, j connector.Appender, set Settings) *Handler {
	h := &Handler{
		cfg: cfg, journal: j, now: set.Now, log: set.Logger, metrics: set.Metrics,
		routes: map[string]*route{ProjectRoute: newRoute(ProjectRoute, cfg.Secrets, cfg.Tolerance)},
		warn:   rate.Sometimes{Interval: 10 * time.Second},
		stale:  rate.Sometimes{Interval: 10 * time.Second},
	}
	if h.now == nil {
		h.now = time.Now
	}
	proxies, _ := ParseProxies(cfg.TrustedProxies) // Config.Validate refuses what does not parse
	h.gate = newGate(cfg, proxies, h.log, h.now)
	if h.metrics == nil {
		h.metrics, _ = NewMetrics(nil)
	}
	for name, secrets := range cfg.RouteSecrets {
		h.routes[name] = newRoute(name, secrets, cfg.Tolerance)
	}
	h.ready = ErrNoSecret
	for name, rt := range h.routes {
		if rt.verifier != nil || cfg.HeldRoutes[name] {
			h.ready = nil
		}
	}
	return h
}

// ErrNoSecret reports that no route has a webhook secret: every delivery is
// answered 503 until one is set.
var ErrNoSecret = errors.New("webhook: no route has a secret: set AGENTPHONE_WEBHOOK_SECRET (or a route's secret variable)")

// Ready reports whether the handler takes deliveries: nil when a route has a
// secret, or when a route's secret is emptied on purpose for a rotation
// (Config.HeldRoutes: its 503s are retried, and a rollout must still go
// through); ErrNoSecret otherwise.
func (h *Handler) Ready(context.Context) error { return h.ready }

func newRoute(name string, secrets []Secret, tolerance time.Duration) *route {
	r := &route{name: name, source: "agentphone/webhook/" + name}
	var usable []Secret
	for _, s := range secrets {
		if s != "" {
			usable = append(usable, s)
		}
	}
	if len(usable) > 0 {
		r.verifier = NewVerifier(usable, tolerance)
	}
	return r
}

// request is one delivery as the handler sees it, whichever HTTP server read
// it.
type request struct {
	method string
	path   string
	src    source
	// framing is set when the request carries both Transfer-Encoding and
	// Content-Length: where its body ends is ambiguous (RFC 9112 section
	// 6.3), and a proxy in front may have read it otherwise.
	framing bool
}

// source is what the handler asks the server's own request for.
type source interface {
	header(name string) string
	forwardedFor() string  // every X-Forwarded-For field, joined with ","
	peer() netip.Addr      // the address the connection comes from
	done() <-chan struct{} // closed when the server shuts down (or the client goes)
}

// handle answers one delivery whichever server read it, and counts the
// answer: read appends the body to a pooled buffer and returns it (failing
// with errTooLarge past the limit). A request that is not journaled goes
// through the gate, which may hold it and answer 429.
func (h *Handler) handle(req request, read func(dst []byte) ([]byte, error)) reply {
	return h.settle(req, h.answer(req, read))
}

// settle passes a rejection through the gate and counts the answer.
func (h *Handler) settle(req request, rep reply) reply {
	if rep.reason != "" {
		rep = h.gate.rejected(req, rep)
	}
	h.metrics.answered(rep)
	return rep
}

// answer is handle's answer before the gate: read is called only once the
// route, method and secret are known to be right.
func (h *Handler) answer(req request, read func(dst []byte) ([]byte, error)) reply {
	rt, rep, ok := h.admit(req)
	if !ok {
		return rep
	}
	buf := h.getBuf()
	body, err := read(*buf)
	defer h.putBuf(buf, body)
	switch {
	case errors.Is(err, errTooLarge):
		return h.tooLarge(rt.name)
	case err != nil:
		return unreadable(rt.name)
	}
	return h.deliver(req, rt, body)
}

// admit checks what can be checked before the body is read: the route, the
// method, and that the route has a secret. ok is false when rep is the answer.
func (h *Handler) admit(req request) (rt *route, rep reply, ok bool) {
	rt, found := h.route(req.path)
	switch {
	case req.framing:
		rep = reject(h.routeName(req.path), http.StatusBadRequest, "length_conflict", "a request may not carry both Transfer-Encoding and Content-Length")
		rep.close = true
		return nil, rep, false
	case !found:
		return nil, reject("-", http.StatusNotFound, "unknown_route", "no webhook route at this path"), false
	case req.method != http.MethodPost:
		rep = reject(rt.name, http.StatusMethodNotAllowed, "method", "webhooks are delivered with POST")
		rep.allowPost = true
		return nil, rep, false
	case rt.verifier == nil:
		return nil, h.unavailable(rt.name, "no_secret", "no webhook secret is configured for this route"), false
	}
	return rt, reply{}, true
}

// deliver verifies the body, normalizes it and journals it. The body is the
// request's own buffer: nothing keeps it after deliver returns.
func (h *Handler) deliver(req request, rt *route, body []byte) reply {
	received := h.now()
	if err := rt.verifier.Verify(body, req.src.header("X-Webhook-Signature"), req.src.header("X-Webhook-Timestamp"), received); err != nil {
		return h.unverified(rt.name, req, err)
	}
	e := transform.Normalize(transform.Meta{ID: eventID(req.src.header("X-Webhook-ID"), body), Source: rt.source, ReceivedAt: received}, body)
	// A body received whole is journaled even if the client has gone: its
	// retry is then a duplicate. The append timeout bounds the wait.
	res, err := h.journal.Append(context.Background(), e)
	if err != nil {
		h.warn.Do(func() { h.log.Warn("journal cannot take events; answering 503", "event_id", e.ID, "error", err) })
		return h.unavailable(rt.name, "journal_unavailable", "the journal cannot take the event now; retry later")
	}
	status := "accepted"
	if res.Duplicate {
		status = "duplicate"
	}
	return reply{code: http.StatusOK, route: rt.name, body: `{"id":` + strconv.Quote(e.ID) + `,"status":"` + status + `"}`}
}

func (h *Handler) route(path string) (*route, bool) {
	if path == PathPrefix || path == PathPrefix+"/" {
		return h.routes[ProjectRoute], true
	}
	name, ok := strings.CutPrefix(path, PathPrefix+"/")
	if !ok || name == ProjectRoute {
		return nil, false
	}
	rt, ok := h.routes[name]
	return rt, ok
}

// routeName is the metric label of path: its route, or "-".
func (h *Handler) routeName(path string) string {
	if rt, ok := h.route(path); ok {
		return rt.name
	}
	return "-"
}

// eventID is X-Webhook-ID when it is usable as a message ID (printable
// ASCII, at most 200 bytes), else a hash that stays the same across retries:
// of the header when it is odd, of the body when it is missing.
func eventID(header string, body []byte) string {
	if header == "" {
		sum := sha256.Sum256(body)
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	if len(header) > 200 || strings.ContainsFunc(header, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		sum := sha256.Sum256([]byte(header))
		return "sha256-id:" + hex.EncodeToString(sum[:])
	}
	return header
}
