package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/agentphone-connector/connector/journal"
	"github.com/agentphone-connector/connector/sources/webhook"
)

// serveBaseline runs a bare webhook server: read the body, verify the
// signature, and (publish) one synchronous JetStream publish with
// Nats-Msg-Id, waiting for the ack, on the same embedded server and stream
// configuration the connector uses.
func serveBaseline(ctx context.Context, args []string, publish bool) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	secret := fs.String("secret", "", "webhook secret")
	dataDir := fs.String("data-dir", "", "JetStream store (publish only)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler on this address, e.g. 127.0.0.1:6060")
	if err := fs.Parse(args); err != nil {
		return err
	}
	v := webhook.NewVerifier([]webhook.Secret{webhook.Secret(*secret)}, 5*time.Minute)
	var js jetstream.JetStream
	if publish {
		var closeJS func()
		var err error
		js, closeJS, err = baselineStream(ctx, *dataDir)
		if err != nil {
			return err
		}
		defer closeJS()
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, `{"error":"body"}`, http.StatusRequestEntityTooLarge)
			return
		}
		if err := v.Verify(body, r.Header.Get("X-Webhook-Signature"), r.Header.Get("X-Webhook-Timestamp"), time.Now()); err != nil {
			http.Error(w, `{"error":"signature"}`, http.StatusUnauthorized)
			return
		}
		if js != nil {
			msg := &nats.Msg{Subject: r.Header.Get(benchSubjectHeader), Data: body}
			if _, err := js.PublishMsg(r.Context(), msg, jetstream.WithMsgID(r.Header.Get("X-Webhook-ID"))); err != nil {
				http.Error(w, `{"error":"journal"}`, http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	})
	if *pprofAddr != "" {
		go http.ListenAndServe(*pprofAddr, nil) // net/http/pprof registers on the default mux
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("ready %s\n", ln.Addr())
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func baselineStream(ctx context.Context, dir string) (jetstream.JetStream, func(), error) {
	st, err := openStore(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(st.nc)
	if err == nil {
		_, err = js.CreateOrUpdateStream(ctx, journal.StreamConfig(benchJournal()))
	}
	if err != nil {
		st.close()
		return nil, nil, err
	}
	return js, st.close, nil
}
