// Package sinktest is the conformance suite every sink passes, and the parts
// sink tests share: an embedded journal, event fixtures, an in-memory target,
// a goroutine leak check and a condition wait.
//
// A sink's test fills in a Target (how to make its Writer, read back what
// reached the target, take the target down, and what it will never accept)
// and calls Run:
//
//	func TestConformance(t *testing.T) {
//		sinktest.Run(t, func(t *testing.T) sinktest.Target { return newKafkaTarget(t) })
//	}
package sinktest
