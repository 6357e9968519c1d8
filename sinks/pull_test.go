package sinks

import (
	"testing"

	"github.com/nats-io/nats.go"
)

// TestPullStatus reads the statuses the journal ends or interrupts a pull
// with, as jetstream's Fetch reads them.
func TestPullStatus(t *testing.T) {
	cases := []struct {
		name, code, descr string
		done, failed      bool
	}{
		{"heartbeat", "100", "Idle Heartbeat", false, false},
		{"no messages", "404", "No Messages", true, false},
		{"expired", "408", "Request Timeout", true, false},
		{"byte limit", "409", "Message Size Exceeds MaxBytes", true, false},
		{"batch completed", "409", "Batch Completed", true, false},
		{"consumer deleted", "409", "Consumer Deleted", true, true},
		{"leader change", "409", "Leadership Change", true, true},
		{"too many pulls", "409", "Exceeded MaxWaiting", true, true},
		{"no responders", "503", "", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &nats.Msg{Header: nats.Header{"Status": {c.code}, "Description": {c.descr}}}
			if !isStatus(m) {
				t.Fatal("not taken for a status")
			}
			done, err := pullStatus(m)
			if done != c.done || (err != nil) != c.failed {
				t.Fatalf("done %v, error %v; want done %v, failed %v", done, err, c.done, c.failed)
			}
		})
	}
	journaled := &nats.Msg{Data: []byte(`{}`), Header: nats.Header{"Status": {"408"}}}
	if isStatus(journaled) {
		t.Fatal("a message with data taken for a status")
	}
}

// TestAckInfo reads an ack subject as nats.go's Metadata does: the v1
// form, the v2 form with its domain ("_" for none), account hash and
// trailing token, and the v2 form without the token.
func TestAckInfo(t *testing.T) {
	cases := []struct {
		reply          string
		seq, delivered uint64
		ok             bool
	}{
		{"$JS.ACK.AGENTPHONE.sink-kafka.1.4021.17.1733000000000000000.12", 4021, 1, true},
		{"$JS.ACK._.x7Hb.AGENTPHONE.sink-kafka.2.4021.17.1733000000000000000.12.a9f", 4021, 2, true},
		{"$JS.ACK.hub.x7Hb.AGENTPHONE.sink-kafka.3.99.17.1733000000000000000.0", 99, 3, true},
		{"_INBOX.abc", 0, 0, false},
		{"$JS.ACK.AGENTPHONE.sink-kafka.1.4021", 0, 0, false},
		{"$JS.ACK.AGENTPHONE.sink-kafka.x.4021.17.1.12", 0, 0, false},
	}
	for _, c := range cases {
		seq, delivered, ok := ackInfo(c.reply)
		if ok != c.ok || ok && (seq != c.seq || delivered != c.delivered) {
			t.Errorf("ackInfo(%q) = %d, %d, %v; want %d, %d, %v", c.reply, seq, delivered, ok, c.seq, c.delivered, c.ok)
		}
	}
}
