package agentphonetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// sseMessage is what a strict reader of the stream yields: an event or a
// comment.
type sseMessage struct {
	Event   string // the event name; empty for a comment
	Data    string // the data lines joined with "\n"
	Comment string // a comment's text, without the colon
}

// sseReader parses text/event-stream as the WHATWG algorithm does (lines end
// in CRLF, LF or CR; "field: value" with one optional space; a blank line
// dispatches), and fails on anything a valid stream from this server cannot
// hold: unknown fields, data that is not JSON, an event without a name.
type sseReader struct {
	r       *bufio.Reader
	afterCR bool   // the last line ended in CR: a following LF belongs to it
	raw     []byte // every byte read, for checks on line endings
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{r: bufio.NewReader(r)} }

func (p *sseReader) line() (string, error) {
	var b strings.Builder
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			if err == io.EOF && b.Len() > 0 {
				err = io.ErrUnexpectedEOF // a line without its end
			}
			return "", err
		}
		p.raw = append(p.raw, c)
		if p.afterCR {
			p.afterCR = false
			if c == '\n' {
				continue
			}
		}
		switch c {
		case '\r':
			p.afterCR = true
			return b.String(), nil
		case '\n':
			return b.String(), nil
		}
		b.WriteByte(c)
	}
}

// next returns the next event or comment.
func (p *sseReader) next() (sseMessage, error) {
	var m sseMessage
	var data []string
	fields := 0
	for {
		l, err := p.line()
		if err != nil {
			if err == io.EOF && fields > 0 {
				err = io.ErrUnexpectedEOF // an event cut before its blank line
			}
			return m, err
		}
		if l == "" {
			if fields == 0 {
				continue
			}
			m.Data = strings.Join(data, "\n")
			if m.Comment == "" && m.Event == "" {
				return m, fmt.Errorf("event without a name: %q", m.Data)
			}
			if m.Comment == "" && !json.Valid([]byte(m.Data)) {
				return m, fmt.Errorf("%s event data is not JSON: %q", m.Event, m.Data)
			}
			return m, nil
		}
		fields++
		name, value, _ := strings.Cut(l, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "":
			m.Comment = value
		case "event":
			m.Event = value
		case "data":
			data = append(data, value)
		default:
			return m, fmt.Errorf("unexpected field %q", name)
		}
	}
}

// openStream opens the transcript stream of a call; the body is closed when
// the test ends.
func openStream(ctx context.Context, t *testing.T, s *Server, callID string) (*http.Response, *sseReader) {
	t.Helper()
	return openStreamAt(ctx, t, s.URL(), s.APIKey(), callID)
}

// openStreamAt opens the transcript stream of a call at the API base URL.
func openStreamAt(ctx context.Context, t *testing.T, base, key, callID string) (*http.Response, *sseReader) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/calls/"+callID+"/transcript/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, newSSEReader(resp.Body)
}

// expect reads the next message and checks its event name (or comment).
func (p *sseReader) expect(t *testing.T, event string) sseMessage {
	t.Helper()
	m, err := p.next()
	if err != nil {
		t.Fatalf("want %q, got error %v", event, err)
	}
	if got := m.Event; got != event && !(m.Comment != "" && event == ": "+m.Comment) {
		t.Fatalf("want %q, got event %q comment %q", event, m.Event, m.Comment)
	}
	return m
}

// turnData decodes a turn event's data.
func turnData(t *testing.T, m sseMessage) transcriptTurn {
	t.Helper()
	var turn transcriptTurn
	if err := json.Unmarshal([]byte(m.Data), &turn); err != nil {
		t.Fatal(err)
	}
	return turn
}
