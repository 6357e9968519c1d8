package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/agentphone-connector/connector/sinks/bigquerysink"
	"github.com/agentphone-connector/connector/sinks/bigquerysink/bqwritetest"
	"github.com/agentphone-connector/connector/sinks/kafkasink"
)

// The targets of the connector's three sinks, in this process unless a
// Kafka broker is given: kfake, a NATS server with a JetStream stream, and
// the in-process Storage Write server.
const (
	latencyTopic   = "agentphone.latency"
	latencyStream  = "EVENTS"
	latencyProject = "latency"
	latencyDataset = "agentphone"
)

// sinkTargets are the three targets of one measurement, and what reads
// them back: each event's arrival, by target and event ID.
type sinkTargets struct {
	brokers []string
	topic   string
	kafka   *kfake.Cluster // nil when a broker was given
	nats    *server.Server
	bq      *bqwritetest.Server
	bqAddr  string
	dir     string // the NATS target's store

	readers   []func() // stop the readers
	mu        sync.Mutex
	arrivals  map[string]map[string]time.Time // target → event ID → when it was readable
	prefilled map[string]int                  // target → prefilled events arrived, counted only
}

// startSinkTargets starts the targets (on brokers when given, with a topic
// of the run's own) and the readers that note when each event arrives.
func startSinkTargets(ctx context.Context, brokers, run string) (*sinkTargets, error) {
	s := &sinkTargets{topic: latencyTopic, arrivals: map[string]map[string]time.Time{"kafka": {}, "nats": {}, "bigquery": {}}, prefilled: map[string]int{}}
	if brokers != "" {
		s.brokers, s.topic = strings.Split(brokers, ","), latencyTopic+"."+run
	} else {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, latencyTopic))
		if err != nil {
			return nil, fmt.Errorf("kfake: %w", err)
		}
		s.kafka, s.brokers = c, c.ListenAddrs()
	}
	err := s.startNATS(ctx)
	if err == nil {
		err = s.startBigQuery()
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// env is the connector's configuration for the three sinks.
func (s *sinkTargets) env() []string {
	return []string{
		"CONNECTOR_KAFKA_BROKERS=" + strings.Join(s.brokers, ","), "CONNECTOR_KAFKA_TOPIC=" + s.topic, "CONNECTOR_KAFKA_CREATE_TOPICS=true",
		"CONNECTOR_NATS_SINK_URL=" + s.nats.ClientURL(), "CONNECTOR_NATS_SINK_STREAM=" + latencyStream,
		"CONNECTOR_BIGQUERY_PROJECT=" + latencyProject, "CONNECTOR_BIGQUERY_DATASET=" + latencyDataset,
		"CONNECTOR_BIGQUERY_STORAGE_ENDPOINT=" + s.bqAddr, "CONNECTOR_BIGQUERY_MANAGE_SCHEMA=false",
	}
}

// arrived notes that the event id was readable in target at t; the first
// arrival counts. A prefilled event is only counted: a million of them
// would take the memory the measurement runs in.
func (s *sinkTargets) arrived(target, id string, t time.Time) {
	s.mu.Lock()
	if strings.HasPrefix(id, prefilledIDs) {
		s.prefilled[target]++
	} else if _, ok := s.arrivals[target][id]; !ok {
		s.arrivals[target][id] = t
	}
	s.mu.Unlock()
}

// prefilledIDs begins the IDs of the events prefill journals.
const prefilledIDs = "whd_pre_"

// waitPrefilled waits (at most wait) until every target holds the n
// prefilled events: the sinks have caught up with the journal's history.
func (s *sinkTargets) waitPrefilled(ctx context.Context, n int, wait time.Duration) error {
	if n == 0 {
		return nil
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "waiting for the sinks to deliver the %d prefilled events...\n", n)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		behind := map[string]int{}
		for _, target := range latencyTargets {
			if got := s.prefilled[target]; got < n {
				behind[target] = n - got
			}
		}
		s.mu.Unlock()
		if len(behind) == 0 {
			fmt.Fprintf(os.Stderr, "delivered in %v\n", time.Since(start).Round(time.Second))
			return nil
		}
		if time.Since(start) > wait {
			return fmt.Errorf("the sinks did not deliver the prefilled events within %v: still missing %v", wait, behind)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// arrival returns when the event id was readable in target.
func (s *sinkTargets) arrival(target, id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.arrivals[target][id]
	return t, ok
}

// startNATS starts the NATS target with its stream, and a reader of it.
func (s *sinkTargets) startNATS(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "natstarget")
	if err != nil {
		return err
	}
	s.dir = dir
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true})
	if err != nil {
		return fmt.Errorf("nats target: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		return fmt.Errorf("nats target: not ready")
	}
	s.nats = ns
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		return fmt.Errorf("nats target: %w", err)
	}
	s.readers = append(s.readers, nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("nats target: %w", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: latencyStream, Subjects: []string{"agentphone.>"}, Storage: jetstream.FileStorage}); err != nil {
		return fmt.Errorf("nats target: %w", err)
	}
	c, err := js.OrderedConsumer(ctx, latencyStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fmt.Errorf("nats target: %w", err)
	}
	cc, err := c.Consume(func(m jetstream.Msg) { s.arrived("nats", m.Headers().Get(jetstream.MsgIDHeader), time.Now()) })
	if err != nil {
		return fmt.Errorf("nats target: %w", err)
	}
	s.readers = append(s.readers, cc.Stop)
	return nil
}

// startBigQuery starts the Storage Write server with the sink's tables and
// watches the events table.
func (s *sinkTargets) startBigQuery() error {
	s.bq = bqwritetest.New()
	s.bq.SetRowMode(bqwritetest.CheckRows) // checked as BigQuery does, none kept
	tables, err := bigquerysink.Tables()
	if err != nil {
		return err
	}
	for _, t := range tables {
		ts, err := t.StorageSchema()
		if err != nil {
			return err
		}
		s.bq.AddTable(latencyProject, latencyDataset, t.Name, ts)
	}
	events := bqwritetest.TablePath(latencyProject, latencyDataset, bigquerysink.TableEvents)
	s.bq.Watch(func(table string, rows []map[string]any) {
		if table != events {
			return
		}
		now := time.Now()
		for _, r := range rows {
			id, _ := r["event_id"].(string)
			s.arrived("bigquery", id, now)
		}
	})
	if s.bqAddr, err = s.bq.Start("127.0.0.1:0"); err != nil {
		return fmt.Errorf("bigquery target: %w", err)
	}
	return nil
}

// readKafka reads the topic from its start until ctx ends, noting each
// record's arrival by its ce_id; the connector creates the topic.
func (s *sinkTargets) readKafka(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.brokers...), kgo.ConsumeTopics(s.topic), kgo.FetchMaxWait(time.Second),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return fmt.Errorf("kafka reader: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	s.readers = append(s.readers, func() { cancel(); <-done; cl.Close() })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			now := time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				for _, h := range r.Headers {
					if h.Key == kafkasink.HeaderID {
						s.arrived("kafka", string(h.Value), now)
					}
				}
			})
		}
	}()
	return nil
}

// close stops the readers and the targets.
func (s *sinkTargets) close() {
	for i := len(s.readers) - 1; i >= 0; i-- {
		s.readers[i]()
	}
	if s.bq != nil {
		s.bq.Stop()
	}
	if s.nats != nil {
		s.nats.Shutdown()
		s.nats.WaitForShutdown()
	}
	if s.kafka != nil {
		s.kafka.Close()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
