package connector

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestInvalidNamesEveryVariable(t *testing.T) {
	err := fmt.Errorf("sinks: %w", errors.Join(
		Invalid("CONNECTOR_JOURNAL_REPLICAS", "must be 1, 3 or 5"),
		Invalid("CONNECTOR_SINK_RETRY_MIN, CONNECTOR_SINK_RETRY_MAX", "need 0 < min <= %s", "max")))
	var se *SettingError
	if !errors.As(err, &se) || !slices.Equal(se.Vars, []string{"CONNECTOR_JOURNAL_REPLICAS"}) || se.Rule != "must be 1, 3 or 5" {
		t.Fatalf("errors.As: %#v", se)
	}
	if got, want := err.Error(), "sinks: CONNECTOR_JOURNAL_REPLICAS: must be 1, 3 or 5\nCONNECTOR_SINK_RETRY_MIN, CONNECTOR_SINK_RETRY_MAX: need 0 < min <= max"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
