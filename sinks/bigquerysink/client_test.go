package bigquerysink

import "testing"

func TestPlaintextEndpoint(t *testing.T) {
	for _, tc := range []struct {
		endpoint, hostport string
		plaintext          bool
	}{
		{"127.0.0.1:9060", "127.0.0.1:9060", true},
		{"localhost:9060", "localhost:9060", true},
		{"[::1]:9060", "[::1]:9060", true},
		{"http://bigquery-emulator:9060", "bigquery-emulator:9060", true},
		{"bigquery-emulator:9060", "bigquery-emulator:9060", false},
		{"bigquerystorage.googleapis.com:443", "bigquerystorage.googleapis.com:443", false},
	} {
		hostport, plaintext := plaintextEndpoint(tc.endpoint)
		if hostport != tc.hostport || plaintext != tc.plaintext {
			t.Errorf("plaintextEndpoint(%q) = %q, %v; want %q, %v", tc.endpoint, hostport, plaintext, tc.hostport, tc.plaintext)
		}
	}
}

// An http:// endpoint is dialled as the emulator in another container is:
// in plaintext, without credentials (none exist in the test).
func TestWriteThroughHTTPEndpoint(t *testing.T) {
	srv, addr := fakeBigQuery(t)
	s := newTestSink(t, "http://"+addr, StreamCommitted)
	events := simulate(2, 2, 3, 1)
	writeAll(t, s, events, len(events))
	assertOnce(t, srv, events)
}
