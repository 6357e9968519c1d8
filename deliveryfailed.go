package connector

import "time"

// DeliveryFailed is the data of connector.delivery_failed: a webhook
// delivery AgentPhone marked failed in its deliveries log (SPEC.md 1.7). The
// log holds no payload, so the event records the gap rather than filling it:
// downstream can match MessageID against the messages it has, and the
// delivery's HTTP status says why the connector never took it in.
type DeliveryFailed struct {
	DeliveryID    string     `json:"delivery_id"`
	WebhookEvent  string     `json:"webhook_event,omitempty"` // the AgentPhone event name, e.g. agent.message; the channel is the envelope's
	MessageID     string     `json:"message_id,omitempty"`
	Status        string     `json:"status"`                // as the log reports it: failed
	HTTPStatus    *int       `json:"http_status,omitempty"` // the last attempt's answer, if there was one
	ErrorMessage  string     `json:"error_message,omitempty"`
	AttemptCount  int        `json:"attempt_count"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	CreatedAt     *time.Time `json:"created_at,omitempty"`
}
