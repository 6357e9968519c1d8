package natsserver_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/agentphone-connector/connector/journal/journaltest"
	"github.com/agentphone-connector/connector/natsserver"
)

func start(t *testing.T, dir string) (*natsserver.Server, error) {
	t.Helper()
	s, err := natsserver.Start(context.Background(), natsserver.Config{Listen: "127.0.0.1:0", MaxPayload: 1 << 20, StoreDir: dir, StartWait: 10 * time.Second}, journaltest.Discard())
	if err == nil {
		t.Cleanup(func() { s.Shutdown(context.Background()) })
	}
	return s, err
}

// The first start creates a password per user, owner-only in an
// owner-only directory; later starts use the same; a process given the data
// directory connects with them, and with nothing else.
func TestPasswordsAreCreatedOnceAndOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	s, err := start(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]string{}
	for _, u := range []string{natsserver.ConnectorUser, natsserver.SubscriberUser} {
		path := natsserver.PasswordFile(dir, u)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", path, fi.Mode().Perm())
		}
		b, _ := os.ReadFile(path)
		first[u] = string(b)
		opt, err := natsserver.UserOption(dir, u)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect(s.ClientURL(), opt)
		if err != nil {
			t.Fatalf("%s cannot connect with its password file: %v", u, err)
		}
		nc.Close()
	}
	if d, _ := os.Stat(filepath.Join(dir, natsserver.CredentialsDir)); d.Mode().Perm() != 0o700 {
		t.Errorf("credentials directory mode %v", d.Mode().Perm())
	}
	if first[natsserver.ConnectorUser] == first[natsserver.SubscriberUser] {
		t.Error("both users have one password")
	}
	for _, bad := range []nats.Option{nats.UserInfo(natsserver.SubscriberUser, "guess"), nats.UserInfo(natsserver.ConnectorUser, first[natsserver.SubscriberUser])} {
		if nc, err := nats.Connect(s.ClientURL(), bad); err == nil {
			nc.Close()
			t.Error("a wrong password connects")
		}
	}
	s.Shutdown(context.Background())
	if _, err := start(t, dir); err != nil {
		t.Fatal(err)
	}
	for u, pw := range first {
		if b, _ := os.ReadFile(natsserver.PasswordFile(dir, u)); string(b) != pw {
			t.Errorf("%s: password changed on restart", u)
		}
	}
	if _, err := natsserver.UserOption(t.TempDir(), natsserver.SubscriberUser); !errors.Is(err, natsserver.ErrNoCredentials) {
		t.Errorf("no credentials: %v", err)
	}
}

// An operator may write the passwords; one others may read is made
// owner-only, one too short is refused.
func TestOperatorPasswords(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, natsserver.CredentialsDir), 0o700)
	mine := "an-operator-chose-this-password"
	os.WriteFile(natsserver.PasswordFile(dir, natsserver.SubscriberUser), []byte(mine+"\n"), 0o640)
	s, err := start(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo(natsserver.SubscriberUser, mine))
	if err != nil {
		t.Fatalf("the operator's password: %v", err)
	}
	nc.Close()
	if fi, _ := os.Stat(natsserver.PasswordFile(dir, natsserver.SubscriberUser)); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	s.Shutdown(context.Background())
	os.WriteFile(natsserver.PasswordFile(dir, natsserver.SubscriberUser), []byte("short"), 0o600)
	if _, err := start(t, dir); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Fatalf("a short password: %v", err)
	}
}
