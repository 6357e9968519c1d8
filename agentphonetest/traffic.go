package agentphonetest

import (
	"math/rand/v2"
	"slices"
)

// OutOfOrder returns a copy of events shuffled within consecutive windows of
// window events, the same way for the same seed: a call_ended can then
// arrive before the call's last voice message, a reaction before the message
// it reacts to. window < 2 returns the events in order.
func OutOfOrder(events []Event, window int, seed uint64) []Event {
	out := slices.Clone(events)
	if window < 2 {
		return out
	}
	r := rand.New(rand.NewPCG(seed, ^seed))
	for lo := 0; lo < len(out); lo += window {
		part := out[lo:min(lo+window, len(out))]
		r.Shuffle(len(part), func(i, j int) { part[i], part[j] = part[j], part[i] })
	}
	return out
}
