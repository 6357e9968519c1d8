package journal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	connector "github.com/agentphone-connector/connector"
)

// Holds reports whether the journal holds an event of e's kind about e's
// subject (on any channel and agent): for a one-per-subject kind, whether e
// would be a duplicate. Its cost does not grow with the journal: the lookup
// is a literal subject prefix. While the journal still holds events stored
// under the previous subject layout, e is also looked up there, by its exact
// previous subject.
func (j *Journal) Holds(ctx context.Context, e *connector.Event) (bool, error) {
	filters := []string{e.SameSubjectFilter(j.cfg.SubjectPrefix)}
	if time.Now().Before(j.legacyUntil) {
		filters = append(filters, legacySubject(j.cfg.SubjectPrefix, e))
	}
	for _, f := range filters {
		_, err := j.stream.GetLastMsgForSubject(ctx, f)
		switch {
		case err == nil:
			return true, nil
		case !errors.Is(err, jetstream.ErrMsgNotFound):
			return false, fmt.Errorf("journal lookup: %w", err)
		}
	}
	return false, nil
}

// legacySubject is e's subject under the previous layout:
// prefix.<kind>.<channel>.<agent>.<subject>.
func legacySubject(prefix string, e *connector.Event) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, tok := range [...]string{e.Kind().Token, e.Channel, e.AgentID, e.Subject} {
		b.WriteByte('.')
		connector.WriteSubjectToken(&b, tok)
	}
	return b.String()
}
