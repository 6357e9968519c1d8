package agentphoneapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	connector "github.com/agentphone-connector/connector"
)

// maxBody caps a REST answer read into memory.
const maxBody = 32 << 20

// Client calls AgentPhone's REST API with the configured key. It is safe
// for concurrent use.
type Client struct {
	base    *url.URL
	key     Key
	http    *http.Client
	timeout time.Duration
	retries int
	backoff connector.Backoff
	sleep   connector.Sleeper
	log     *slog.Logger
}

// Settings is what the wiring passes to the client.
type Settings struct {
	Logger     *slog.Logger
	HTTPClient *http.Client      // nil: a client of its own; it must not time out whole requests (streams last)
	Sleep      connector.Sleeper // waits between retries; nil is connector.Sleep
	Backoff    connector.Backoff // between retries of 5xx and transport errors; zero is 1 s to 1 min
}

// New returns a client for cfg. The key may be empty; requests then fail
// with ErrUnauthorized.
func New(cfg Config, set Settings) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, _ := url.Parse(strings.TrimSuffix(cfg.URL, "/"))
	c := &Client{base: base, key: cfg.Key, http: set.HTTPClient, timeout: cfg.Timeout, retries: cfg.MaxRetries,
		backoff: set.Backoff, sleep: set.Sleep, log: set.Logger}
	if c.http == nil {
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if c.sleep == nil {
		c.sleep = connector.Sleep
	}
	if c.backoff == (connector.Backoff{}) {
		c.backoff = connector.Backoff{Min: time.Second, Max: time.Minute}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// request builds a GET of path (under /v1) with query.
func (c *Client) request(ctx context.Context, path string, query url.Values, accept string) (*http.Request, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key.Reveal())
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "agentphone-connector")
	return req, nil
}

// get fetches path and returns the body of its 2xx answer, retrying 429
// after Retry-After and 5xx or transport errors after a backoff, at most
// the configured retries. Errors that no retry can fix are marked
// connector.Permanent.
func (c *Client) get(ctx context.Context, path string, query url.Values) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		body, err := c.getOnce(ctx, path, query)
		if err == nil {
			return body, nil
		}
		var apiErr *Error
		isAPI := errors.As(err, &apiErr)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case isAPI && !apiErr.Retryable():
			return nil, connector.Permanent(err)
		case attempt >= c.retries:
			return nil, fmt.Errorf("%s after %d attempts: %w", path, attempt+1, err)
		}
		wait := c.backoff.Delay(attempt)
		if isAPI && apiErr.RetryAfter > 0 {
			wait = apiErr.RetryAfter
		}
		c.log.Debug("agentphone api: retrying", "path", path, "attempt", attempt+1, "wait", wait.String(), "error", err)
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (c *Client) getOnce(ctx context.Context, path string, query url.Values) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.request(ctx, path, query, "application/json")
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, parseError(resp.StatusCode, resp.Header, body)
	}
	return body, nil
}

// OpenTranscriptStream opens GET /v1/calls/{id}/transcript/stream and
// returns its body, text/event-stream, for the caller to read and close.
// Cancelling ctx ends the stream. It is not retried: an *Error says why it
// did not open (marked connector.Permanent for 401, 403 and 404).
func (c *Client) OpenTranscriptStream(ctx context.Context, callID string) (io.ReadCloser, error) {
	req, err := c.request(ctx, "/v1/calls/"+url.PathEscape(callID)+"/transcript/stream", nil, "text/event-stream")
	if err != nil {
		return nil, err
	}
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open transcript stream %s: %w", callID, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.Body, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	apiErr := parseError(resp.StatusCode, resp.Header, body)
	if !apiErr.Retryable() {
		return nil, connector.Permanent(apiErr)
	}
	return nil, apiErr
}

// CloseIdleConnections closes the client's idle keep-alive connections; the
// client stays usable.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }
