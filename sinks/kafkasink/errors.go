package kafkasink

import (
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"

	connector "github.com/agentphone-connector/connector"
)

// Errors the sink reports for events it did not write.
var (
	// ErrTooLarge: the event is larger than CONNECTOR_KAFKA_BATCH_BYTES, or
	// than the broker takes; it is dead-lettered.
	ErrTooLarge = errors.New("kafkasink: message too large")
	// ErrNotAttempted: an earlier request of the same topic failed, so the
	// event was held back to keep order; it is retried with the failed ones.
	ErrNotAttempted = errors.New("kafkasink: not attempted, an earlier write of the topic failed")
)

// permanentCodes are the broker answers no retry can change for the
// message: too large, a bad topic, a refused authorization. A missing topic
// joins them when the sink does not create topics.
var permanentCodes = []kafka.Error{
	kafka.MessageSizeTooLarge, kafka.RecordListTooLarge, kafka.InvalidTopic, kafka.InvalidRecord,
	kafka.TopicAuthorizationFailed, kafka.ClusterAuthorizationFailed, kafka.PolicyViolation,
	kafka.InvalidTimestamp,
}

// classify marks err Permanent when the target will never accept the
// message. Authentication failures (bad SASL credentials) stay transient:
// every event would fail alike, so the sink retries until the operator
// fixes the configuration, and nothing is dead-lettered for it.
func classify(err error, createTopics bool) error {
	if err == nil {
		return nil
	}
	for _, code := range permanentCodes {
		if errors.Is(err, code) {
			return connector.Permanent(fmt.Errorf("kafka write: %w", err))
		}
	}
	if !createTopics && errors.Is(err, kafka.UnknownTopicOrPartition) {
		return connector.Permanent(fmt.Errorf("kafka write: topic does not exist and CONNECTOR_KAFKA_CREATE_TOPICS is off: %w", err))
	}
	return fmt.Errorf("kafka write: %w", err)
}

// isTooLarge reports a broker refusing a request for its size.
func isTooLarge(err error) bool {
	return errors.Is(err, kafka.MessageSizeTooLarge) || errors.Is(err, kafka.RecordListTooLarge)
}
