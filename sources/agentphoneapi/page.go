package agentphoneapi

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// page is a list answer in any of its shapes: {data, hasMore, total},
// {items, total, offset, limit}, or a bare array (SPEC.md 5, Q10).
type page struct {
	Items   []json.RawMessage
	HasMore bool
	Total   int // -1 when not reported
}

func decodePage(body []byte, offset int) (page, error) {
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			return page{}, fmt.Errorf("%w: %v", ErrUnexpected, err)
		}
		return page{Items: items, Total: len(items)}, nil
	}
	var w struct {
		Data    []json.RawMessage `json:"data"`
		Items   []json.RawMessage `json:"items"`
		HasMore *bool             `json:"hasMore"`
		Total   *int              `json:"total"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return page{}, fmt.Errorf("%w: %v", ErrUnexpected, err)
	}
	p := page{Items: w.Data, Total: -1}
	if p.Items == nil {
		p.Items = w.Items
	}
	if w.Total != nil {
		p.Total = *w.Total
	}
	switch {
	case w.HasMore != nil:
		p.HasMore = *w.HasMore
	case w.Total != nil:
		p.HasMore = offset+len(p.Items) < *w.Total
	}
	return p, nil
}
