package client

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"strconv"
)

// page is one page of a list answer.
type page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// ListOptions bound a list: Limit is the page size (default 50, at most
// 500); the iterator fetches pages until the list ends or the loop stops.
type ListOptions struct {
	Limit int
}

func (o ListOptions) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q
}

// list iterates over every item of a list, following its cursors. An
// error ends the iteration, yielded with the zero item.
func list[T any](ctx context.Context, c *Client, path string, q url.Values) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := ""
		for {
			pq := maps.Clone(q)
			if pq == nil {
				pq = url.Values{}
			}
			if cursor != "" {
				pq.Set("cursor", cursor)
			}
			var p page[T]
			if err := c.do(ctx, request{method: http.MethodGet, path: path, query: pq, out: &p}); err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			if p.NextCursor == "" || len(p.Data) == 0 {
				return
			}
			if p.NextCursor == cursor {
				var zero T
				yield(zero, fmt.Errorf("roster: GET %s: the next page's cursor is the page's own", path))
				return
			}
			cursor = p.NextCursor
		}
	}
}

// Collect gathers what an iterator yields, stopping at its first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for item, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, item)
	}
	return out, nil
}
