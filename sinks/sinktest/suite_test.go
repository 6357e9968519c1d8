package sinktest_test

import (
	"testing"

	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// TestMemory runs the suite against the in-memory reference target, which
// keeps the suite itself honest.
func TestMemory(t *testing.T) {
	sinktest.Run(t, sinktest.NewMemoryTarget)
}
