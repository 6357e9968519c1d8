package transcript

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/dedupe"
	"github.com/agentphone-connector/connector/lease"
	"github.com/agentphone-connector/connector/recent"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
)

// SourceName is the envelope source of the events this source journals.
const SourceName = "agentphone/transcript"

// Errors of Follow.
var (
	ErrClosed     = errors.New("transcript: source not running")
	ErrAtCapacity = errors.New("transcript: following as many calls as allowed")
	ErrClaimed    = errClaimed // another replica follows the call
	ErrDone       = errDone    // the call was followed to its end
)

// Call is a call to follow, with what routes its turns.
type Call struct {
	ID        string
	AgentID   string // "" when not known
	Direction string // "" when not known
}

// Deps are the parts the source works with.
type Deps struct {
	API           *agentphoneapi.Client
	Journal       connector.Appender // the dedupe guard in front of the journal
	JetStream     jetstream.JetStream
	Stream        string // the journal stream, read for voice messages
	SubjectPrefix string // the journal's subject prefix
	Replicas      int    // replicas of the claims bucket
	// Marks, when set, records connector.TranscriptKey of each call followed
	// to its end, so backfill does not read that transcript again.
	Marks *dedupe.Marks
}

// Settings is what the wiring passes to the source.
type Settings struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time  // stamps ReceivedAt; nil for time.Now
	Sleep      connector.Sleeper // waits before reconnecting; nil waits on the real clock
	ReplicaID  string            // names this replica in claims (see lease.Name); "" is the host name
}

// Source follows the transcript stream of every live call it discovers and
// journals each turn as a transcript.turn event. Create it with New, Start
// it, and Close it; every goroutine it started has ended when Close returns.
// It is safe for concurrent use.
type Source struct {
	cfg   Config
	d     Deps
	log   *slog.Logger
	m     *metrics
	now   func() time.Time
	sleep connector.Sleeper
	owner string

	mu        sync.Mutex
	state     int             // stateNew, stateRunning, stateClosed
	following map[string]bool // a slot per call: false while claiming, true once followed
	done      *recent.Set[string, struct{}]
	ctx       context.Context // ends with Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	claims    *claims
	consume   jetstream.ConsumeContext
}

const (
	stateNew = iota
	stateRunning
	stateClosed
)

// New returns a source that is not running yet.
func New(cfg Config, d Deps, set Settings) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(set.Registerer)
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	s := &Source{cfg: cfg, d: d, log: set.Logger, m: m, now: set.Now, sleep: set.Sleep, owner: set.ReplicaID,
		following: map[string]bool{}, done: recent.New[string, struct{}](10000)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = connector.Sleep
	}
	s.owner = lease.Name(s.owner)
	return s, nil
}

// Start opens the claims bucket and the durable consumer of voice messages
// and starts the poll. ctx bounds start-up only; Close stops the source.
func (s *Source) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return ErrClosed
	}
	cl, err := openClaims(ctx, s.d.JetStream, s.d.Stream, s.cfg.ClaimTTL, s.d.Replicas, s.owner)
	if err != nil {
		return err
	}
	s.claims = cl
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.consumeVoice(ctx); err != nil {
		s.cancel()
		return err
	}
	s.state = stateRunning
	if s.cfg.PollInterval > 0 {
		s.wg.Go(func() { s.poll(s.ctx) })
	}
	s.log.Info("transcript source started", "replica", s.owner, "max_streams", s.cfg.MaxStreams,
		"poll_interval", s.cfg.PollInterval.String())
	return nil
}

// Close stops discovering calls and following them: each followed call's
// claim is released for another replica. It returns once every goroutine
// has ended, or with ctx's error. Close is idempotent; a source that never
// started just closes.
func (s *Source) Close(ctx context.Context) error {
	s.mu.Lock()
	running := s.state == stateRunning
	s.state = stateClosed
	s.mu.Unlock()
	if !running {
		return nil
	}
	s.consume.Stop()
	s.cancel()
	done := make(chan struct{})
	go func() {
		<-s.consume.Closed()
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.log.Info("transcript source stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("transcript close: %w", ctx.Err())
	}
}

// Following returns the IDs of the calls this replica follows now, sorted.
func (s *Source) Following() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.following))
	for id, followed := range s.following {
		if followed {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Follow claims the call for this replica and follows its transcript
// stream until it ends. It returns nil when the call is followed (now or
// already), ErrClaimed when another replica follows it, ErrDone when it was
// followed to its end, ErrAtCapacity, ErrClosed, or the claims bucket's
// error.
func (s *Source) Follow(ctx context.Context, c Call) error {
	if err := s.start(ctx, c); !errors.Is(err, errFollowing) {
		return err
	}
	return nil
}

// start is Follow, answering errFollowing for a call followed already.
func (s *Source) start(ctx context.Context, c Call) error {
	if err := s.reserveSlot(c.ID); err != nil {
		return err
	}
	cl, err := s.claims.take(ctx, c.ID)
	if err != nil {
		s.dropSlot(c.ID, errors.Is(err, errDone))
		return err
	}
	if !s.startFollower(c, cl) {
		s.dropSlot(c.ID, false)
		_ = s.claims.release(ctx, cl)
		return ErrClosed
	}
	return nil
}

// startFollower starts following c unless the source closed meanwhile.
func (s *Source) startFollower(c Call, cl *claim) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateRunning {
		return false
	}
	s.following[c.ID] = true
	s.wg.Go(func() { s.follow(s.ctx, c, cl) })
	return true
}

// errFollowing reports a call this replica follows already; Follow
// answers nil for it.
var errFollowing = errors.New("transcript: following the call already")

func (s *Source) reserveSlot(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.state != stateRunning:
		return ErrClosed
	case s.following[id]:
		return errFollowing
	case hasKey(s.following, id):
		return ErrClaimed // being claimed by this replica right now
	case s.done.Has(id):
		return ErrDone
	case len(s.following) >= s.cfg.MaxStreams:
		return ErrAtCapacity
	}
	s.following[id] = false
	return nil
}

func hasKey(m map[string]bool, k string) bool { _, ok := m[k]; return ok }

func (s *Source) dropSlot(id string, done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.following, id)
	if done {
		s.done.Add(id, struct{}{})
	}
}
