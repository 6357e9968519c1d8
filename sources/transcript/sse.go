package transcript

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Message is one server-sent event.
type Message struct {
	Event string // the event: field; "" when the event named none (SSE's "message")
	Data  []byte // the data: lines joined with "\n"; owned by the caller
	ID    string // the last id: field seen on the stream
}

// ErrTooLong reports an event larger than the reader accepts.
var ErrTooLong = errors.New("transcript: server-sent event too long")

// SSEReader reads text/event-stream as the WHATWG algorithm does: lines end
// in CRLF, LF or CR; "field: value" with one optional space after the
// colon; a line starting with ":" is a comment; a blank line dispatches.
// Unlike a browser it also dispatches a named event with no data (so an
// "ended" without data still ends the stream), and it drops an event cut
// off by the end of the stream.
type SSEReader struct {
	r       *bufio.Reader
	max     int  // largest event, data included
	afterCR bool // the last line ended in CR: a LF right after belongs to it
	started bool // the BOM check is done
	line    []byte
	lastID  string
}

// NewSSEReader returns a reader of r that refuses events over max bytes.
func NewSSEReader(r io.Reader, max int) *SSEReader {
	return &SSEReader{r: bufio.NewReaderSize(r, 4096), max: max}
}

// Next returns the next event. At the end of the stream it returns io.EOF
// (io.ErrUnexpectedEOF when an event was cut off); a read error is returned
// as it is.
func (p *SSEReader) Next() (Message, error) {
	var m Message
	var data bytes.Buffer
	hasData, named := false, false
	size := 0
	for {
		line, err := p.readLine()
		if err != nil {
			if err == io.EOF && (hasData || named) {
				err = io.ErrUnexpectedEOF
			}
			return Message{}, err
		}
		if size += len(line); size > p.max {
			return Message{}, ErrTooLong
		}
		if len(line) == 0 {
			if !hasData && !named {
				continue
			}
			m.Data, m.ID = data.Bytes(), p.lastID
			return m, nil
		}
		if line[0] == ':' {
			continue // a comment: heartbeats are seen by the caller as bytes read
		}
		field, value, found := bytes.Cut(line, []byte{':'})
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "event":
			m.Event, named = string(value), true
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.Write(value)
			hasData = true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				p.lastID = string(value)
			}
		}
		// retry and unknown fields are ignored, as the algorithm says.
	}
}

// readLine returns the next line without its end; it is valid until the
// next call.
func (p *SSEReader) readLine() ([]byte, error) {
	p.line = p.line[:0]
	for {
		c, err := p.r.ReadByte()
		if err != nil {
			if err == io.EOF && len(p.line) > 0 {
				return nil, io.ErrUnexpectedEOF // a line without its end
			}
			return nil, err
		}
		if !p.started {
			p.started = true
			if c == 0xEF && p.skipBOM() {
				continue
			}
		}
		if p.afterCR {
			p.afterCR = false
			if c == '\n' {
				continue
			}
		}
		switch c {
		case '\r':
			p.afterCR = true
			return p.line, nil
		case '\n':
			return p.line, nil
		}
		if len(p.line) >= p.max {
			return nil, ErrTooLong
		}
		p.line = append(p.line, c)
	}
}

// skipBOM consumes the rest of a UTF-8 byte order mark after its first
// byte, reporting whether there was one.
func (p *SSEReader) skipBOM() bool {
	if next, err := p.r.Peek(2); err == nil && next[0] == 0xBB && next[1] == 0xBF {
		_, _ = p.r.Discard(2)
		return true
	}
	return false
}
