package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"
)

func TestHealthcheck(t *testing.T) {
	admin := http.NewServeMux()
	admin.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeStatus(w, http.StatusOK, "ok") })
	admin.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusServiceUnavailable, "shutting down")
	})
	srv := httptest.NewServer(admin)
	defer srv.Close()
	addr := srv.Listener.Addr().(*net.TCPAddr)
	closed := httptest.NewServer(admin)
	closed.Close()

	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		out  string
	}{
		{"alive by admin address", nil, map[string]string{"CONNECTOR_ADMIN_ADDR": addr.String()}, 0, `"ok"`},
		{"unspecified host is dialled on loopback", nil, map[string]string{"CONNECTOR_ADMIN_ADDR": "0.0.0.0:" + strconv.Itoa(addr.Port)}, 0, `"ok"`},
		{"not ready", []string{"--ready"}, map[string]string{"CONNECTOR_ADMIN_ADDR": addr.String()}, 1, "503"},
		{"explicit URL", []string{"--url", srv.URL + "/healthz"}, nil, 0, `"ok"`},
		{"nothing listening", []string{"--url", closed.URL + "/healthz"}, nil, 1, "cannot reach the admin listener at " + closed.URL + "/healthz (healthcheck --url)"},
		{"nothing at the admin address", nil, map[string]string{"CONNECTOR_ADMIN_ADDR": closed.Listener.Addr().String()}, 1, "(CONNECTOR_ADMIN_ADDR)"},
		{"unknown path", []string{"--url", srv.URL + "/nope"}, nil, 1, "404"},
		{"stray argument", []string{"extra"}, nil, 2, "usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), append([]string{"healthcheck"}, tc.args...), envconfig.MapLookuper(tc.env), &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, stdout.String(), stderr.String())
			}
			if got := stdout.String() + stderr.String(); !strings.Contains(got, tc.out) {
				t.Errorf("output %q lacks %q", got, tc.out)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for in, want := range map[string]string{
		":9090":          "127.0.0.1:9090",
		"0.0.0.0:9090":   "127.0.0.1:9090",
		"[::]:9090":      "127.0.0.1:9090",
		"10.1.2.3:9090":  "10.1.2.3:9090",
		"localhost:9090": "localhost:9090",
	} {
		if got := loopback(in); got != want {
			t.Errorf("loopback(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigNames(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"config", "--names"}, envconfig.MapLookuper(nil), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	names := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(names) != len(envVars()) {
		t.Fatalf("%d names, want %d", len(names), len(envVars()))
	}
	for _, want := range []string{"NATS_URL", "CONNECTOR_JOURNAL_REPLICAS", "CONNECTOR_BIGQUERY_PROJECT", "AGENTPHONE_WEBHOOK_SECRET_<NAME>"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("config --names lacks %s", want)
		}
	}
}
