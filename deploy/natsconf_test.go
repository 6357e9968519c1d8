package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/agentphonetest"
	"github.com/agentphone-connector/connector/natsserver/natsservertest"
)

// natsPasswords are what the tests give nats.conf's users, through the
// server's environment as compose.yaml does.
var natsPasswords = map[string]string{
	"connector":  "connector-test-password",
	"subscriber": "subscriber-test-password",
	"downstream": "downstream-test-password",
}

// startNATSConf runs nats-server with nats.conf (and nats-auth.conf) and
// returns its URL.
func startNATSConf(t *testing.T) string {
	t.Helper()
	for user, pw := range natsPasswords {
		t.Setenv("NATS_"+strings.ToUpper(user)+"_PASSWORD", pw)
	}
	return natsservertest.StartFile(t, "nats.conf")
}

// The users of nats.conf are enough for what each role does, and no more.
// The connector, as its user, runs with every part that uses NATS: the
// journal, dead letters, a sink with its lease, live transcripts with
// their claims and discovery consumer; backfill (its checkpoint, the
// marks) and replay run beside it, and connector tail as the subscriber
// user. The subscriber cannot do any of what a subscriber must not.
func TestNATSConfUsers(t *testing.T) {
	natsURL := startNATSConf(t)
	u, _ := url.Parse(natsURL)
	api := agentphonetest.Start(t, agentphonetest.Options{Account: agentphonetest.Generate(agentphonetest.AccountOptions{Seed: 3, Calls: 2, Day: time.Now().UTC().AddDate(0, 0, -1)})})
	env := []string{
		"NATS_URL=" + natsURL, "NATS_USER=connector", "NATS_PASSWORD=" + natsPasswords["connector"],
		"CONNECTOR_HTTP_ADDR=127.0.0.1:0", "CONNECTOR_ADMIN_ADDR=127.0.0.1:0",
		"AGENTPHONE_WEBHOOK_SECRET=" + testSecret,
		"CONNECTOR_NATS_SINK_URL=nats://downstream:" + natsPasswords["downstream"] + "@" + u.Host,
		"CONNECTOR_NATS_SINK_MODE=core", "CONNECTOR_NATS_SINK_SUBJECT=downstream.{kind}",
		"AGENTPHONE_TRANSCRIPTS=true", "AGENTPHONE_API_URL=" + api.URL(), "AGENTPHONE_API_KEY=" + api.APIKey(),
		"CONNECTOR_BACKFILL_SETTLE=0s",
	}
	p := startConnector(t, emptyDir(t), env...)
	p.waitReady(t)
	if code, status, err := deliver(p.webhook, testSecret, "whd_conf_1", smsBody(t)); err != nil || code != 200 || status != "accepted" {
		t.Fatalf("webhook: %d %s %v", code, status, err)
	}
	waitDelivered(t, p, 1)
	for _, args := range [][]string{{"replay", "--sink", "nats", "--seq", "1"}, {"backfill", "--since", "1h"}} {
		cmd := exec.Command(connectorBin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("connector %s: %v\n%s", args[0], err, out)
		}
	}
	waitDelivered(t, p, 2)
	tailAsSubscriber(t, natsURL)

	names := natsservertest.Names{Stream: "AGENTPHONE", Prefix: "agentphone", Consumer: "sink-nats", Bucket: "AGENTPHONE_SINK_LEASES"}
	v := natsservertest.NewViolations()
	sub, err := nats.Connect(natsURL, nats.UserInfo("subscriber", natsPasswords["subscriber"]), v.Option())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	js, _ := jetstream.New(sub)
	for _, op := range natsservertest.WriteOps(names) {
		t.Run(op.Name, func(t *testing.T) { natsservertest.Denied(t, js, v, op) })
	}
	if strings.Contains(p.logs.String(), "Permissions Violation") {
		t.Errorf("the connector was refused something:\n%s", p.logs)
	}
	p.stop(t)
}

// waitDelivered polls GET /sinks until the NATS sink has delivered n events.
func waitDelivered(t *testing.T, p *process, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := get(t, p.admin+"/sinks")
		var st struct{ Sinks []struct{ Delivered int } }
		if json.Unmarshal([]byte(body), &st) == nil && len(st.Sinks) == 1 && st.Sinks[0].Delivered >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the NATS sink has not delivered %d events: %s", n, body)
		}
		select {
		case <-p.exited:
			t.Fatalf("exited: %v", p.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tailAsSubscriber runs connector tail as the subscriber user until it
// prints the journal's first event.
func tailAsSubscriber(t *testing.T, natsURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, connectorBin, "tail", "--all")
	cmd.Env = []string{"NATS_URL=" + natsURL, "NATS_USER=subscriber", "NATS_PASSWORD=" + natsPasswords["subscriber"]}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	cancel()
	_ = cmd.Wait()
	if err != nil || !strings.Contains(line, "id=whd_conf_1") {
		t.Fatalf("connector tail as the subscriber: %q %v", line, err)
	}
}
