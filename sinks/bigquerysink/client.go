package bigquerysink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The Go BigQuery client reads no emulator variable for either API, so the
// endpoint settings become client options here.

// restOptions returns the options of the REST client: the endpoint override,
// with no credentials for a plain http:// endpoint (an emulator).
func restOptions(c Config) []option.ClientOption {
	if c.Endpoint == "" {
		return nil
	}
	opts := []option.ClientOption{option.WithEndpoint(c.Endpoint)}
	if u, err := url.Parse(c.Endpoint); err == nil && u.Scheme == "http" {
		opts = append(opts, option.WithoutAuthentication())
	}
	return opts
}

// ErrNoClient reports a BigQuery client that could not be made: almost
// always credentials that are missing or unreadable (Application Default
// Credentials, GOOGLE_APPLICATION_CREDENTIALS).
var ErrNoClient = errors.New("bigquerysink: no BigQuery client")

// newRESTClient opens the REST client (dataset, tables, views, queries).
func newRESTClient(ctx context.Context, c Config) (*bigquery.Client, error) {
	bq, err := bigquery.NewClient(ctx, c.Project, restOptions(c)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoClient, err)
	}
	bq.Location = c.Location
	return bq, nil
}

// plaintextScheme marks a Storage Write endpoint that is dialled without TLS
// and credentials wherever it is: an emulator in another container.
const plaintextScheme = "http://"

// plaintextEndpoint returns the host:port of a Storage Write endpoint to dial
// in plaintext without credentials (http://host:port, or a loopback
// host:port), and whether it is one.
func plaintextEndpoint(endpoint string) (string, bool) {
	if hostport, ok := strings.CutPrefix(endpoint, plaintextScheme); ok {
		return hostport, true
	}
	return endpoint, localEndpoint(endpoint)
}

// localEndpoint reports whether a host:port is on this machine.
func localEndpoint(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newWriteClient opens the Storage Write client. A loopback or http://
// endpoint override is dialled in plaintext and without credentials (an
// emulator or a test server); the connection is then the caller's to close,
// after the client.
func newWriteClient(ctx context.Context, c Config) (*managedwriter.Client, *grpc.ClientConn, error) {
	var opts []option.ClientOption
	var conn *grpc.ClientConn
	hostport, plaintext := plaintextEndpoint(c.StorageEndpoint)
	switch {
	case c.StorageEndpoint != "" && plaintext:
		var err error
		conn, err = grpc.NewClient(hostport, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, nil, fmt.Errorf("storage write dial: %w", err)
		}
		opts = append(opts, option.WithGRPCConn(conn), option.WithoutAuthentication())
	case c.StorageEndpoint != "":
		opts = append(opts, option.WithEndpoint(c.StorageEndpoint))
	}
	mw, err := managedwriter.NewClient(ctx, c.Project, opts...)
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, nil, fmt.Errorf("storage write client: %w", err)
	}
	return mw, conn, nil
}
