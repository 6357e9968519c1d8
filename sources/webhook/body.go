package webhook

import (
	"errors"
	"io"
	"slices"
)

// errTooLarge reports a body over the limit.
var errTooLarge = errors.New("webhook: body too large")

// readBody appends what r holds to dst and returns it, reading no further
// than one byte past limit: a longer body fails with errTooLarge as soon as
// that byte arrives. declared is the body's announced length (-1 when it is
// sent chunked): one over the limit fails before anything is read, and one
// within it sizes the buffer once. The buffer grows in steps of its size at
// most, and never past limit+1.
func readBody(r io.Reader, dst []byte, declared, limit int64) ([]byte, error) {
	if declared > limit {
		return dst, errTooLarge
	}
	first := int64(4 << 10)
	if declared >= 0 {
		first = declared + 1 // one more byte shows the end without growing
	}
	dst = slices.Grow(dst[:0], int(min(first, limit+1)))
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, int(min(int64(cap(dst)), limit+1-int64(len(dst)))))
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		switch {
		case int64(len(dst)) > limit:
			return dst, errTooLarge
		case errors.Is(err, io.EOF):
			return dst, nil
		case err != nil:
			return dst, err
		}
	}
}

// maxPooledBody is the largest buffer kept for the next request: a body
// larger than this is rare, and its buffer is left to the collector rather
// than held by the pool.
const maxPooledBody = 64 << 10

func (h *Handler) getBuf() *[]byte {
	if b, ok := h.bufs.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

// putBuf keeps body's buffer for the next request, unless a large body made
// it large.
func (h *Handler) putBuf(b *[]byte, body []byte) {
	if cap(body) <= maxPooledBody {
		*b = body[:0]
		h.bufs.Put(b)
	}
}
