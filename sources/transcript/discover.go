package transcript

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
)

// ConsumerName is the durable consumer of voice messages on the journal,
// shared by every replica: each voice message reaches one of them.
const ConsumerName = "transcript-discovery"

// consumeVoice starts the durable consumer of voice agent.message events:
// each carries a live call's ID, whichever replica took the webhook in. A
// new consumer starts with new messages; an existing one resumes where it
// stood, so calls that started while the connector was down are found too.
func (s *Source) consumeVoice(ctx context.Context) error {
	cons, err := s.d.JetStream.CreateOrUpdateConsumer(ctx, s.d.Stream, jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		Description:   "voice messages, for the transcript source to find live calls (agentphone-connector)",
		FilterSubject: s.d.SubjectPrefix + ".message.*.voice.*",
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    20,
		MaxAckPending: 256,
	})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(s.onVoice, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		s.log.Debug("voice message consumer", "error", err)
	}))
	if err != nil {
		return err
	}
	s.consume = cc
	return nil
}

// onVoice follows the call of one voice message. It is acknowledged once
// the call is followed, followed elsewhere or done; asked again later when
// this replica is full or the claims cannot be reached.
func (s *Source) onVoice(m jetstream.Msg) {
	e, err := connector.Unmarshal(m.Data())
	if err != nil || e.CallID == "" {
		_ = m.Term() // nothing to follow, now or later
		return
	}
	err = s.offer(s.ctx, Call{ID: e.CallID, AgentID: e.AgentID, Direction: e.Direction}, "journal")
	switch {
	case err == nil, errors.Is(err, ErrClaimed), errors.Is(err, ErrDone):
		_ = m.Ack()
	case errors.Is(err, ErrClosed):
		_ = m.Nak() // another replica, or this one after restart, takes it
	default:
		_ = m.NakWithDelay(5 * time.Second)
	}
}

// poll lists the live calls every PollInterval, starting at once: calls of
// hosted-mode agents send no voice messages, and calls that went on while
// the connector was down are picked up on start.
func (s *Source) poll(ctx context.Context) {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	failing := false
	for {
		err := s.pollOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			s.log.Warn("cannot list live calls; retrying at the next poll", "error", err)
		case err == nil && failing:
			s.log.Info("listing live calls again")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Source) pollOnce(ctx context.Context) error {
	for offset := 0; ; {
		p, err := s.d.API.ListCalls(ctx, agentphoneapi.ListCalls{Status: "in-progress", Limit: 100, Offset: offset})
		if err != nil {
			return err
		}
		for _, c := range p.Calls {
			_ = s.offer(ctx, Call{ID: c.ID, AgentID: c.AgentID, Direction: c.Direction}, "poll")
		}
		if offset += len(p.Calls); !p.HasMore || len(p.Calls) == 0 {
			return nil
		}
	}
}

// offer follows c and counts the outcome by how c was found.
func (s *Source) offer(ctx context.Context, c Call, via string) error {
	err := s.start(ctx, c)
	outcome := "followed"
	switch {
	case err == nil:
	case errors.Is(err, errFollowing):
		outcome, err = "following", nil
	case errors.Is(err, ErrClaimed):
		outcome = "claimed_elsewhere"
	case errors.Is(err, ErrDone):
		outcome = "done"
	case errors.Is(err, ErrAtCapacity):
		outcome = "at_capacity"
	case errors.Is(err, ErrClosed):
		outcome = "closed"
	default:
		outcome = "failed"
	}
	s.m.discovered.WithLabelValues(via, outcome).Inc()
	return err
}
