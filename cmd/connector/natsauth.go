package main

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/natsserver"
	"github.com/agentphone-connector/connector/sinks"
	"github.com/agentphone-connector/connector/sinks/bigquerysink"
	"github.com/agentphone-connector/connector/sinks/kafkasink"
	"github.com/agentphone-connector/connector/sinks/natssink"
	"github.com/agentphone-connector/connector/sources/transcript"
)

// natsAuth returns the options that authenticate to the journal's NATS:
// NATS_CREDS, or NATS_USER and NATS_PASSWORD, when set; otherwise, on this
// host's embedded server, the password file of user in the data directory
// (empty user: none).
func natsAuth(cfg Config, user string) ([]nats.Option, error) {
	switch {
	case cfg.NATSCreds != "":
		return []nats.Option{nats.UserCredentials(cfg.NATSCreds)}, nil
	case cfg.NATSUser != "":
		return []nats.Option{nats.UserInfo(cfg.NATSUser, string(cfg.NATSPassword))}, nil
	case !cfg.Embedded() || user == "":
		return nil, nil
	}
	opt, err := natsserver.UserOption(cfg.DataDir, user)
	if err != nil {
		return nil, fmt.Errorf("%w (as the connector's user, with CONNECTOR_DATA_DIR; or set NATS_USER and NATS_PASSWORD)", err)
	}
	return []nats.Option{opt}, nil
}

// validateNATSAuth reports settings of the NATS credentials that do not go
// together.
func (c Config) validateNATSAuth() error {
	var errs []error
	if c.NATSUser != "" && c.NATSCreds != "" {
		errs = append(errs, connector.Invalid("NATS_USER, NATS_CREDS", "set one or the other, not both"))
	}
	if (c.NATSUser == "") != (c.NATSPassword == "") {
		errs = append(errs, connector.Invalid("NATS_PASSWORD, NATS_USER", "set both or neither"))
	}
	return errors.Join(errs...)
}

// natsAccess is what the embedded server lets subscribers read: the journal
// and the dead letters, but none of the consumers the connector reads them
// through.
func natsAccess(c Config) natsserver.Access {
	return natsserver.Access{
		Streams:  []string{c.Journal.Stream, c.Sinks.DeadLetter.Stream},
		Subjects: []string{c.Journal.SubjectPrefix + ".>", c.Sinks.DeadLetter.SubjectPrefix + ".>"},
		Reserved: []string{sinks.ConsumerName(kafkasink.Name), sinks.ConsumerName(natssink.Name), sinks.ConsumerName(bigquerysink.Name), transcript.ConsumerName},
	}
}
