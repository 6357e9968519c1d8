package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckJSON(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		name, doc string
		want      error
	}{
		{"flat", `{"a":"b","c":[1,2.5,-3e10,true,null]}`, nil},
		{"64 levels", deep(MaxDepth), nil},
		{"65 levels", deep(MaxDepth + 1), ErrTooDeep},
		{"brackets in strings do not count", `{"a":"` + strings.Repeat("[{", 100) + `"}`, nil},
		{"escaped quotes do not end a string", `{"a":"\"[[[[\\"}`, nil},
		{"an escaped backslash ends before the quote", `{"a":"\\\\"}` + deep(MaxDepth+1), ErrTooDeep},
		{"not UTF-8 in a string", "{\"a\":\"caf\xe9\"}", ErrNotUTF8},
		{"number beyond float64", `{"a":1e400}`, ErrNumberRange},
		{"negative number beyond float64", `[-1.5E+309]`, ErrNumberRange},
		{"a tiny number is zero", `[1e-400]`, nil},
		{"a long integer within float64", `[` + strings.Repeat("9", 300) + `]`, nil},
		{"an integer beyond float64", `[` + strings.Repeat("9", 310) + `]`, ErrNumberRange},
		{"digits in strings are not numbers", `{"a":"1e400"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckJSON([]byte(tc.doc))
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("CheckJSON = %v, want %v", err, tc.want)
			}
			if err != nil && !errors.Is(err, ErrUnsafeJSON) {
				t.Fatalf("%v does not wrap ErrUnsafeJSON", err)
			}
		})
	}
}

// FuzzCheckJSON checks CheckJSON against encoding/json: on valid JSON it
// accepts exactly what is UTF-8, nests at most MaxDepth levels and decodes
// into any.
func FuzzCheckJSON(f *testing.F) {
	files, _ := filepath.Glob("testdata/agentphone/*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	for _, s := range []string{`[1e400]`, `{"a":"\\\""}`, "[\"\xff\"]", strings.Repeat("[", 65) + strings.Repeat("]", 65), `[-0.0e-0]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		err := CheckJSON(doc)
		if !json.Valid(doc) {
			return
		}
		var v any
		want := utf8.Valid(doc) && tokenDepth(doc) <= MaxDepth && json.Unmarshal(doc, &v) == nil
		if (err == nil) != want {
			t.Fatalf("CheckJSON(%q) = %v, encoding/json says safe: %v", doc, err, want)
		}
	})
}

// tokenDepth counts how deeply doc nests, with encoding/json's tokenizer
// (MaxDepth+1 if it refuses doc).
func tokenDepth(doc []byte) int {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	d, deepest := 0, 0
	for {
		tok, err := dec.Token()
		switch {
		case errors.Is(err, io.EOF):
			return deepest
		case err != nil:
			return MaxDepth + 1
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			d++
			deepest = max(deepest, d)
		case json.Delim('}'), json.Delim(']'):
			d--
		}
	}
}

func BenchmarkCheckJSON(b *testing.B) {
	for _, name := range []string{"call_ended", "sms_inbound"} {
		doc, err := os.ReadFile(filepath.Join("testdata/agentphone", name+".json"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if CheckJSON(doc) != nil {
					b.Fatal("unsafe")
				}
			}
		})
	}
}
