package agentphonetest

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// deliveryItem is a WebhookDeliveryResponse (SPEC.md 1.7).
type deliveryItem struct {
	ID            string  `json:"id"`
	MessageID     *string `json:"messageId"`
	EventType     *string `json:"eventType"`
	Channel       *string `json:"channel"`
	Status        string  `json:"status"`
	HTTPStatus    *int    `json:"httpStatus"`
	ErrorMessage  *string `json:"errorMessage"`
	ResponseBody  *string `json:"responseBody"`
	AttemptCount  int     `json:"attemptCount"`
	LastAttemptAt *string `json:"lastAttemptAt"`
	NextRetryAt   *string `json:"nextRetryAt"`
	CreatedAt     string  `json:"createdAt"`
}

type deliveryPage struct {
	Items  []deliveryItem `json:"items"`
	Total  int            `json:"total"`
	Offset int            `json:"offset"`
	Limit  int            `json:"limit"`
}

func itemOf(r DeliveryRecord) deliveryItem {
	it := deliveryItem{ID: r.ID, MessageID: nullable(r.Event.MessageID), EventType: nullable(r.Event.Name),
		Channel: nullable(r.Event.Channel), Status: string(r.State), AttemptCount: len(r.Attempts), CreatedAt: isoTime(r.CreatedAt)}
	if n := len(r.Attempts); n > 0 {
		a := r.Attempts[n-1]
		it.LastAttemptAt = nullable(isoTime(a.At))
		if a.StatusCode != 0 {
			it.HTTPStatus, it.ResponseBody = ptr(a.StatusCode), ptr(a.ResponseBody)
		}
		switch {
		case a.Err != "":
			it.ErrorMessage = ptr(a.Err)
		case !a.succeeded():
			it.ErrorMessage = ptr("HTTP " + strconv.Itoa(a.StatusCode))
		}
	}
	if !r.NextRetryAt.IsZero() {
		it.NextRetryAt = nullable(isoTime(r.NextRetryAt))
	}
	return it
}

// GET /v1/webhooks/deliveries: newest first; limit (default 50, at most 100),
// offset, and hours (1 to 168) to keep only the recent ones.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := params{v: r.URL.Query()}
	limit, offset, hours := q.intIn("limit", 50, 1, 100), q.intIn("offset", 0, 0, 1<<31-1), q.intIn("hours", 0, 1, 168)
	if len(q.errs) > 0 {
		s.writeError(w, errValidation(q.errs))
		return
	}
	all := s.Deliveries()
	slices.Reverse(all)
	slices.SortStableFunc(all, func(a, b DeliveryRecord) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if hours > 0 {
		since := s.clock.Now().Add(-time.Duration(hours) * time.Hour)
		all = slices.DeleteFunc(all, func(d DeliveryRecord) bool { return d.CreatedAt.Before(since) })
	}
	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	out := deliveryPage{Items: []deliveryItem{}, Total: len(all), Offset: offset, Limit: limit}
	for _, d := range page {
		out.Items = append(out.Items, itemOf(d))
	}
	writeJSON(w, http.StatusOK, out)
}
