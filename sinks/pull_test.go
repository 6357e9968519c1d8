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
