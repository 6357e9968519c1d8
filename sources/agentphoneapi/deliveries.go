package agentphoneapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Delivery is one entry of the webhook deliveries log (SPEC.md 1.7). It
// names the event but does not hold its payload.
type Delivery struct {
	ID            string
	MessageID     string
	EventType     string // e.g. agent.message
	Channel       string
	Status        string // success, failed or pending
	HTTPStatus    *int
	ErrorMessage  string
	AttemptCount  int
	LastAttemptAt time.Time
	CreatedAt     time.Time
	Raw           json.RawMessage
}

// DeliveryPage is one page of the deliveries log.
type DeliveryPage struct {
	Deliveries []Delivery
	HasMore    bool
	Total      int // -1 when the answer does not say
}

// ListDeliveries asks for a page of the deliveries log: newest first.
type ListDeliveries struct {
	Hours  int // only the last Hours hours, 1 to 168; 0 for the API's default
	Limit  int // 1 to 100; 0 is the API's default (50)
	Offset int
}

// Deliveries returns one page of GET /v1/webhooks/deliveries.
func (c *Client) Deliveries(ctx context.Context, q ListDeliveries) (DeliveryPage, error) {
	v := url.Values{}
	for name, n := range map[string]int{"hours": q.Hours, "limit": q.Limit, "offset": q.Offset} {
		if n > 0 {
			v.Set(name, strconv.Itoa(n))
		}
	}
	body, err := c.get(ctx, "/v1/webhooks/deliveries", v)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("list deliveries: %w", err)
	}
	p, err := decodePage(body, q.Offset)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("list deliveries: %w", err)
	}
	if p.Total < 0 && !p.HasMore {
		p.HasMore = q.Limit > 0 && len(p.Items) == q.Limit
	}
	out := DeliveryPage{HasMore: p.HasMore, Total: p.Total}
	for _, raw := range p.Items {
		var w struct {
			ID, MessageID, EventType, Event, Channel, Status, ErrorMessage, LastAttemptAt, CreatedAt *string
			HTTPStatus, StatusCode                                                                   *int
			AttemptCount                                                                             int
			Success                                                                                  *bool
		}
		if err := json.Unmarshal(raw, &w); err != nil || str(w.ID) == "" {
			return DeliveryPage{}, fmt.Errorf("list deliveries: %w: an entry without an id: %.200s", ErrUnexpected, raw)
		}
		d := Delivery{ID: *w.ID, MessageID: str(w.MessageID), EventType: str(w.EventType), Channel: str(w.Channel),
			Status: str(w.Status), HTTPStatus: w.HTTPStatus, ErrorMessage: str(w.ErrorMessage), AttemptCount: w.AttemptCount,
			LastAttemptAt: parseTime(str(w.LastAttemptAt)), CreatedAt: parseTime(str(w.CreatedAt)), Raw: raw}
		if d.EventType == "" {
			d.EventType = str(w.Event) // the MCP client's shape
		}
		if d.HTTPStatus == nil {
			d.HTTPStatus = w.StatusCode
		}
		if d.Status == "" && w.Success != nil {
			d.Status = map[bool]string{true: "success", false: "failed"}[*w.Success]
		}
		out.Deliveries = append(out.Deliveries, d)
	}
	return out, nil
}
