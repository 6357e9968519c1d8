package natsserver

import "github.com/nats-io/nats-server/v2/server"

// Access is what the subscriber user may do: read Streams through consumers
// of its own (create, read, acknowledge, delete them), read their messages
// by sequence, and subscribe to Subjects; nothing else. It may publish to
// no stream's subjects, and so cannot forge an event or take an event ID
// before the connector does; it may not purge, delete or change a stream,
// nor touch the key-value buckets; and the connector's own consumers
// (Reserved, on every one of Streams) are not its to read from, acknowledge,
// change or delete.
type Access struct {
	Streams  []string // e.g. AGENTPHONE, AGENTPHONE_DLQ
	Subjects []string // e.g. agentphone.>, for core subscriptions
	Reserved []string // e.g. sink-kafka, transcript-discovery
}

// InboxPrefix is the prefix of the connector's reply subjects on the
// embedded server. Subscribers may subscribe to _INBOX.> only, so they do
// not see the answers the connector gets.
const InboxPrefix = "_INBOX_CONNECTOR"

// permissions returns the subscriber's permissions: a list of what it may
// publish (JetStream API requests, acknowledgements), with the connector's
// consumers taken out.
func (a Access) permissions() *server.Permissions {
	pub := []string{"$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST"}
	var deny []string
	for _, s := range a.Streams {
		pub = append(pub,
			"$JS.API.STREAM.INFO."+s,
			"$JS.API.STREAM.MSG.GET."+s,
			"$JS.API.DIRECT.GET."+s, "$JS.API.DIRECT.GET."+s+".>",
			"$JS.API.CONSUMER.CREATE."+s+".*", "$JS.API.CONSUMER.CREATE."+s+".*.>",
			"$JS.API.CONSUMER.DURABLE.CREATE."+s+".*",
			"$JS.API.CONSUMER.INFO."+s+".*",
			"$JS.API.CONSUMER.DELETE."+s+".*",
			"$JS.API.CONSUMER.MSG.NEXT."+s+".*",
			"$JS.API.CONSUMER.RESET."+s+".*",
			"$JS.API.CONSUMER.PAUSE."+s+".*",
			"$JS.API.CONSUMER.UNPIN."+s+".*",
			"$JS.ACK."+s+".>", "$JS.ACK.*.*."+s+".>", // acks, in the old and the new format
			"$JS.FC."+s+".>", "$JS.FC.*.*."+s+".>", // flow control of push consumers
		)
		for _, c := range a.Reserved {
			deny = append(deny,
				"$JS.API.CONSUMER.*."+s+"."+c, // CREATE, INFO, DELETE, RESET, PAUSE, UNPIN
				"$JS.API.CONSUMER.CREATE."+s+"."+c+".>",
				"$JS.API.CONSUMER.DURABLE.CREATE."+s+"."+c,
				"$JS.API.CONSUMER.MSG.NEXT."+s+"."+c,
				"$JS.ACK."+s+"."+c+".>", "$JS.ACK.*.*."+s+"."+c+".>",
			)
		}
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub, Deny: deny},
		Subscribe: &server.SubjectPermission{Allow: append([]string{"_INBOX.>"}, a.Subjects...)},
	}
}
