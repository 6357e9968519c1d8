package dedupe

import (
	"strconv"
	"testing"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/journal/journaltest"
)

// BenchmarkNaturalKeys measures what natural keys cost per append on the
// embedded journal: nothing for kinds without one (messages), two KV
// writes for agent.call_ended. Compare the pairs of one run.
func BenchmarkNaturalKeys(b *testing.B) {
	env := journaltest.Start(b, nil)
	keys := openKeys(b, env, nil)
	kinds := []struct {
		name string
		make func(i int) *connector.Event
	}{
		{"message", func(i int) *connector.Event { return event("m" + strconv.Itoa(i)) }},
		{"call_ended", func(i int) *connector.Event { return callEnded("c"+strconv.Itoa(i), "call_"+strconv.Itoa(i)) }},
	}
	run := 0
	for _, k := range kinds {
		for _, via := range []struct {
			name string
			app  connector.Appender
		}{{"journal", env.Journal}, {"natural_keys", NewNaturalKeys(env.Journal, keys, time.Second)}} {
			b.Run(k.name+"/"+via.name, func(b *testing.B) {
				run++
				prefix := strconv.Itoa(run) + "-"
				i := 0
				for b.Loop() {
					e := k.make(i)
					e.ID, e.CallID = prefix+e.ID, prefix+e.CallID
					if _, err := via.app.Append(b.Context(), e); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}
