package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sethvargo/go-envconfig"
)

const healthcheckUsage = "healthcheck [--ready] [--url URL] [--timeout 3s]"

// runHealthcheck asks a running connector's admin listener whether it is
// alive (/healthz) or ready (/readyz) and fails unless the answer is 200.
// Container images have no curl: a HEALTHCHECK runs `connector healthcheck`.
// The URL defaults to CONNECTOR_ADMIN_ADDR on the loopback interface.
func runHealthcheck(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ready := fs.Bool("ready", false, "ask /readyz (accepting webhooks) instead of /healthz (the process is up)")
	url := fs.String("url", "", "the URL to ask (default: http://<CONNECTOR_ADMIN_ADDR on loopback>/healthz)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("%w: %s", errUsage, healthcheckUsage)
	}
	via := "healthcheck --url"
	if *url == "" {
		via = "CONNECTOR_ADMIN_ADDR"
		addr, ok := env.Lookup("CONNECTOR_ADMIN_ADDR")
		if !ok || addr == "" {
			addr = ":9090"
		}
		path := "/healthz"
		if *ready {
			path = "/readyz"
		}
		*url = "http://" + loopback(addr) + path
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return unreachable("the admin listener", *url, via, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d %s", *url, resp.StatusCode, body)
	}
	fmt.Fprintf(stdout, "%s", body)
	return nil
}

// loopback turns a listen address into one to dial on this host: an empty
// or unspecified host (":9090", "0.0.0.0:9090", "[::]:9090") becomes
// 127.0.0.1.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
