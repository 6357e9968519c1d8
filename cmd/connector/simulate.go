package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/agentphone-connector/connector/simulate"
	"github.com/agentphone-connector/connector/sources/webhook"
)

// runSimulate sends a simulated day of AgentPhone traffic to a running
// connector, signed with the secret the connector reads
// (AGENTPHONE_WEBHOOK_SECRET), at the URL its CONNECTOR_HTTP_ADDR gives
// unless --url says otherwise. It fails at once when nothing listens
// there, and after the run when a delivery was answered other than
// expected or failed after every retry. With --serve it also serves the
// account's REST API and transcript stream until interrupted.
func runSimulate(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o simulate.Options
	fs.StringVar(&o.URL, "url", "", "the connector's webhook URL (default http://<CONNECTOR_HTTP_ADDR on loopback>/webhooks/agentphone)")
	fs.IntVar(&o.Calls, "calls", 40, "calls placed during the day")
	fs.IntVar(&o.Messages, "messages", 120, "inbound messages during the day (sms, mms, imessage, whatsapp)")
	fs.IntVar(&o.Live, "live", 0, "calls played live, turn by turn, during the run (default 3 with --serve)")
	fs.Float64Var(&o.Rate, "rate", 100, "webhooks started per second (0: as fast as the connector answers)")
	fs.Float64Var(&o.Duplicates, "duplicates", 0.05, "fraction of webhooks delivered twice with the same X-Webhook-ID")
	fs.Float64Var(&o.Stale, "stale", 0, "fraction signed with a ten-minute-old timestamp (the connector must answer 401)")
	fs.Float64Var(&o.WrongSecret, "wrong-secret", 0, "fraction signed with a wrong secret (the connector must answer 401)")
	fs.IntVar(&o.OutOfOrder, "out-of-order", 0, "shuffle webhooks within windows of this many")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed of the traffic; 0 picks one (printed, to run the same day again)")
	day := fs.String("day", "", "the day the traffic happens, YYYY-MM-DD (default yesterday, UTC)")
	fs.Float64Var(&o.TimeScale, "time-scale", simulate.DefaultTimeScale, "multiplies AgentPhone's retry delays (1 is real time)")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "how long each attempt waits for the connector's answer")
	fs.DurationVar(&o.TurnInterval, "turn-interval", 500*time.Millisecond, "time between the turns of a live call")
	fs.StringVar(&o.Serve, "serve", "", "also serve the REST API and transcript stream on this address (e.g. 127.0.0.1:8081) until interrupted")
	fs.StringVar(&o.APIKey, "api-key", "", "API key the served endpoints accept (default $AGENTPHONE_API_KEY, else "+simulate.DefaultAPIKey+")")
	fs.DurationVar(&o.Progress, "progress", time.Second, "how often to print how far the run has got; 0 for never")
	const usageLine = "simulate [--url URL] [--calls N] [--messages N] [--rate R] [--duplicates F] [--seed N] [--serve ADDR] …"
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %s", errUsage, usageLine)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s", errUsage, usageLine)
	}
	via, err := simulateDefaults(fs, &o, *day, env)
	if err != nil {
		return err
	}
	sim, err := simulate.New(o)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = sim.Close(closeCtx)
	}()
	if err := probe(ctx, o.URL); err != nil {
		return unreachable("the connector", o.URL, via+"; is `connector serve` running?", err)
	}
	rep, err := sim.Run(ctx, stdout)
	if err == nil {
		err = rep.Check()
	}
	if err != nil {
		return err
	}
	if o.Serve != "" {
		fmt.Fprintf(stdout, "still serving on %s; Ctrl-C to stop\n", sim.URL())
		<-ctx.Done()
	}
	return nil
}

// simulateDefaults fills what the flags leave to the environment, and
// says where the webhook URL comes from.
func simulateDefaults(fs *flag.FlagSet, o *simulate.Options, day string, env envconfig.Lookuper) (via string, err error) {
	secrets, _ := env.Lookup("AGENTPHONE_WEBHOOK_SECRET")
	o.Secret, _, _ = strings.Cut(secrets, ",") // the first, as the connector verifies with any of them
	o.Secret = strings.TrimSpace(o.Secret)
	if o.Secret == "" {
		return "", errors.New("simulate signs webhooks with AGENTPHONE_WEBHOOK_SECRET: set it to the connector's secret")
	}
	via = "simulate --url"
	if o.URL == "" {
		addr, ok := env.Lookup("CONNECTOR_HTTP_ADDR")
		if !ok || addr == "" {
			addr = ":8080"
		}
		o.URL, via = "http://"+loopback(addr)+webhook.PathPrefix, "CONNECTOR_HTTP_ADDR"
	}
	if o.APIKey == "" {
		o.APIKey, _ = env.Lookup("AGENTPHONE_API_KEY")
	}
	if day != "" {
		d, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return "", fmt.Errorf("%w: --day %q is not YYYY-MM-DD", errUsage, day)
		}
		o.Day = d
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	live := false
	fs.Visit(func(f *flag.Flag) { live = live || f.Name == "live" })
	if o.Serve != "" && !live {
		o.Live = 3
	}
	return via, nil
}
