package transcript

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func readAll(t testing.TB, stream string) ([]Message, error) {
	t.Helper()
	r := NewSSEReader(strings.NewReader(stream), 1<<10)
	var out []Message
	for {
		m, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []Message
		err    error
	}{
		{"events and a heartbeat", "event: connected\ndata: {}\n\n: heartbeat\n\nevent: turn\ndata: {\"a\":1}\n\n",
			[]Message{{Event: "connected", Data: []byte("{}")}, {Event: "turn", Data: []byte(`{"a":1}`)}}, io.EOF},
		{"CRLF", "event: turn\r\ndata: x\r\n\r\n", []Message{{Event: "turn", Data: []byte("x")}}, io.EOF},
		{"CR alone", "event: turn\rdata: x\r\r", []Message{{Event: "turn", Data: []byte("x")}}, io.EOF},
		{"multi-line data", "event: turn\ndata: {\ndata:   \"a\": 1\ndata: }\n\n", []Message{{Event: "turn", Data: []byte("{\n  \"a\": 1\n}")}}, io.EOF},
		{"no space after the colon", "event:turn\ndata:x\n\n", []Message{{Event: "turn", Data: []byte("x")}}, io.EOF},
		{"only one space is removed", "data:  x\n\n", []Message{{Data: []byte(" x")}}, io.EOF},
		{"a field without a colon", "event: turn\ndata\n\n", []Message{{Event: "turn", Data: []byte("")}}, io.EOF},
		{"unknown fields and retry are ignored", "retry: 10\nfoo: bar\nevent: turn\ndata: x\n\n", []Message{{Event: "turn", Data: []byte("x")}}, io.EOF},
		{"an unknown event name is returned", "event: later\ndata: x\n\n", []Message{{Event: "later", Data: []byte("x")}}, io.EOF},
		{"a named event without data", "event: ended\n\n", []Message{{Event: "ended"}}, io.EOF},
		{"blank lines alone dispatch nothing", "\n\n\r\n", nil, io.EOF},
		{"id is kept for later events", "id: 7\nevent: a\ndata: 1\n\nevent: b\ndata: 2\n\n",
			[]Message{{Event: "a", Data: []byte("1"), ID: "7"}, {Event: "b", Data: []byte("2"), ID: "7"}}, io.EOF},
		{"a byte order mark", "\xEF\xBB\xBFevent: turn\ndata: x\n\n", []Message{{Event: "turn", Data: []byte("x")}}, io.EOF},
		{"cut off before the blank line", "event: turn\ndata: x\n", nil, io.ErrUnexpectedEOF},
		{"cut off mid-line", "event: turn\ndata: {\"a\"", nil, io.ErrUnexpectedEOF},
		{"an event over the limit", "data: " + strings.Repeat("x", 2000) + "\n\n", nil, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.stream)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d events %q, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i].Event != tt.want[i].Event || !bytes.Equal(got[i].Data, tt.want[i].Data) || got[i].ID != tt.want[i].ID {
					t.Errorf("event %d = %+q, want %+q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// frame writes events as a server would, with the given line ending.
func frame(nl string, events ...Message) string {
	var b strings.Builder
	for _, m := range events {
		b.WriteString(": heartbeat" + nl + nl)
		if m.Event != "" {
			b.WriteString("event: " + m.Event + nl)
		}
		for line := range strings.SplitSeq(string(m.Data), "\n") {
			b.WriteString("data: " + line + nl)
		}
		b.WriteString(nl)
	}
	return b.String()
}

// FuzzSSEReader checks that any input is read without panic and within the
// limit, and that any events a server frames (with any line ending) are
// read back as they were written.
func FuzzSSEReader(f *testing.F) {
	f.Add("turn", "{\"role\":\"agent\",\n\"content\":\"hi\"}", byte(0))
	f.Add("ended", "", byte(1))
	f.Add("", "x\n\ny", byte(2))
	f.Add("turn", ": not a comment", byte(1))
	f.Fuzz(func(t *testing.T, name, data string, ending byte) {
		// Any bytes at all: no panic, no event bigger than the input.
		for _, raw := range []string{name, data, name + "\n" + data} {
			got, _ := readAll(t, raw)
			n := 0
			for _, m := range got {
				n += len(m.Data) + len(m.Event)
			}
			if n > len(raw) {
				t.Fatalf("read %d bytes of events from %d of input", n, len(raw))
			}
		}
		// A framed event comes back as written.
		if strings.ContainsAny(name, "\r\n") || strings.ContainsRune(data, '\r') || !utf8.ValidString(name) ||
			strings.HasPrefix(name, " ") || strings.HasPrefix(name, "\xEF\xBB\xBF") || len(name)+len(data) > 500 {
			t.Skip()
		}
		nl := [...]string{"\n", "\r\n", "\r"}[int(ending)%3]
		if nl == "\r" {
			data = strings.ReplaceAll(data, "\n", "")
		}
		want := Message{Event: name, Data: []byte(data)}
		got, err := readAll(t, frame(nl, want))
		if err != io.EOF || len(got) != 1 || got[0].Event != name || !bytes.Equal(got[0].Data, want.Data) {
			t.Fatalf("framed %q with %q: read %+q, %v", want, nl, got, err)
		}
	})
}
