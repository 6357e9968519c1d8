package natssink_test

import (
	"bytes"
	"net"
	"sync"
	"testing"
)

// proxy forwards TCP connections to a NATS server and can lose the
// server's answers: after a client connection sends a publish while the
// proxy is armed, the next bytes the server sends on it (the acks of what
// it just stored) are dropped and the connection is cut, as a network
// that fails after the write does.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	armed int // publishes still to lose the answers of
	conns []net.Conn
	wg    sync.WaitGroup
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) url() string { return "nats://" + p.ln.Addr().String() }

// loseAnswers arms the proxy for n publishes.
func (p *proxy) loseAnswers(n int) {
	p.mu.Lock()
	p.armed += n
	p.mu.Unlock()
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		lose := make(chan struct{})
		p.wg.Go(func() { p.upstream(c, s, lose) })
		p.wg.Go(func() { p.downstream(s, c, lose) })
	}
}

// upstream forwards client bytes; a publish while armed marks the
// connection for losing the next answer.
func (p *proxy) upstream(c, s net.Conn, lose chan struct{}) {
	defer s.Close()
	buf := make([]byte, 32<<10)
	marked := false
	for {
		n, err := c.Read(buf)
		if n > 0 && !marked && bytes.Contains(buf[:n], []byte("PUB ")) {
			p.mu.Lock()
			if p.armed > 0 {
				p.armed--
				marked = true
			}
			p.mu.Unlock()
			if marked {
				close(lose)
			}
		}
		if n > 0 {
			if _, werr := s.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// downstream forwards server bytes until the connection is marked: then
// the next answer is dropped and both sides are cut.
func (p *proxy) downstream(s, c net.Conn, lose chan struct{}) {
	defer c.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := s.Read(buf)
		select {
		case <-lose:
			s.Close()
			return
		default:
		}
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
