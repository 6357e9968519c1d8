package sinks

import (
	"fmt"

	"github.com/nats-io/nats.go"

	connector "github.com/agentphone-connector/connector"
)

// outcome is where one event of a batch stands.
type outcome uint8

const (
	pending  outcome = iota // to be written
	written                 // durable in the target
	skipped                 // found in the target from an earlier write; not written again
	rejected                // refused for good; to be dead-lettered
	dead                    // in the dead-letter stream
)

// item is one journal message of a batch.
type item struct {
	msg    *nats.Msg
	seq    uint64           // journal stream sequence
	ev     *connector.Event // nil when the message is not an event; refers to msg's data
	state  outcome
	reason error // why it was rejected
}

// batch is one read of the journal on its way down a sink's chain. Only
// the chain's goroutine touches it.
type batch struct {
	items []item
}

// newBatch decodes the journal messages with dec; one that is not an
// event is rejected at once, to be dead-lettered.
func newBatch(msgs []*nats.Msg, seqs []uint64, dec *connector.Decoder) *batch {
	b := &batch{items: make([]item, len(msgs))}
	for i, m := range msgs {
		it := &b.items[i]
		it.msg, it.seq = m, seqs[i]
		var err error
		if it.ev, err = dec.DecodeNoCopy(m.Data); err != nil {
			it.ev, it.state = nil, rejected
			it.reason = connector.Permanent(fmt.Errorf("decode journal message: %w", err))
		}
	}
	return b
}

// events returns the events of the batch's items still to write, in order.
func (b *batch) events() []*connector.Event {
	out := make([]*connector.Event, 0, len(b.items))
	for i := range b.items {
		if b.items[i].state == pending {
			out = append(out, b.items[i].ev)
		}
	}
	return out
}

// count returns how many items are in state s.
func (b *batch) count(s outcome) int {
	n := 0
	for i := range b.items {
		if b.items[i].state == s {
			n++
		}
	}
	return n
}

// settled reports whether every item is written, skipped or dead-lettered.
func (b *batch) settled() bool {
	return b.count(pending) == 0 && b.count(rejected) == 0
}

// last is the journal sequence of the batch's last message.
func (b *batch) last() uint64 { return b.items[len(b.items)-1].seq }
