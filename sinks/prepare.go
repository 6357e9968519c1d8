package sinks

import connector "github.com/agentphone-connector/connector"

// Preparer is a Writer that does the part of a write that needs no target,
// encoding the events into what it sends, ahead of the write: the delivery
// machinery hands it each batch as the batch is read from the journal,
// while the batch before it is being written, so that encoding is off the
// path every batch waits on.
//
//	reader: read k+1 ─▶ Prepare(k+1) ─┐
//	chain:  Write(k) ─────────────────┴─▶ Write(k+1) finds its events encoded
//
// Prepare is called from the reader's goroutine, one batch at a time, in
// journal order, while Write may be running; what it keeps for the events
// is the Writer's to synchronize. It must change nothing a Write depends on
// but the encoded form of those events: a Write given an event that was
// not prepared (or whose preparation an earlier Write used) encodes it
// itself. What was prepared for events never written (a term that ends
// with a batch read ahead) is the Writer's to drop, at its next Resume at
// the latest.
type Preparer interface {
	connector.Writer
	Prepare(events []*connector.Event)
}
