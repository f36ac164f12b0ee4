package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestWebhooksAndDeliveries: endpoints and their delivery log round-trip;
// deleted endpoints are gone; deliveries list newest first.
func TestWebhooksAndDeliveries(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		created := auditAt("webhook.created", t0)
		w := roster.Webhook{ID: roster.NewID(roster.PrefixWebhook), URL: "https://example.com/hook", EventTypes: []string{"org.created"},
			Description: "ours", Secret: "whsec_a", CreatedEvent: created.ID, CreatedAt: t0, UpdatedAt: t0}
		all := w
		all.ID, all.EventTypes = roster.NewID(roster.PrefixWebhook), nil
		write(t, db, func(tx roster.Tx) error {
			if err := tx.InsertAudit(ctx, created); err != nil {
				return err
			}
			if err := tx.CreateWebhook(ctx, w); err != nil {
				return err
			}
			return tx.CreateWebhook(ctx, all)
		})
		got, err := db.GetWebhook(ctx, w.ID)
		if err != nil || got.URL != w.URL || !slices.Equal(got.EventTypes, w.EventTypes) || got.Secret != "whsec_a" || got.CreatedEvent != created.ID {
			t.Fatalf("get: %+v %v", got, err)
		}
		if g, _ := db.GetWebhook(ctx, all.ID); g.EventTypes == nil || len(g.EventTypes) != 0 {
			t.Errorf("no types reads back as an empty list: %#v", g.EventTypes)
		}
		until := t0.Add(24 * time.Hour)
		got.PreviousSecret, got.PreviousUntil, got.Secret, got.FailingSince = "whsec_a", &until, "whsec_b", &t0
		write(t, db, func(tx roster.Tx) error { return tx.UpdateWebhook(ctx, got) })
		if g, _ := db.GetWebhook(ctx, w.ID); g.Secret != "whsec_b" || g.PreviousSecret != "whsec_a" || !g.PreviousUntil.Equal(until) || g.FailingSince == nil {
			t.Errorf("updated: %+v", g)
		}
		ev, err := db.GetEvent(ctx, created.ID)
		if err != nil || ev.Action != "webhook.created" {
			t.Errorf("the creating event: %+v %v", ev, err)
		}

		d1 := roster.Delivery{ID: roster.NewID(roster.PrefixDelivery), WebhookID: w.ID, EventID: created.ID, EventType: "webhook.created",
			Status: roster.DeliveryPending, CreatedAt: t0, UpdatedAt: t0, NextAttemptAt: &t0}
		d2 := d1
		d2.ID = roster.NewID(roster.PrefixDelivery)
		write(t, db, func(tx roster.Tx) error {
			if err := tx.CreateDelivery(ctx, d1); err != nil {
				return err
			}
			return tx.CreateDelivery(ctx, d2)
		})
		status := 500
		d1.Attempt, d1.Status, d1.ResponseStatus, d1.ResponseBody, d1.Error, d1.NextAttemptAt = 1, roster.DeliveryFailed, &status, "oops", "the endpoint answered 500", nil
		write(t, db, func(tx roster.Tx) error { return tx.UpdateDelivery(ctx, d1) })
		if g, err := db.GetDelivery(ctx, d1.ID); err != nil || g.Status != roster.DeliveryFailed || *g.ResponseStatus != 500 || g.NextAttemptAt != nil || g.Attempt != 1 {
			t.Errorf("delivery: %+v %v", g, err)
		}
		ds, err := db.ListDeliveries(ctx, w.ID, roster.Page{Limit: 10})
		if err != nil || len(ds) != 2 || ds[0].ID != d2.ID {
			t.Errorf("newest first: %+v %v", ds, err)
		}

		got.DeletedAt = &t0
		write(t, db, func(tx roster.Tx) error { return tx.UpdateWebhook(ctx, got) })
		if _, err := db.GetWebhook(ctx, w.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("a deleted endpoint: %v", err)
		}
		if ws, _ := db.ListWebhooks(ctx, roster.Page{Limit: 10}); len(ws) != 1 || ws[0].ID != all.ID {
			t.Errorf("live endpoints: %+v", ws)
		}
	})
}

// TestDispatchCursor: the dispatcher's place starts at the log's start,
// moves, and is held by one transaction at a time.
func TestDispatchCursor(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		write(t, db, func(tx roster.Tx) error {
			cur, ok, err := tx.LockDispatch(ctx)
			if err != nil || !ok || cur != (roster.EventCursor{}) {
				t.Errorf("a new log: %+v %v %v", cur, ok, err)
			}
			return tx.SetDispatch(ctx, roster.EventCursor{TxID: 7, Seq: 42})
		})
		if b != rostertest.Postgres {
			return
		}
		held, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			db.Update(ctx, func(tx roster.Tx) error {
				tx.LockDispatch(ctx)
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		write(t, db, func(tx roster.Tx) error {
			if _, ok, err := tx.LockDispatch(ctx); ok || err != nil {
				t.Errorf("taken by another transaction, yet: %v %v", ok, err)
			}
			return nil
		})
		close(release)
		<-done
		write(t, db, func(tx roster.Tx) error {
			cur, ok, err := tx.LockDispatch(ctx)
			if !ok || err != nil || cur != (roster.EventCursor{TxID: 7, Seq: 42}) {
				t.Errorf("after it: %+v %v %v", cur, ok, err)
			}
			return nil
		})
	})
}
