package webhook

import (
	"testing"
	"time"

	"github.com/agentphone-connector/connector/dedupe"
)

// Deliveries without X-Webhook-ID are told apart by their bodies: two
// different bodies are two events, each journaled, and each keeps its own ID
// across its retries.
func TestMissingWebhookIDsOfDifferentBodiesAreDifferentEvents(t *testing.T) {
	r := newRig(t, testConfig(), dedupe.Config{CacheSize: 100})
	ids := map[string]bool{}
	for _, name := range []string{"reaction.json", "sms_inbound.json"} {
		body := readFixture(t, name)
		for i, want := range []string{"accepted", "duplicate"} {
			r.now = r.now.Add(time.Minute)
			a := r.post(t, r.signed("", body, testSecret))
			if a.code != 200 || a.body["status"] != want {
				t.Fatalf("%s, delivery %d: %d %v, want 200 %s", name, i, a.code, a.body, want)
			}
			ids[a.body["id"]] = true
		}
	}
	if len(ids) != 2 {
		t.Fatalf("two bodies without X-Webhook-ID got the IDs %v, want one each", ids)
	}
	if n := len(r.env.Events()); n != 2 {
		t.Fatalf("journal holds %d events, want 2", n)
	}
}
