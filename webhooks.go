package roster

import (
	"context"
	"encoding/json"
	"time"
)

// Webhook and delivery id prefixes.
const (
	PrefixWebhook  = "whk_"
	PrefixDelivery = "dlv_"
)

// Webhook is an endpoint of the host application that receives events.
type Webhook struct {
	ID          string
	URL         string
	EventTypes  []string // empty: every type
	Description string
	// Secret signs deliveries; Previous signs them too until PreviousUntil,
	// so that a receiver can switch secrets without missing one.
	Secret         string
	PreviousSecret string
	PreviousUntil  *time.Time
	// FailingSince is when deliveries began to fail without a success
	// since; an endpoint failing for WebhookDisableAfter is disabled.
	FailingSince *time.Time
	DisabledAt   *time.Time
	// CreatedEvent is the webhook.created event: the endpoint receives
	// the events that follow it in the log.
	CreatedEvent string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DeletedAt    *time.Time
}

// WebhookDisableAfter is how long an endpoint may fail before it is disabled.
const WebhookDisableAfter = 5 * 24 * time.Hour

// Wants reports whether the endpoint takes events of type t.
func (w Webhook) Wants(t string) bool {
	if w.DisabledAt != nil || w.DeletedAt != nil {
		return false
	}
	if len(w.EventTypes) == 0 {
		return true
	}
	for _, want := range w.EventTypes {
		if want == t {
			return true
		}
	}
	return false
}

// DeliveryStatus is where a delivery of one event to one endpoint stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// DeliveryStatuses lists every delivery status.
var DeliveryStatuses = []DeliveryStatus{DeliveryPending, DeliverySucceeded, DeliveryFailed}

// Delivery is the delivery of one event to one endpoint, as the log shows
// it after its latest attempt.
type Delivery struct {
	ID             string
	WebhookID      string
	EventID        string
	EventType      string
	Attempt        int
	Status         DeliveryStatus
	ResponseStatus *int
	ResponseBody   string // the first KiB
	Error          string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	NextAttemptAt  *time.Time
}

// NewWebhook is the input of CreateWebhook.
type NewWebhook struct {
	URL         string
	EventTypes  []string
	Description string
}

// NewCallback is the input of CreateCallback: at RunAt, a callback.due
// event carrying Payload goes to the endpoint WebhookID, or to every
// endpoint taking callback.due.
type NewCallback struct {
	RunAt     time.Time
	Payload   json.RawMessage
	WebhookID *string
}

// WebhookStore reads endpoints and their deliveries.
type WebhookStore interface {
	// ListWebhooks lists live endpoints by id.
	ListWebhooks(ctx context.Context, p Page) ([]Webhook, error)
	GetWebhook(ctx context.Context, id string) (Webhook, error)
	// ListDeliveries lists an endpoint's deliveries newest first.
	ListDeliveries(ctx context.Context, webhookID string, p Page) ([]Delivery, error)
	GetDelivery(ctx context.Context, id string) (Delivery, error)
}

// WebhookWriter changes endpoints and deliveries in a transaction.
type WebhookWriter interface {
	CreateWebhook(ctx context.Context, w Webhook) error
	UpdateWebhook(ctx context.Context, w Webhook) error
	CreateDelivery(ctx context.Context, d Delivery) error
	UpdateDelivery(ctx context.Context, d Delivery) error
	// LockDispatch takes the event dispatcher's place in the log for this
	// transaction; ok is false when another replica holds it.
	LockDispatch(ctx context.Context) (cur EventCursor, ok bool, err error)
	SetDispatch(ctx context.Context, cur EventCursor) error
}
