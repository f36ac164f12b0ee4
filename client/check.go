package client

import (
	"context"
	"net/http"
)

// MaxCheckBatch is the most checks one CheckBatch call takes.
const MaxCheckBatch = 1000

// Check asks whether a user may take an action on a target. A denial is
// not an error: it is a Decision with Allowed false and a Reason.
func (c *Client) Check(ctx context.Context, in CheckRequest) (Decision, error) {
	var out Decision
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/check", body: in, out: &out})
}

// CheckBatch decides up to MaxCheckBatch checks, answering in order.
func (c *Client) CheckBatch(ctx context.Context, checks []CheckRequest) ([]Decision, error) {
	var out struct {
		Results []Decision `json:"results"`
	}
	err := c.do(ctx, request{method: http.MethodPost, path: "/v1/check/batch", body: map[string]any{"checks": checks}, out: &out})
	return out.Results, err
}
