package webhook

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
)

// ServeHTTP handles one delivery on net/http.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := request{method: r.Method, path: r.URL.Path, header: r.Header.Get}
	writeReply(w, h.handle(req, func(buf *bytes.Buffer) ([]byte, error) { return h.read(w, r, buf) }))
}

// read reads the whole body into buf, refusing more than the limit as soon as
// it is exceeded.
func (h *Handler) read(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) ([]byte, error) {
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return nil, errTooLarge
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	return buf.Bytes(), err
}

func writeReply(w http.ResponseWriter, rep reply) {
	hd := w.Header()
	hd["Content-Type"] = []string{"application/json"}
	hd["Content-Length"] = []string{strconv.Itoa(len(rep.body))}
	if rep.retryAfter != "" {
		hd["Retry-After"] = []string{rep.retryAfter}
	}
	if rep.allowPost {
		hd["Allow"] = []string{http.MethodPost}
	}
	if rep.close {
		hd["Connection"] = []string{"close"}
	}
	w.WriteHeader(rep.code)
	_, _ = w.Write([]byte(rep.body))
}
