package agentphoneapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKeyNeverPrints(t *testing.T) {
	k := Key("sk_live_secret")
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "key", k)
	js, _ := json.Marshal(struct{ K Key }{k})
	for _, out := range []string{fmt.Sprint(k), fmt.Sprintf("%v %s %#v %+v", k, k, k, k), logged.String(), string(js)} {
		if strings.Contains(out, "secret") {
			t.Fatalf("the key printed: %s", out)
		}
	}
	if k.Reveal() != "sk_live_secret" {
		t.Fatal("Reveal")
	}
}

func TestLoadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("sk_live_fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		want    Key
		wantErr bool
	}{
		{"file when no key", Config{KeyFile: path}, "sk_live_fromfile", false},
		{"the variable wins", Config{Key: "sk_env", KeyFile: path}, "sk_env", false},
		{"missing file", Config{KeyFile: path + ".nope"}, "", true},
		{"neither", Config{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.LoadKeyFile()
			if (err != nil) != tt.wantErr || tt.cfg.Key != tt.want {
				t.Fatalf("key %q err %v", tt.cfg.Key.Reveal(), err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good := Config{URL: DefaultURL, Timeout: time.Second}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := Config{URL: "ftp://x", Timeout: 0, MaxRetries: -1}
	err := bad.Validate()
	for _, want := range []string{"AGENTPHONE_API_URL", "AGENTPHONE_API_TIMEOUT", "AGENTPHONE_API_RETRIES"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not name %s", err, want)
		}
	}
	if good.RequireKey("backfill") == nil {
		t.Error("no key accepted")
	}
}
