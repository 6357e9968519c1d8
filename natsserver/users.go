package natsserver

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"
)

// The users of the embedded server. Nothing connects without one: the
// connector's may do everything, the subscriber's only read (see Access).
const (
	ConnectorUser  = "connector"
	SubscriberUser = "subscriber"
)

// CredentialsDir is where, under the data directory, the embedded server
// keeps each user's password: a file named after the user, holding only
// the password, that only its owner may read.
const CredentialsDir = "credentials"

// PasswordFile returns the file holding user's password under dataDir.
func PasswordFile(dataDir, user string) string {
	return filepath.Join(dataDir, CredentialsDir, user)
}

// ErrNoCredentials reports that the data directory holds no password for a
// user: no connector has started on it yet.
var ErrNoCredentials = errors.New("natsserver: no credentials in the data directory")

// UserOption reads user's password under dataDir and returns the option
// that connects as user, for a process other than the running connector
// (connector tail, replay, backfill). It fails with ErrNoCredentials when
// the file does not exist.
func UserOption(dataDir, user string) (nats.Option, error) {
	b, err := os.ReadFile(PasswordFile(dataDir, user))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoCredentials, PasswordFile(dataDir, user))
	}
	if err != nil {
		return nil, fmt.Errorf("nats credentials: %w", err)
	}
	return nats.UserInfo(user, strings.TrimSpace(string(b))), nil
}

// password returns user's password under dataDir, creating the file with a
// new random one when there is none. An operator may write their own
// beforehand. A file that group or others may read is made owner-only, and
// said so.
func password(dataDir, user string, log *slog.Logger) (string, error) {
	path := PasswordFile(dataDir, user)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("nats credentials: %w", err)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return create(path)
	}
	if err != nil {
		return "", fmt.Errorf("nats credentials: %w", err)
	}
	pw := strings.TrimSpace(string(b))
	if len(pw) < 16 {
		return "", fmt.Errorf("nats credentials: %s holds a password of %d characters; at least 16 are needed", path, len(pw))
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("nats credentials: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return "", fmt.Errorf("nats credentials: %s may be read by others and cannot be made owner-only: %w", path, err)
		}
		log.Warn("nats password file could be read by others; made owner-only", "file", path, "mode", fi.Mode().Perm().String())
	}
	return pw, nil
}

// create writes a new random password to path, failing if the file appeared
// meanwhile.
func create(path string) (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("nats credentials: %w", err)
	}
	pw := base64.RawURLEncoding.EncodeToString(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("nats credentials: %w", err)
	}
	if _, err := f.WriteString(pw + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("nats credentials: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("nats credentials: %w", err)
	}
	return pw, nil
}

// users returns the server's users, their passwords read (or created)
// under dataDir. The server is given bcrypt hashes of them, as it expects
// (it warns at every start about plain ones); the hashes live only in its
// memory while the files hold the passwords themselves, so the minimum cost
// is enough.
func users(dataDir string, a Access, log *slog.Logger) ([]*server.User, map[string]string, error) {
	pws := map[string]string{}
	for _, u := range []string{ConnectorUser, SubscriberUser} {
		pw, err := password(dataDir, u, log)
		if err != nil {
			return nil, nil, err
		}
		pws[u] = pw
	}
	hashes := map[string]string{}
	for u, pw := range pws {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			return nil, nil, fmt.Errorf("nats credentials: %w", err)
		}
		hashes[u] = string(h)
	}
	return []*server.User{
		{Username: ConnectorUser, Password: hashes[ConnectorUser]},
		{Username: SubscriberUser, Password: hashes[SubscriberUser], Permissions: a.permissions()},
	}, pws, nil
}
