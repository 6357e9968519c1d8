package journal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	fastjson "github.com/segmentio/encoding/json"

	connector "github.com/agentphone-connector/connector"
)

// Append journals e with Nats-Msg-Id = e.ID and waits for the stream's ack,
// at most the configured append timeout. Errors wrap connector.ErrUnavailable
// when the journal could not take the event now.
//
// An answer that says the outcome is not known yet is asked again until it
// is, within the timeout: on a cluster, another replica's publish of the
// same ID (or of the same call's agent.call_ended) still in the stream
// leader's hands, or a stream between leaders. The retry carries the same
// Nats-Msg-Id, so it can never store the event twice.
func (j *Journal) Append(ctx context.Context, e *connector.Event) (connector.Appended, error) {
	buf := j.getBuf(e.MarshalSize())
	defer j.bufs.Put(buf)
	body, err := e.AppendMarshal((*buf)[:0])
	if err != nil {
		return connector.Appended{}, fmt.Errorf("journal append: %w", err)
	}
	*buf = body // keep what grew, for the next event
	msg := &nats.Msg{Subject: e.SubjectIn(j.cfg.SubjectPrefix), Data: body, Header: nats.Header{}}
	msg.Header["Content-Type"] = contentType
	if e.Kind().OnePerSubject && e.Subject != "" {
		// Stored only if the stream holds no event of this kind about this
		// subject yet: the natural key, checked in the step that stores. The
		// filter is a literal prefix, so the check does not grow with the
		// journal.
		msg.Header[jetstream.ExpectedLastSubjSeqHeader] = zero
		msg.Header[expectedLastSubjSeqSubj] = []string{e.SameSubjectFilter(j.cfg.SubjectPrefix)}
	}
	msg.Header[jetstream.MsgIDHeader] = []string{e.ID}
	ctx, cancel := context.WithTimeout(ctx, j.cfg.AppendTimeout)
	defer cancel()
	start := time.Now()
	ack, err := j.publishSettled(ctx, msg)
	j.metrics.observe(time.Since(start), err)
	if seq, ok := takenBy(err); ok {
		return connector.Appended{Seq: seq, Duplicate: true}, nil
	}
	if err != nil {
		if isStoreFailure(err) {
			j.full.Store(true)
			err = fmt.Errorf("%w: %w", ErrFull, err)
		}
		return connector.Appended{}, fmt.Errorf("journal append %s: %w: %w", e.ID, connector.ErrUnavailable, err)
	}
	j.full.Store(false)
	return connector.Appended{Seq: ack.Seq, Duplicate: ack.Duplicate}, nil
}

// unsettledBackoff paces the re-asks of an answer that is not final yet: the
// publish it waits on settles within a round of the stream's consensus.
var unsettledBackoff = connector.Backoff{Min: time.Millisecond, Max: 100 * time.Millisecond}

// publishSettled publishes msg until the stream gives a final answer or ctx
// ends, and returns the last answer.
func (j *Journal) publishSettled(ctx context.Context, msg *nats.Msg) (pubAck, error) {
	for attempt := 0; ; attempt++ {
		ack, err := j.publish(ctx, msg)
		if !unsettled(err) {
			return ack, err
		}
		j.metrics.unsettled.Inc()
		if serr := connector.Sleep(ctx, unsettledBackoff.Delay(attempt)); serr != nil {
			return ack, err
		}
	}
}

// pubAck is the stream's answer to a publish.
type pubAck struct {
	Stream    string              `json:"stream"`
	Seq       uint64              `json:"seq"`
	Duplicate bool                `json:"duplicate"`
	Error     *jetstream.APIError `json:"error"`
}

// errBadAck reports an answer that is not a JetStream publish ack.
var errBadAck = errors.New("journal: invalid publish ack")

// publish sends msg to the stream and waits for its ack: what
// jetstream.PublishMsg does, with the ack decoded by the same fast decoder
// as the events, on the path every webhook takes. A JetStream error is
// returned as a *jetstream.APIError.
func (j *Journal) publish(ctx context.Context, msg *nats.Msg) (pubAck, error) {
	resp, err := j.nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		return pubAck{}, err
	}
	var ack pubAck
	if err := fastjson.Unmarshal(resp.Data, &ack); err != nil {
		return pubAck{}, fmt.Errorf("%w: %v", errBadAck, err)
	}
	if ack.Error != nil {
		return pubAck{}, fmt.Errorf("nats: %w", ack.Error)
	}
	if ack.Stream == "" {
		return pubAck{}, errBadAck
	}
	return ack, nil
}

// Header values set on every append, shared rather than allocated each time.
var (
	contentType = []string{connector.ContentType}
	zero        = []string{"0"}
)

// expectedLastSubjSeqSubj narrows the expected-last-subject-sequence check to
// a filter (nats-server 2.12 and later).
const expectedLastSubjSeqSubj = "Nats-Expected-Last-Subject-Sequence-Subject"

// JetStream error codes the journal tells apart.
const (
	// jsWrongLastSeq: a failed expected-sequence check; the description
	// ends with the sequence found.
	jsWrongLastSeq = 10071
	// jsStoreFailed: a message the stream refused to store, over its byte
	// or message limits (discard new), or too large.
	jsStoreFailed = 10077
	// jsMsgIDInProcess: on a cluster, a publish with the same Nats-Msg-Id
	// is proposed but not applied yet; it may still fail.
	jsMsgIDInProcess = 10158
	// jsLastSubjSeqNotReady: on a cluster, the stream cannot check an
	// expected subject sequence yet.
	jsLastSubjSeqNotReady = 10163
	// jsSubjectInProcess: on a cluster, a publish expecting the same
	// subject sequence is proposed but not applied yet (no sequence given).
	jsSubjectInProcess = 10164
)

// unsettled reports an answer that says nothing final about the event: the
// same publish, asked again shortly, gets a final one.
func unsettled(err error) bool {
	if errors.Is(err, nats.ErrNoResponders) {
		return true // no stream leader at this moment
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case jsMsgIDInProcess, jsLastSubjSeqNotReady, jsSubjectInProcess:
		return true
	}
	return false
}

// takenBy reports whether err says the subject of a one-per-subject event is
// taken, and by which sequence.
func takenBy(err error) (uint64, bool) {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != jsWrongLastSeq {
		return 0, false
	}
	_, n, _ := strings.Cut(apiErr.Description, ": ")
	seq, _ := strconv.ParseUint(strings.TrimSpace(n), 10, 64)
	return seq, true
}

func isStoreFailure(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jsStoreFailed
}
