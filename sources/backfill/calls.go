package backfill

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
	"github.com/agentphone-connector/connector/transform"
)

// callsPage takes the next page of GET /v1/calls and each call on it that
// started within the run's range, saving the checkpoint after every call.
// The list is newest first, but no order is relied on: the phase ends with
// the list, or with a page holding no call of the range.
func (b *Backfill) callsPage(ctx context.Context, cp *checkpoint) error {
	p, err := b.d.API.ListCalls(ctx, agentphoneapi.ListCalls{Limit: b.cfg.PageSize, Offset: cp.Offset})
	if err != nil {
		return err
	}
	inRange := 0
	for _, c := range p.Calls {
		if before(c.StartedAt, cp.Report.Since) {
			cp.Offset++
			continue
		}
		inRange++
		saved := cp.Report
		if err := b.call(ctx, c, &cp.Report); err != nil {
			cp.Report = saved // the call is done again on resume, and counted then
			return err
		}
		cp.Offset++
		if err := b.save(ctx, cp); err != nil {
			return err
		}
	}
	if !p.HasMore || inRange == 0 {
		return b.next(ctx, cp, phaseDeliveries)
	}
	return b.save(ctx, cp)
}

// before reports whether t is known and earlier than since; a record
// without a readable time is taken.
func before(t, since time.Time) bool { return !t.IsZero() && t.Before(since) }

// next moves cp to the start of phase.
func (b *Backfill) next(ctx context.Context, cp *checkpoint, phase string) error {
	cp.Phase, cp.Offset = phase, 0
	return b.save(ctx, cp)
}

// call journals what is missing of one call: each turn of its transcript,
// keyed as the transcript stream keys them, and the call's record, keyed
// by the call as its agent.call_ended webhook is. Live calls (the transcript
// source follows them) and calls that ended within the settle time (their
// webhook may still come, with the analysis) are left for later.
func (b *Backfill) call(ctx context.Context, c agentphoneapi.CallSummary, r *Report) error {
	now := b.now()
	if c.InProgress() || !c.EndedAt.IsZero() && now.Sub(c.EndedAt) < b.cfg.Settle {
		r.Calls.Skipped++
		r.Settling++
		return nil
	}
	r.Calls.Found++
	if b.complete(ctx, c.ID) {
		r.Calls.Present++
		r.Whole++
		return nil
	}
	tr, err := b.d.API.Transcript(ctx, c.ID)
	if connector.IsPermanent(err) {
		r.Calls.Skipped++ // gone, or refused: nothing a retry fixes
		b.log.Debug("backfill: no transcript for call", "call_id", c.ID, "error", err)
		return nil
	}
	if err != nil {
		return err
	}
	meta := transform.TurnMeta{CallID: c.ID, AgentID: c.AgentID, Direction: c.Direction, Source: SourceName, ReceivedAt: now}
	var turns []connector.Turn
	pos := 0
	for _, entry := range tr.Entries {
		if transform.Interim(entry) {
			continue
		}
		for _, e := range transform.Turns(meta, pos, entry) {
			pos++
			r.Turns.Found++
			res, err := b.d.Journal.Append(ctx, e)
			if err != nil {
				return fmt.Errorf("backfill turn %s: %w", e.ID, err)
			}
			tally(&r.Turns, res)
			turns = append(turns, turnOf(e))
		}
	}
	e := callEvent(c, tr, turns, now)
	res, err := b.d.Journal.Append(ctx, e)
	if err != nil {
		return fmt.Errorf("backfill call %s: %w", c.ID, err)
	}
	tally(&r.Calls, res)
	if b.d.Marks != nil {
		_ = b.d.Marks.Mark(ctx, connector.TranscriptKey(c.ID)) // not marked: read again next time
	}
	return nil
}

// complete reports whether the call's record and every turn of it are
// journaled already, as recorded by an earlier run or the transcript
// source; when unsure, it answers false and the transcript is read.
func (b *Backfill) complete(ctx context.Context, callID string) bool {
	if b.d.Index == nil || b.d.Marks == nil {
		return false
	}
	call := &connector.Event{Type: connector.TypePrefix + connector.EventCallEnded, Subject: callID}
	if ok, err := b.d.Index.Holds(ctx, call); !ok || err != nil {
		return false
	}
	ok, err := b.d.Marks.Marked(ctx, connector.TranscriptKey(callID))
	return ok && err == nil
}

func turnOf(e *connector.Event) connector.Turn {
	var t connector.TranscriptTurn
	_ = json.Unmarshal(e.Data, &t) // an invalid entry has no role or content
	return connector.Turn{Role: t.Role, Content: t.Content}
}

// callEvent is the agent.call_ended record of a finished call as the REST
// API reports it: the call and its transcript, without the analysis
// (summary, sentiment, disconnection reason) only the webhook carries. Its
// ID is the call's natural key, so it and the call's webhook are one call
// downstream. Raw holds both REST answers: {"call": …, "transcript": …}.
func callEvent(c agentphoneapi.CallSummary, tr agentphoneapi.Transcript, turns []connector.Turn, now time.Time) *connector.Event {
	data := connector.CallEnded{
		CallID: c.ID, NumberID: c.PhoneNumberID, From: c.FromNumber, To: c.ToNumber, Direction: c.Direction,
		Status: c.Status, StartedAt: timePtr(c.StartedAt), EndedAt: timePtr(c.EndedAt),
		TurnCount: len(turns), Transcript: turns,
	}
	if data.Transcript == nil {
		data.Transcript = []connector.Turn{}
	}
	if c.DurationSeconds != nil {
		data.DurationSeconds = *c.DurationSeconds
	}
	e := &connector.Event{
		ID: connector.CallEventID(c.ID), Source: SourceName, Type: connector.TypePrefix + connector.EventCallEnded,
		Subject: c.ID, Time: firstTime(c.EndedAt, c.StartedAt, now), AgentID: c.AgentID, CallID: c.ID,
		Channel: "voice", Direction: c.Direction, Status: connector.StatusOK, ReceivedAt: now,
	}
	e.DataSchema = e.Kind().Schema()
	e.Data, _ = connector.AppendJSON(nil, &data) // strings, numbers and times
	e.Raw, _ = json.Marshal(struct {
		Call       json.RawMessage `json:"call"`
		Transcript json.RawMessage `json:"transcript"`
	}{c.Raw, tr.Raw})
	return e
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
