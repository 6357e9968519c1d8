package webhook

import (
	"bytes"
	"errors"
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"
)

// ServeFastHTTP handles one delivery on fasthttp. The server streams request
// bodies (Server sets StreamRequestBody), so the body is read here, within
// Config.MaxBodyBytes, once the route is known.
func (h *Handler) ServeFastHTTP(c *fasthttp.RequestCtx) {
	req := request{method: string(c.Method()), path: string(c.Path()), src: fastSource{c},
		framing: bothLengths(c.Request.Header.RawHeaders())}
	writeFastReply(c, h.handle(req, func(dst []byte) ([]byte, error) { return h.readFast(c, dst) }))
}

// fastSource is a fasthttp request as the handler asks for it.
type fastSource struct{ c *fasthttp.RequestCtx }

func (s fastSource) header(name string) string { return string(s.c.Request.Header.Peek(name)) }
func (s fastSource) done() <-chan struct{}     { return s.c.Done() }

func (s fastSource) forwardedFor() string {
	return string(bytes.Join(s.c.Request.Header.PeekAll("X-Forwarded-For"), []byte{','}))
}

func (s fastSource) peer() netip.Addr {
	if a, ok := s.c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr()
	}
	return netip.Addr{}
}

// readFast reads the body, refusing more than the limit as soon as it is
// exceeded: a declared length over it is refused before any of the body is
// read, and a chunked body is read no further than one byte past it. The
// server streams request bodies (Server sets StreamRequestBody), so
// fasthttp has read at most a few kilobytes of it before the handler runs.
func (h *Handler) readFast(c *fasthttp.RequestCtx, dst []byte) ([]byte, error) {
	if !c.Request.IsBodyStream() {
		// Not streamed: a server without StreamRequestBody read it whole.
		if b := c.Request.Body(); int64(len(b)) <= h.cfg.MaxBodyBytes {
			return append(dst, b...), nil
		}
		return dst, errTooLarge
	}
	return readBody(c.RequestBodyStream(), dst, int64(c.Request.Header.ContentLength()), h.cfg.MaxBodyBytes)
}

// serveError answers what fasthttp could not read into a request: a body
// over the limit, a client too slow, a malformed request. A connection on
// which nothing was sent is closed without an answer, as net/http does: a
// client that opened it and never used it would take an answer for one it
// did not ask for.
func (h *Handler) serveError(c *fasthttp.RequestCtx, err error) {
	if len(c.Request.Header.RawHeaders()) == 0 {
		_ = c.Conn().Close() // fasthttp's own answer then fails to write
		return
	}
	req := request{method: string(c.Method()), path: string(c.Path()), src: fastSource{c}}
	rep := unreadable(h.routeName(req.path))
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		rep = h.tooLarge(rep.route)
	}
	writeFastReply(c, h.settle(req, rep))
}

func writeFastReply(c *fasthttp.RequestCtx, rep reply) {
	c.SetStatusCode(rep.code)
	c.SetContentType("application/json")
	if rep.retryAfter != "" {
		c.Response.Header.Set("Retry-After", rep.retryAfter)
	}
	if rep.allowPost {
		c.Response.Header.Set("Allow", fasthttp.MethodPost)
	}
	if rep.close {
		c.SetConnectionClose()
	}
	c.SetBodyString(rep.body)
}

// bothLengths reports whether raw, a request's header lines, has both a
// Transfer-Encoding and a Content-Length field. fasthttp keeps only one of
// them in the parsed header.
func bothLengths(raw []byte) bool {
	var te, cl bool
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		name, _, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		te = te || bytes.EqualFold(name, []byte("Transfer-Encoding"))
		cl = cl || bytes.EqualFold(name, []byte("Content-Length"))
	}
	return te && cl
}
