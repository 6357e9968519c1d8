package journal

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
)

// The stream's metadata records its subject layout, so that a journal
// written before the call or conversation moved ahead of the channel and
// agent is known for what it holds.
const (
	metaLayout = "agentphone-connector.subject-layout"
	// metaLegacyUntil is when the events stored under the previous layout
	// (prefix.<kind>.<channel>.<agent>.<subject>) have all aged out.
	metaLegacyUntil = "agentphone-connector.legacy-subjects-until"
	layout          = "2"
)

// openAttempt bounds one try at the stream: a JetStream without a leader
// answers no request, and the next try may reach one that has.
const openAttempt = 5 * time.Second

var openBackoff = connector.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}

// ensureStream creates or updates the stream, asking again while JetStream
// cannot answer yet, until ctx ends.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg Config, log *slog.Logger) (jetstream.Stream, error) {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, openAttempt)
		s, err := createOrUpdate(actx, js, cfg)
		cancel()
		if err == nil || !notReady(err) {
			return s, err
		}
		if attempt == 0 {
			log.Warn("JetStream cannot take the journal stream yet; asking again until it can", "error", err)
		}
		if serr := connector.Sleep(ctx, openBackoff.Delay(attempt)); serr != nil {
			return nil, errors.Join(serr, err)
		}
	}
}

func createOrUpdate(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.Stream, error) {
	sc := StreamConfig(cfg)
	s, err := js.Stream(ctx, cfg.Stream)
	switch {
	case err == nil:
		old := s.CachedInfo()
		sc.Metadata = carryLayout(old.Config.Metadata, old.State.Msgs, time.Now(), cfg.MaxAge)
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return nil, err
	}
	return js.CreateOrUpdateStream(ctx, sc)
}

// carryLayout returns the metadata of an existing stream updated to the
// current layout: a stream that holds events but records no layout was
// written under the previous one, until those events age out.
func carryLayout(old map[string]string, msgs uint64, now time.Time, maxAge time.Duration) map[string]string {
	md := maps.Clone(old)
	if md == nil {
		md = map[string]string{}
	}
	if md[metaLayout] != layout && msgs > 0 {
		md[metaLegacyUntil] = now.Add(maxAge).UTC().Format(time.RFC3339)
	}
	md[metaLayout] = layout
	return md
}

// legacyUntil reads metaLegacyUntil; zero when it is absent or past.
func legacyUntil(md map[string]string) time.Time {
	t, err := time.Parse(time.RFC3339, md[metaLegacyUntil])
	if err != nil || !t.After(time.Now()) {
		return time.Time{}
	}
	return t
}

// notReady reports an answer that a JetStream still forming gives: no
// answer at all, no responders, a 5xx, or too few peers for the replicas.
// Any other refusal is the configuration's, and final.
func notReady(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code >= 500 || apiErr.ErrorCode == jsNoSuitablePeers
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected)
}

// jsNoSuitablePeers: a replicated stream's peers have not all joined yet.
const jsNoSuitablePeers = 10005
