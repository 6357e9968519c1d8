package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
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
// the event. It is an http.Handler, safe for concurrent use.
type Handler struct {
	cfg     Config
	routes  map[string]*route
	journal connector.Appender
	now     func() time.Time
	log     *slog.Logger
	metrics *Metrics
	bufs    sync.Pool
	warn    rate.Sometimes // journal failures are logged at most this often
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
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.metrics == nil {
		h.metrics, _ = NewMetrics(nil)
	}
	for name, secrets := range cfg.RouteSecrets {
		h.routes[name] = newRoute(name, secrets, cfg.Tolerance)
	}
	return h
}

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

// ServeHTTP handles one delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := h.route(r.URL.Path)
	switch {
	case !ok:
		h.reject(w, "-", http.StatusNotFound, "unknown_route", "no webhook route at this path")
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, rt.name, http.StatusMethodNotAllowed, "method", "webhooks are delivered with POST")
		return
	case rt.verifier == nil:
		h.unavailable(w, rt.name, "no_secret", "no webhook secret is configured for this route")
		return
	}
	buf := h.getBuf()
	defer h.putBuf(buf)
	body, err := h.read(w, r, buf)
	if err != nil {
		h.readFailed(w, rt.name, err)
		return
	}
	received := h.now()
	if err := rt.verifier.Verify(body, r.Header.Get("X-Webhook-Signature"), r.Header.Get("X-Webhook-Timestamp"), received); err != nil {
		h.unverified(w, rt.name, r, err)
		return
	}
	e := transform.Normalize(transform.Meta{ID: eventID(r.Header.Get("X-Webhook-ID"), body), Source: rt.source, ReceivedAt: received}, body)
	h.journalEvent(r.Context(), w, rt.name, e)
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

// errTooLarge reports a body over the limit.
var errTooLarge = errors.New("webhook: body too large")

// read reads the whole body into buf, refusing more than the limit as soon as
// it is exceeded.
func (h *Handler) read(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) ([]byte, error) {
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return nil, errTooLarge
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	return buf.Bytes(), err
}

func (h *Handler) journalEvent(ctx context.Context, w http.ResponseWriter, route string, e *connector.Event) {
	res, err := h.journal.Append(ctx, e)
	if err != nil {
		h.warn.Do(func() { h.log.Warn("journal cannot take events; answering 503", "event_id", e.ID, "error", err) })
		h.unavailable(w, route, "journal_unavailable", "the journal cannot take the event now; retry later")
		return
	}
	status := "accepted"
	if res.Duplicate {
		status = "duplicate"
	}
	h.metrics.requests.WithLabelValues(route, "200").Inc()
	writeJSON(w, http.StatusOK, `{"id":`+strconv.Quote(e.ID)+`,"status":"`+status+`"}`)
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

func (h *Handler) getBuf() *bytes.Buffer {
	if b, ok := h.bufs.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

// putBuf returns a buffer to the pool unless a large body made it large.
func (h *Handler) putBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		h.bufs.Put(b)
	}
}
