package connector

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxDepth is how deeply a body's JSON may nest, objects and arrays
// counted, for an envelope to carry it as JSON: 64 levels, what common
// parsers accept at least (BigQuery's JSON type takes 500, Go's
// encoding/json 10,000). A body nested deeper is journaled with its bytes
// as raw_base64 and no data (StatusTooDeep).
const MaxDepth = 64

// Why valid JSON may still be unsafe to embed in an envelope. CheckJSON
// returns them; each wraps ErrUnsafeJSON.
var (
	ErrUnsafeJSON  = errors.New("connector: JSON unsafe to embed")
	ErrTooDeep     = fmt.Errorf("%w: nested deeper than %d levels", ErrUnsafeJSON, MaxDepth)
	ErrNotUTF8     = fmt.Errorf("%w: not UTF-8", ErrUnsafeJSON)
	ErrNumberRange = fmt.Errorf("%w: a number beyond float64's range", ErrUnsafeJSON)
)

// CheckJSON reports whether b, which must be valid JSON, is safe to embed
// in an envelope as JSON: every consumer's decoder then reads the envelope
// as it was written. It returns ErrTooDeep for nesting deeper than
// MaxDepth, ErrNotUTF8 for bytes that are not UTF-8 (decoders replace or
// refuse them), ErrNumberRange for a number a float64 cannot hold (Go's
// decoder refuses it into any), and nil otherwise. It reads b once and
// allocates nothing; on bytes that are not JSON its answer means nothing,
// but it returns.
func CheckJSON(b []byte) error {
	if !utf8.Valid(b) {
		return ErrNotUTF8
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch jsonClass[b[i]] {
		case classNone:
		case classQuote:
			i = stringEnd(b, i+1)
		case classOpen:
			if depth++; depth > MaxDepth {
				return ErrTooDeep
			}
		case classClose:
			depth--
		case classNumber:
			end := numberEnd(b, i)
			if !fitsFloat(b[i:end]) {
				return ErrNumberRange
			}
			i = end - 1
		}
	}
	return nil
}

// The bytes CheckJSON looks at outside strings.
const (
	classNone = iota
	classQuote
	classOpen
	classClose
	classNumber
)

// jsonClass classifies each byte for CheckJSON; it is never written after
// its initialization.
var jsonClass = func() (t [256]uint8) {
	t['"'] = classQuote
	t['{'], t['['] = classOpen, classOpen
	t['}'], t[']'] = classClose, classClose
	t['-'] = classNumber
	for c := '0'; c <= '9'; c++ {
		t[c] = classNumber
	}
	return t
}()

// stringEnd returns the index of the quote that closes the string whose
// first byte is at i (len(b) if none does). It looks for the next quote and
// backslash with bytes.IndexByte, which reads many bytes at a time, and
// steps over each escape.
func stringEnd(b []byte, i int) int {
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return len(b)
		}
		e := bytes.IndexByte(b[i:i+q], '\\')
		if e < 0 {
			return i + q
		}
		i += e + 2 // the escaped byte cannot end the string
		if i >= len(b) {
			return len(b)
		}
	}
}

// numberEnd returns the index after the number starting at i.
func numberEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return i
		}
	}
	return i
}

// fitsFloat reports whether the JSON number n is within float64's range.
// One without an exponent and of fewer than 300 digits always is.
func fitsFloat(n []byte) bool {
	if len(n) < 300 && bytes.IndexAny(n, "eE") < 0 {
		return true
	}
	_, err := strconv.ParseFloat(string(n), 64)
	return !errors.Is(err, strconv.ErrRange)
}
