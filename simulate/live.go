package simulate

import (
	"context"
	"fmt"

	"github.com/agentphone-connector/connector/agentphonetest"
)

// playLive places a scripted call and speaks its turns one every
// TurnInterval, so transcript streams follow it live. A webhook-mode agent's
// caller turns are delivered as voice agent.message; the end is delivered as
// agent.call_ended.
func (s *Simulation) playLive(ctx context.Context, script agentphonetest.Call) error {
	tmpl := script
	tmpl.Turns, tmpl.StartedAt = nil, s.o.Clock.Now()
	call, err := s.srv.StartCall(tmpl)
	if err != nil {
		return fmt.Errorf("simulate live call: %w", err)
	}
	voice := s.webhookMode[call.AgentID]
	for _, t := range script.Turns {
		if err := waitUntil(ctx, s.o.Clock, s.o.Clock.Now().Add(s.o.TurnInterval)); err != nil {
			return err
		}
		if _, err := s.srv.AddTurn(call.ID, agentphonetest.Turn{Role: t.Role, Content: t.Content, Confidence: t.Confidence}); err != nil {
			return fmt.Errorf("simulate live call: %w", err)
		}
		if voice && t.Role == "user" {
			now, _ := s.srv.Call(call.ID)
			if _, err := s.srv.Deliver(agentphonetest.VoiceTurnEvent(now, len(now.Turns)-1, 10), agentphonetest.Misbehavior{}); err != nil {
				return fmt.Errorf("simulate deliver: %w", err)
			}
		}
	}
	ended, err := s.srv.EndCall(call.ID, agentphonetest.CallEnd{Status: script.Status, DisconnectionReason: script.DisconnectionReason,
		Summary: script.Summary, UserSentiment: script.UserSentiment, CallSuccessful: script.CallSuccessful})
	if err != nil {
		return fmt.Errorf("simulate live call: %w", err)
	}
	if _, err := s.srv.Deliver(agentphonetest.CallEndedEvent(ended), agentphonetest.Misbehavior{}); err != nil {
		return fmt.Errorf("simulate deliver: %w", err)
	}
	return nil
}
