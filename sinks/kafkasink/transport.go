package kafkasink

import (
	"fmt"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/agentphone-connector/connector/sinks"
)

// newTransport returns the connection settings shared by the writer and the
// topic admin: TLS and SASL for managed clusters.
func newTransport(c Config) (*kafka.Transport, error) {
	t := &kafka.Transport{
		Dial:        (&net.Dialer{Timeout: c.Timeout}).DialContext,
		DialTimeout: c.Timeout,
		IdleTimeout: 30 * time.Second,
		MetadataTTL: 30 * time.Second,
		ClientID:    c.ClientID,
	}
	if c.usesTLS() {
		tc, err := sinks.TLSFiles{CA: c.TLSCA, Cert: c.TLSCert, Key: c.TLSKey}.Load()
		if err != nil {
			return nil, fmt.Errorf("kafka: %w", err)
		}
		t.TLS = tc
	}
	mech, err := mechanism(c)
	if err != nil {
		return nil, err
	}
	t.SASL = mech
	return t, nil
}

func mechanism(c Config) (sasl.Mechanism, error) {
	user, pass := c.SASLUsername, c.SASLPassword.Reveal()
	switch c.SASLMechanism {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Mechanism{Username: user, Password: pass}, nil
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		algo := scram.SHA256
		if c.SASLMechanism == "SCRAM-SHA-512" {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, user, pass)
		if err != nil {
			return nil, fmt.Errorf("kafka sasl: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("kafka sasl: unknown mechanism %q", c.SASLMechanism)
}
