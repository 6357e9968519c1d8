package agentphonetest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/sources/webhook"
	"go.uber.org/goleak"
)

const testSecret = "whsec_test_5f2b8c1e9a7d4"

// noLeaks returns a check, to call after closing everything the test
// started, that fails the test when goroutines started since noLeaks are
// still running (after a grace period).
func noLeaks(t *testing.T) func() {
	ignore := goleak.IgnoreCurrent()
	return func() {
		t.Helper()
		goleak.VerifyNone(t, ignore)
	}
}

// testCtx returns a context that ends with the test or after 10 s.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func closeServer(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
}

// request is one webhook request as the receiver saw it.
type request struct {
	N      int // 1 for the first request the receiver got
	Header http.Header
	Body   []byte
	At     time.Time
	Verify error // the connector's verdict on the signature
}

// receiver stands in for the connector's webhook endpoint: it verifies each
// request with the connector's own verifier and answers what answer says.
type receiver struct {
	srv *httptest.Server
	got chan request

	mu   sync.Mutex
	n    int
	reqs []request
}

// newReceiver starts a receiver; answer gets each request and returns the
// status to answer (0 is 200 when the signature verifies, 401 otherwise, as
// the connector answers). now is the verifier's clock.
func newReceiver(t *testing.T, now func() time.Time, answer func(w http.ResponseWriter, r *http.Request, req request) int) *receiver {
	v := webhook.NewVerifier([]webhook.Secret{testSecret}, 5*time.Minute)
	rc := &receiver{got: make(chan request, 1024)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.n++
		req := request{N: rc.n, Header: r.Header.Clone(), Body: body, At: time.Now()}
		rc.mu.Unlock()
		req.Verify = v.Verify(body, r.Header.Get("X-Webhook-Signature"), r.Header.Get("X-Webhook-Timestamp"), now())
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, req)
		rc.mu.Unlock()
		rc.got <- req
		status := 0
		if answer != nil {
			status = answer(w, r, req)
		}
		if status == 0 {
			status = http.StatusOK
			if req.Verify != nil {
				status = http.StatusUnauthorized
			}
		}
		w.WriteHeader(status)
	}))
	return rc
}

func (rc *receiver) URL() string { return rc.srv.URL }

func (rc *receiver) Close() { rc.srv.Close() }

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// next waits for the receiver's next request.
func (rc *receiver) next(ctx context.Context, t *testing.T) request {
	t.Helper()
	select {
	case r := <-rc.got:
		return r
	case <-ctx.Done():
		t.Fatalf("no webhook request: %v", ctx.Err())
		return request{}
	}
}

// statuses answers the n-th request with codes[n-1], and the last code after
// that.
func statuses(codes ...int) func(http.ResponseWriter, *http.Request, request) int {
	return func(_ http.ResponseWriter, _ *http.Request, req request) int {
		return codes[min(req.N, len(codes))-1]
	}
}

// apiGet does a GET of the server's API with its key (or with the given
// Authorization header) and returns the answer with its body read.
func apiGet(t *testing.T, s *Server, path string, auth ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true // no idle connection outlives the test
	req.Header.Set("Authorization", "Bearer "+s.APIKey())
	if len(auth) > 0 {
		req.Header.Set("Authorization", auth[0])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
