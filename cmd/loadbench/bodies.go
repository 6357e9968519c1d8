package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// runBodies measures the connector's peak memory while c connections each
// send a body of mb megabytes, all at once, with a declared length or
// chunked: what a body over CONNECTOR_MAX_BODY_BYTES costs before its 413.
func runBodies(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bodies", flag.ContinueOnError)
	connector := fs.String("connector", "", "path of the connector binary (required)")
	conc := fs.Int("c", 64, "connections, each sending one body")
	mb := fs.Int("mb", 50, "size of each body in megabytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *connector == "" {
		return fmt.Errorf("--connector is required")
	}
	for _, chunked := range []bool{false, true} {
		dir, err := os.MkdirTemp("", "loadbench-bodies")
		if err != nil {
			return err
		}
		t, err := startTarget(ctx, "connector", *connector, dir)
		if err != nil {
			return err
		}
		idle := t.rss()
		codes := sendBodies(t.url, *conc, *mb<<20, chunked)
		peak := t.peakRSS()
		t.stop()
		os.RemoveAll(dir)
		framing := "Content-Length"
		if chunked {
			framing = "chunked"
		}
		fmt.Printf("%d × %d MB, %s: peak RSS %.0f MiB (%.0f MiB before), answers %v\n", *conc, *mb, framing,
			float64(peak)/(1<<20), float64(idle)/(1<<20), codes)
	}
	return nil
}

// sendBodies opens c connections to url, sends each a POST of size bytes,
// written while its answer is read, and returns the answers' status codes
// (0: none).
func sendBodies(url string, c, size int, chunked bool) map[int]int {
	host := strings.TrimPrefix(strings.SplitN(url, "/webhooks", 2)[0], "http://")
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = 'x'
	}
	for range c {
		wg.Go(func() {
			code := sendBody(host, size, chunked, chunk)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return codes
}

func sendBody(host string, size int, chunked bool, chunk []byte) int {
	conn, err := net.Dial("tcp", host)
	if err != nil {
		return 0
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	head := "POST /webhooks/agentphone HTTP/1.1\r\nHost: x\r\nX-Webhook-Timestamp: 1\r\nX-Webhook-Signature: sha256=00\r\n"
	if chunked {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		head += fmt.Sprintf("Content-Length: %d\r\n\r\n", size)
	}
	go func() { // the body, until the server stops reading it
		w := bufio.NewWriter(conn)
		w.WriteString(head)
		for sent := 0; sent < size; sent += len(chunk) {
			if chunked {
				fmt.Fprintf(w, "%x\r\n", len(chunk))
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if chunked {
				w.WriteString("\r\n")
			}
		}
		if chunked {
			w.WriteString("0\r\n\r\n")
		}
		w.Flush()
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
