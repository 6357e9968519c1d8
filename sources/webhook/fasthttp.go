package webhook

import (
	"bytes"
	"errors"

	"github.com/valyala/fasthttp"
)

// ServeFastHTTP handles one delivery on fasthttp. The server streams request
// bodies (Server sets StreamRequestBody), so the body is read here, within
// Config.MaxBodyBytes, once the route is known.
func (h *Handler) ServeFastHTTP(c *fasthttp.RequestCtx) {
	req := request{method: string(c.Method()), path: string(c.Path()), header: fastHeader(&c.Request.Header),
		framing: bothLengths(c.Request.Header.RawHeaders())}
	writeFastReply(c, h.handle(req, func(dst []byte) ([]byte, error) { return h.readFast(c, dst) }))
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
	route := h.routeName(string(c.Path()))
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		writeFastReply(c, h.tooLarge(route))
		return
	}
	writeFastReply(c, h.unreadable(route, err))
}

func fastHeader(hd *fasthttp.RequestHeader) func(string) string {
	return func(name string) string { return string(hd.Peek(name)) }
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
