package bigquerysink

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sinks"
)

func TestWriteLandsEveryEventOnce(t *testing.T) {
	for _, mode := range []string{StreamCommitted, StreamDefault} {
		t.Run(mode, func(t *testing.T) {
			srv, addr := fakeBigQuery(t)
			s := newTestSink(t, addr, mode)
			events := simulate(1, 30, 60, 10)
			writeAll(t, s, events, 25)
			assertOnce(t, srv, events)
		})
	}
}

func TestWriteRowContent(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	s := newTestSink(t, addr, StreamCommitted)
	events := simulate(2, 1, 0, 0)
	writeAll(t, s, events, 10)
	var c connector.CallEnded
	if err := json.Unmarshal(events[0].Data, &c); err != nil {
		t.Fatal(err)
	}
	rows := srv.Rows(testProject, testDataset, TableCalls)
	if len(rows) != 1 {
		t.Fatalf("%d calls rows, want 1", len(rows))
	}
	r := rows[0]
	for col, want := range map[string]any{
		"event_id": events[0].ID, "event_type": events[0].Type, "event_time": events[0].Time.UnixMicro(),
		"agent_id": events[0].AgentID, "call_id": c.CallID, "direction": c.Direction, "status": c.Status,
		"started_at": c.StartedAt.UnixMicro(), "ended_at": c.EndedAt.UnixMicro(), "duration_seconds": c.DurationSeconds,
		"turn_count": int64(c.TurnCount), "from": c.From, "to": c.To,
	} {
		if r[col] != want {
			t.Errorf("calls.%s = %v (%T), want %v (%T)", col, r[col], r[col], want, want)
		}
	}
	if _, ok := r["transcript"]; ok {
		t.Error("calls has a transcript column; turns belong in call_turns")
	}
	turns := srv.Rows(testProject, testDataset, TableCallTurns)
	if len(turns) < c.TurnCount || turns[0]["content"] != c.Transcript[0].Content || turns[0]["position"] != int64(0) {
		t.Errorf("call_turns = %v, want the %d turns of the call", turns, c.TurnCount)
	}
	ev := srv.Rows(testProject, testDataset, TableEvents)[0]
	if string(ev["raw"].([]byte)) != string(events[0].Raw) || ev["norm_status"] != "ok" {
		t.Errorf("events row = %v, want the raw body and status ok", ev)
	}
}

// A lost acknowledgement: the server writes the rows and breaks the
// connection; managedwriter sends the same append again.
func TestLostAckCommittedWritesOnce(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	s := newTestSink(t, addr, StreamCommitted)
	events := simulate(3, 5, 5, 2)
	srv.DropAcks(3)
	writeAll(t, s, events, len(events))
	assertOnce(t, srv, events)
}

// The default stream has no offsets: a lost acknowledgement leaves a second
// copy, which the *_unique views remove (see the emulator test).
func TestLostAckDefaultStreamDuplicates(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	s := newTestSink(t, addr, StreamDefault)
	events := simulate(3, 5, 5, 2)
	srv.DropAcks(1)
	writeAll(t, s, events, len(events))
	ids := countBy(srv, TableEvents, "event_id")
	if len(ids) != len(events) {
		t.Fatalf("%d distinct events, want %d", len(ids), len(events))
	}
	rows, want := 0, 0
	for table, n := range expected(t, events) {
		rows += len(srv.Rows(testProject, testDataset, table))
		want += n
	}
	if rows == want {
		t.Fatalf("no duplicate after a lost ack on the default stream: the fault was not injected")
	}
	t.Logf("default stream, one lost ack: %d rows where %d are due", rows, want)
}

// When the retries inside one Write run out, the events come back
// retryable, and the machinery's retry writes each of them once.
func TestFailedAppendIsRetryableAndRetryWritesOnce(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	s := newTestSink(t, addr, StreamCommitted)
	events := simulate(4, 4, 4, 0)
	srv.FailAppends(codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable,
		codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable,
		codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable)
	err := s.Write(context.Background(), events)
	assertRetryable(t, err, len(events))
	srv.FailAppends() // none left to inject
	retry := failedOnly(events, err)
	if err := s.Write(context.Background(), retry); err != nil {
		t.Fatalf("retry: %v", err)
	}
	assertOnce(t, srv, events)
}

func TestOutageRestartIsRetryable(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	s := newTestSink(t, addr, StreamCommitted)
	events := simulate(5, 6, 6, 2)
	writeAll(t, s, events[:4], 4)
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	err := s.Write(ctx, events[4:])
	cancel()
	assertRetryable(t, err, len(events)-4)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	writeAll(t, s, failedOnly(events[4:], err), len(events))
	assertOnce(t, srv, events)
}

func TestRejectedRowIsPermanent(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	s := newTestSink(t, addr, StreamCommitted)
	events := simulate(6, 3, 3, 0)
	bad := *events[2]
	bad.ID, bad.Time = "bad-time", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // beyond BigQuery's TIMESTAMP
	batch := append([]*connector.Event{&bad}, events...)
	err := s.Write(context.Background(), batch)
	var we connector.WriteErrors
	if !errors.As(err, &we) || len(we) != len(batch) {
		t.Fatalf("Write = %v, want WriteErrors for %d events", err, len(batch))
	}
	if !connector.IsPermanent(we[0]) {
		t.Errorf("bad row: %v, want a permanent error", we[0])
	}
	for i, e := range we[1:] {
		if e != nil {
			t.Errorf("event %d: %v, want written", i+1, e)
		}
	}
	assertOnce(t, srv, events)
}

// A table whose schema lacks a column: the writer schema does not match,
// the rows wait (retryable); once the table has the column they go in.
func TestSchemaMismatchIsRetryable(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	tables, _ := Tables()
	var reactions Table
	for _, tb := range tables {
		if tb.Name == TableReactions {
			reactions = tb
		}
	}
	old := reactions
	old.Schema = old.Schema[:len(old.Schema)-1]
	addTable(t, srv, old)
	s := newTestSink(t, addr, StreamCommitted)
	events := simulate(7, 0, 0, 3)
	err := s.Write(context.Background(), events)
	var we connector.WriteErrors
	if !errors.As(err, &we) {
		t.Fatalf("Write = %v, want WriteErrors", err)
	}
	for i, e := range we {
		if e == nil || connector.IsPermanent(e) {
			t.Errorf("event %d: %v, want a retryable error", i, e)
		}
	}
	addTable(t, srv, reactions)
	if err := s.Write(context.Background(), events); err != nil {
		t.Fatalf("after the schema change: %v", err)
	}
	if n := len(srv.Rows(testProject, testDataset, TableReactions)); n != 3 {
		t.Errorf("%d reactions rows, want 3", n)
	}
	if n := len(srv.Rows(testProject, testDataset, TableEvents)); n != 3 {
		t.Errorf("%d events rows, want 3: the retry must skip tables that hold the event", n)
	}
}

// verifyNoLeaks checks, when the test returns, that every goroutine the
// sink started has ended. managedwriter leaves one of its own behind for
// each connection it opens: a timer that cancels the connection's old
// context 20 s later (connection.getStream); it holds nothing of ours.
func verifyNoLeaks(t *testing.T) func() {
	opts := []goleak.Option{goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("cloud.google.com/go/bigquery/storage/managedwriter.(*connection).getStream.func1")}
	return func() { goleak.VerifyNone(t, opts...) }
}

func TestCloseWithoutWrite(t *testing.T) {
	_, addr := fakeBigQuery(t)
	defer verifyNoLeaks(t)()
	s := newTestSink(t, addr, StreamCommitted)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestWriteThenClose(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	defer verifyNoLeaks(t)()
	s := newTestSink(t, addr, StreamCommitted)
	events := simulate(8, 2, 2, 1)
	writeAll(t, s, events, 10)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), events); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	assertOnce(t, srv, events)
	for _, name := range srv.Streams(testProject, testDataset, TableEvents) {
		if srv.Finalized(name) == nil {
			t.Errorf("%s finalized on close: the next holder could not resume it", name)
		}
	}
}

func assertRetryable(t *testing.T, err error, n int) {
	t.Helper()
	var we connector.WriteErrors
	if !errors.As(err, &we) || len(we) != n {
		t.Fatalf("Write = %v, want WriteErrors for %d events", err, n)
	}
	for i, e := range we {
		if e == nil || connector.IsPermanent(e) {
			t.Errorf("event %d: %v, want a retryable error", i, e)
		}
	}
}

// failedOnly returns the events of batch whose outcome in err is not nil:
// what the machinery retries.
func failedOnly(batch []*connector.Event, err error) []*connector.Event {
	var out []*connector.Event
	for i, e := range batch {
		if connector.ErrorAt(err, i) != nil {
			out = append(out, e)
		}
	}
	return out
}

// A false or zero behind a pointer is a value, not NULL (as in the JSON).
func TestPointerZeroIsNotNull(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	s := newTestSink(t, addr, StreamCommitted)
	f, zero := false, 0.0
	data, _ := json.Marshal(connector.CallEnded{CallID: "call_1", CallSuccessful: &f})
	turn, _ := json.Marshal(connector.TranscriptTurn{CallID: "call_1", Confidence: &zero})
	k, tk := connector.KindOf("ai.agentphone.agent.call_ended"), connector.KindOf("ai.agentphone.transcript.turn")
	events := []*connector.Event{
		{ID: "e1", Type: k.Type(), Time: time.Unix(1, 0), Status: connector.StatusOK, Data: data},
		{ID: "e2", Type: tk.Type(), Time: time.Unix(1, 0), Status: connector.StatusOK, Data: turn},
	}
	writeAll(t, s, events, 2)
	if got := srv.Rows(testProject, testDataset, TableCalls)[0]["call_successful"]; got != false {
		t.Errorf("call_successful = %v, want false", got)
	}
	if got := srv.Rows(testProject, testDataset, TableCallTurns)[0]["confidence"]; got != 0.0 {
		t.Errorf("confidence = %v, want 0", got)
	}
}

// An event written after a transient failure of an earlier event with the
// same key is reported failed (per-key order), and its retry writes no copy.
func TestPerKeyOrderHoldsBackLaterEvents(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	tables, _ := Tables()
	reactions := tables[slices.IndexFunc(tables, func(tb Table) bool { return tb.Name == TableReactions })]
	old := reactions
	old.Schema = old.Schema[:len(old.Schema)-1]
	addTable(t, srv, old) // reactions rows fail until the table has every column
	s := newTestSink(t, addr, StreamCommitted)
	r := *simulate(7, 0, 0, 1)[0]
	msgs := simulate(11, 0, 6, 0)
	same, other := *msgs[0], *msgs[1]
	r.ID = "reaction_1" // simulate numbers each run from 1
	r.Subject, same.Subject, other.Subject = "conv_a", "conv_a", "conv_b"
	batch := []*connector.Event{&r, &same, &other}
	err := s.Write(context.Background(), batch)
	we, _ := err.(connector.WriteErrors)
	if len(we) != 3 || we[0] == nil || connector.IsPermanent(we[0]) || !errors.Is(we[1], ErrHeldBack) || we[2] != nil {
		t.Fatalf("Write = %v; want [retryable, held back, nil]", err)
	}
	addTable(t, srv, reactions)
	if err := s.Write(context.Background(), failedOnly(batch, err)); err != nil {
		t.Fatal(err)
	}
	assertOnce(t, srv, []*connector.Event{&r, &same, &other})
}

// OUT_OF_RANGE: the sink's offset is beyond the end of its stream (here set
// by hand). It opens a new stream and writes there, once.
func TestOutOfRangeOpensANewStream(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	s := newTestSink(t, addr, StreamCommitted)
	events := simulate(12, 2, 2, 0)
	writeAll(t, s, events[:2], 2)
	s.apps[0].next += 7 // the events table
	writeAll(t, s, events[2:], 10)
	assertOnce(t, srv, events)
	if n := len(srv.Streams(testProject, testDataset, TableEvents)); n != 2 {
		t.Errorf("%d streams on events, want 2: the one that went out of range and a new one", n)
	}
}

// TestResumeAcrossHolders: a holder writes past its last checkpoint and
// dies; the next one resumes every table's stream at the checkpoint and
// writes the rest, and each table holds each row once (calls with their
// turns included: an event's rows are never split across appends).
func TestResumeAcrossHolders(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	events := simulate(11, 12, 12, 4)
	first := newTestSink(t, addr, StreamCommitted)
	if err := first.Resume(t.Context(), sinks.Resume{}); err != nil {
		t.Fatal(err)
	}
	writeAll(t, first, events[:10], 10)
	cp, err := first.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, first, events[10:17], 7) // written, never checkpointed: the holder dies
	next := newTestSink(t, addr, StreamCommitted)
	if err := next.Resume(t.Context(), sinks.Resume{State: cp}); err != nil {
		t.Fatal(err)
	}
	err = next.Write(t.Context(), events[10:20])
	skipped := 0
	for i := range 10 {
		switch e := connector.ErrorAt(err, i); {
		case errors.Is(e, connector.ErrAlreadyWritten):
			skipped++
		case e != nil:
			t.Fatalf("event %d: %v", i, e)
		}
	}
	writeAll(t, next, events[20:], 10)
	assertOnce(t, srv, events)
	if skipped != 7 {
		t.Errorf("%d events reported already written, want the 7 the first holder wrote", skipped)
	}
	if n := len(srv.Streams(testProject, testDataset, TableEvents)); n != 1 {
		t.Errorf("%d streams on the events table, want the one resumed", n)
	}
}

// TestResumeFirstTerm: the checkpoint saved when a sink starts, before its
// first write, names the streams it will write to, so a holder that dies
// before its first commit leaves nothing to write twice.
func TestResumeFirstTerm(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	events := simulate(12, 4, 4, 1)
	first := newTestSink(t, addr, StreamCommitted)
	if err := first.Resume(t.Context(), sinks.Resume{}); err != nil {
		t.Fatal(err)
	}
	cp, err := first.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, first, events[:5], 5) // and dies before committing
	next := newTestSink(t, addr, StreamCommitted)
	if err := next.Resume(t.Context(), sinks.Resume{State: cp}); err != nil {
		t.Fatal(err)
	}
	writeAll(t, next, events, 5)
	assertOnce(t, srv, events)
}
