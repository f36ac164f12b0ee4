package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
)

type deliveryStatus string

func (deliveryStatus) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.DeliveryStatuses) }

// Webhook is an endpoint that receives events.
type Webhook struct {
	ID          string     `json:"id" example:"whk_06h4..."`
	URL         string     `json:"url"`
	EventTypes  []string   `json:"event_types" doc:"The event types it receives; empty: all"`
	Description string     `json:"description"`
	Secret      *string    `json:"secret,omitempty" doc:"whsec_…: shown once, when created or rotated"`
	Disabled    bool       `json:"disabled" doc:"Disabled after failing for 5 days in a row"`
	DisabledAt  *time.Time `json:"disabled_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

func toWebhook(w roster.Webhook) Webhook {
	return Webhook{ID: w.ID, URL: w.URL, EventTypes: w.EventTypes, Description: w.Description, Disabled: w.DisabledAt != nil,
		DisabledAt: w.DisabledAt, CreatedAt: w.CreatedAt}
}

// withSecret is the endpoint as its creator or rotator sees it, once.
func withSecret(w roster.Webhook) Webhook {
	out := toWebhook(w)
	out.Secret = &w.Secret
	return out
}

type createWebhookInput = struct {
	Body struct {
		URL         string   `json:"url" maxLength:"2048" doc:"http or https"`
		EventTypes  []string `json:"event_types,omitempty" maxItems:"100" doc:"Event types to receive; all when absent or empty"`
		Description string   `json:"description,omitempty" maxLength:"500"`
	}
}

type webhookOutput struct{ Body Webhook }

func (s *Server) createWebhook(ctx context.Context, in *createWebhookInput) (*webhookOutput, error) {
	w, err := s.svc.CreateWebhook(ctx, roster.NewWebhook{URL: in.Body.URL, EventTypes: in.Body.EventTypes, Description: in.Body.Description})
	if err != nil {
		return nil, err
	}
	return &webhookOutput{Body: withSecret(w)}, nil
}

type listWebhooksInput struct{ PageParams }

func (s *Server) listWebhooks(ctx context.Context, _ *listWebhooksInput, p roster.Page) ([]roster.Webhook, string, error) {
	return s.svc.ListWebhooks(ctx, p)
}

type webhookIDInput struct {
	ID string `path:"id" doc:"Webhook id"`
}

func (s *Server) getWebhook(ctx context.Context, in *webhookIDInput) (*webhookOutput, error) {
	w, err := s.svc.GetWebhook(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &webhookOutput{Body: toWebhook(w)}, nil
}

func (s *Server) deleteWebhook(ctx context.Context, in *webhookIDInput) (*struct{}, error) {
	return nil, s.svc.DeleteWebhook(ctx, in.ID)
}

func (s *Server) rotateWebhookSecret(ctx context.Context, in *webhookIDInput) (*webhookOutput, error) {
	w, err := s.svc.RotateWebhookSecret(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &webhookOutput{Body: withSecret(w)}, nil
}

// Delivery is one event's delivery to one endpoint, after its latest attempt.
type Delivery struct {
	ID             string         `json:"id"`
	EventID        string         `json:"event_id"`
	EventType      string         `json:"event_type"`
	Attempt        int            `json:"attempt" doc:"Attempts made so far"`
	Status         deliveryStatus `json:"status"`
	ResponseStatus *int           `json:"response_status"`
	ResponseBody   string         `json:"response_body" doc:"The first KiB of the endpoint's last answer"`
	Error          *string        `json:"error"`
	CreatedAt      time.Time      `json:"created_at"`
	NextAttemptAt  *time.Time     `json:"next_attempt_at"`
}

func toDelivery(d roster.Delivery) Delivery {
	return Delivery{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Attempt: d.Attempt, Status: deliveryStatus(d.Status),
		ResponseStatus: d.ResponseStatus, ResponseBody: d.ResponseBody, Error: optionalString(d.Error), CreatedAt: d.CreatedAt,
		NextAttemptAt: d.NextAttemptAt}
}

type listDeliveriesInput struct {
	PageParams
	ID string `path:"id" doc:"Webhook id"`
}

func (s *Server) listDeliveries(ctx context.Context, in *listDeliveriesInput, p roster.Page) ([]roster.Delivery, string, error) {
	return s.svc.ListDeliveries(ctx, in.ID, p)
}

type createCallbackInput = struct {
	Body struct {
		RunAt     time.Time       `json:"run_at" doc:"When to deliver callback.due; a time past runs at once, at most a year ahead"`
		Payload   json.RawMessage `json:"payload,omitempty" doc:"Any JSON, up to 64 KiB, carried by the event"`
		WebhookID *string         `json:"webhook_id,omitempty" doc:"Deliver to this endpoint only; otherwise to every endpoint taking callback.due"`
	}
}

func (s *Server) createCallback(ctx context.Context, in *createCallbackInput) (*taskOutput, error) {
	return taskResult(s.svc.CreateCallback(ctx, roster.NewCallback{RunAt: in.Body.RunAt, Payload: in.Body.Payload, WebhookID: in.Body.WebhookID}))
}
