package webhook

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// ServeHTTP handles one delivery on net/http. net/http removes the
// Content-Length of a request that also says Transfer-Encoding: chunked
// before a handler sees it (RFC 9112 section 6.3 allows reading such a body
// as chunked), so unlike the listener (Listen) it cannot refuse one.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := request{method: r.Method, path: r.URL.Path, src: httpSource{r}}
	writeReply(w, h.handle(req, func(dst []byte) ([]byte, error) {
		return readBody(r.Body, dst, r.ContentLength, h.cfg.MaxBodyBytes)
	}))
}

// httpSource is a net/http request as the handler asks for it.
type httpSource struct{ r *http.Request }

func (s httpSource) header(name string) string { return s.r.Header.Get(name) }
func (s httpSource) forwardedFor() string {
	return strings.Join(s.r.Header.Values("X-Forwarded-For"), ",")
}
func (s httpSource) done() <-chan struct{} { return s.r.Context().Done() }

func (s httpSource) peer() netip.Addr {
	ap, _ := netip.ParseAddrPort(s.r.RemoteAddr)
	return ap.Addr()
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
