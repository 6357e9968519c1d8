package main

import (
	"os"
	"strings"
	"testing"

	"github.com/agentphone-connector/connector/natsserver"
)

// credentials returns user's name and password on the embedded server of
// the data directory dir, as NATS_USER and NATS_PASSWORD take them.
func credentials(t *testing.T, dir, user string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(natsserver.PasswordFile(dir, user))
	if err != nil {
		t.Fatal(err)
	}
	return user, strings.TrimSpace(string(b))
}

// NATS_USER and NATS_PASSWORD go together, and not with NATS_CREDS.
func TestNATSAuthValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"none", Config{}, ""},
		{"user and password", Config{NATSUser: "connector", NATSPassword: "pw"}, ""},
		{"user alone", Config{NATSUser: "connector"}, "NATS_PASSWORD"},
		{"password alone", Config{NATSPassword: "pw"}, "NATS_PASSWORD"},
		{"user and creds", Config{NATSUser: "connector", NATSPassword: "pw", NATSCreds: "x.creds"}, "NATS_USER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.validateNATSAuth()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("validate = %v, want %q", err, tc.want)
			}
		})
	}
}
