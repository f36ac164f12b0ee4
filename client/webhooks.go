package client

import (
	"context"
	"iter"
	"net/http"
)

// CreateWebhook registers an endpoint that receives events (admin and
// service tokens). The answer carries its signing secret, shown only here.
func (c *Client) CreateWebhook(ctx context.Context, in NewWebhook) (Webhook, error) {
	var out Webhook
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/webhooks", body: in, out: &out})
}

// ListWebhooks lists the webhook endpoints.
func (c *Client) ListWebhooks(ctx context.Context, o ListOptions) iter.Seq2[Webhook, error] {
	return list[Webhook](ctx, c, "/v1/webhooks", o.query(nil))
}

// GetWebhook returns a webhook endpoint (without its secret).
func (c *Client) GetWebhook(ctx context.Context, id string) (Webhook, error) {
	var out Webhook
	return out, c.do(ctx, request{method: http.MethodGet, path: pathf("/v1/webhooks/%s", id), out: &out})
}

// DeleteWebhook deletes a webhook endpoint.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/webhooks/%s", id)})
}

// RotateWebhookSecret gives a webhook endpoint a new secret, shown only in
// the answer; for 24 hours deliveries are signed with both.
func (c *Client) RotateWebhookSecret(ctx context.Context, id string) (Webhook, error) {
	var out Webhook
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/webhooks/%s/rotate-secret", id), out: &out})
}

// ListWebhookDeliveries lists a webhook endpoint's deliveries, newest
// first.
func (c *Client) ListWebhookDeliveries(ctx context.Context, webhookID string, o ListOptions) iter.Seq2[Delivery, error] {
	return list[Delivery](ctx, c, pathf("/v1/webhooks/%s/deliveries", webhookID), o.query(nil))
}
