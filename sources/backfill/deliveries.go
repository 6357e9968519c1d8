package backfill

import (
	"context"
	"fmt"
	"time"

	connector "github.com/agentphone-connector/connector"
	"github.com/agentphone-connector/connector/sources/agentphoneapi"
)

// deliveriesPage takes the next page of GET /v1/webhooks/deliveries and
// journals a connector.delivery_failed record of each delivery within the
// run's range that AgentPhone gave up on. Like the calls phase, it ends
// with the list or with a page holding nothing of the range.
func (b *Backfill) deliveriesPage(ctx context.Context, cp *checkpoint) error {
	hours := int((b.now().Sub(cp.Report.Since) + time.Hour - 1) / time.Hour)
	p, err := b.d.API.Deliveries(ctx, agentphoneapi.ListDeliveries{Hours: min(max(hours, 1), 168), Limit: b.cfg.PageSize, Offset: cp.Offset})
	if err != nil {
		return err
	}
	r := &cp.Report
	inRange := 0
	for _, d := range p.Deliveries {
		if !before(d.CreatedAt, r.Since) {
			inRange++
			if d.Status == "failed" {
				res, err := b.d.Journal.Append(ctx, deliveryEvent(d, b.now()))
				if err != nil {
					return fmt.Errorf("backfill delivery %s: %w", d.ID, err)
				}
				r.Deliveries.Found++
				tally(&r.Deliveries, res)
			}
		}
		cp.Offset++
	}
	if !p.HasMore || inRange == 0 {
		return b.next(ctx, cp, phaseDone)
	}
	return b.save(ctx, cp)
}

// deliveryEvent records a failed delivery. The log names the event but
// holds no payload, so the record marks the gap: what was lost, when, and
// the answer that lost it (a 401 there means the connector's secret was
// wrong). Calls and their turns are recovered by the calls phase; a lost
// text message or reaction cannot be, as the API serves no message by ID.
func deliveryEvent(d agentphoneapi.Delivery, now time.Time) *connector.Event {
	data := connector.DeliveryFailed{
		DeliveryID: d.ID, WebhookEvent: d.EventType, MessageID: d.MessageID, Status: d.Status,
		HTTPStatus: d.HTTPStatus, ErrorMessage: d.ErrorMessage, AttemptCount: d.AttemptCount,
		LastAttemptAt: timePtr(d.LastAttemptAt), CreatedAt: timePtr(d.CreatedAt),
	}
	e := &connector.Event{
		ID: connector.DeliveryFailedEventID(d.ID), Source: SourceName, Type: connector.TypePrefix + connector.EventDeliveryFailed,
		Subject: d.ID, Time: firstTime(d.LastAttemptAt, d.CreatedAt, now), Channel: d.Channel,
		Status: connector.StatusOK, ReceivedAt: now, Raw: d.Raw,
	}
	e.DataSchema = e.Kind().Schema()
	e.Data, _ = connector.AppendJSON(nil, &data)
	return e
}
