package deploy

import (
	"net/http"
	"os"
	"testing"

	"github.com/agentphone-connector/connector/journal/journaltest"
)

const testSecret = "whsec_deploy_test_3c9e1f"

// The binary starts as it does in the image: only environment variables, an
// empty working directory it cannot write, a data directory it can, no HOME,
// run as uid 65532. It becomes ready, journals a signed webhook, answers
// /healthz for the image's health check, and stops cleanly on SIGTERM with
// the event kept.
func TestStaticBinaryRunsAsInTheImage(t *testing.T) {
	cwd, data := emptyDir(t), dataDir(t)
	p := startConnector(t, cwd,
		"CONNECTOR_DATA_DIR="+data,
		"CONNECTOR_HTTP_ADDR=127.0.0.1:0",
		"CONNECTOR_ADMIN_ADDR=127.0.0.1:0",
		"CONNECTOR_NATS_LISTEN=127.0.0.1:0",
		"AGENTPHONE_WEBHOOK_SECRET="+testSecret,
	)
	p.waitReady(t)

	code, status, err := deliver(p.webhook, testSecret, "whd_image_1", smsBody(t))
	if err != nil || code != http.StatusOK || status != "accepted" {
		t.Fatalf("signed webhook: %d %q %v; want 200 accepted", code, status, err)
	}
	if code, _, _ := deliver(p.webhook, "whsec_wrong", "whd_image_2", smsBody(t)); code != http.StatusUnauthorized {
		t.Errorf("webhook signed with another secret: %d, want 401", code)
	}
	if code, body := get(t, p.admin+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d %s", code, body)
	}
	p.stop(t)
	p.logs.wait(t, p.exited, "shutting down: no new webhooks, finishing those in flight")

	if left, err := os.ReadDir(cwd); err != nil || len(left) > 0 {
		t.Errorf("the working directory holds %v (%v): the image's root is read-only", left, err)
	}
	if n := len(journaltest.IDsIn(t, data)); n != 1 {
		t.Errorf("the journal holds %d events after the restart's data, want 1", n)
	}
}
