package middleware

import (
	"context"
	"encoding/json"
	"time"

	"github.com/roster-dev/roster/client"
)

// revocations are the events after which a cached token may no longer be
// good: the token revoked, its user suspended, deleted or changed, a
// support session (and its token) ended.
var revocations = []string{"token.revoked", "user.updated", "user.deleted", "support_session.ended"}

// Watch follows Roster's event stream until ctx ends, dropping cached
// tokens as soon as an event says they may have stopped working. While it
// is connected, introspections are trusted for the longer TTL; while it is
// not, for the short one, and the cache is emptied on every (re)connect,
// since events may have been missed in between. A stream that ends for
// good (its resume point too old, the guard's token refused) is started
// afresh after restartAfter; the listening hook hears why. Watch returns
// ctx's error.
func (g *Guard) Watch(ctx context.Context) error {
	defer func() {
		if g.listening.Load() {
			g.setListening(false, ctx.Err())
		}
	}()
	for {
		err := g.follow(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		g.setListening(false, err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(restartAfter):
		}
	}
}

// restartAfter is the wait before following the stream again from now (a
// variable for tests).
var restartAfter = 5 * time.Second

// follow reads one run of the event stream, until it ends for good.
func (g *Guard) follow(ctx context.Context) error {
	events := g.roster.Events(ctx, client.EventOptions{
		Types:        revocations,
		OnConnect:    func() { g.forgetAll(); g.setListening(true, nil) },
		OnDisconnect: func(err error) { g.setListening(false, err) },
	})
	for e, err := range events {
		if err != nil {
			return err
		}
		g.forget(e)
	}
	return ctx.Err()
}

func (g *Guard) setListening(listening bool, err error) {
	g.listening.Store(listening)
	if g.onListening != nil {
		g.onListening(listening, err)
	}
}

// Listening reports whether the guard hears Roster's revocations now.
func (g *Guard) Listening() bool { return g.listening.Load() }

func (g *Guard) forgetAll() {
	g.forgets.Add(1)
	g.mu.Lock()
	clear(g.tokens)
	g.mu.Unlock()
}

// forget drops the cached tokens an event concerns: the token it names, or
// every token of the user it is about.
func (g *Guard) forget(e client.Event) {
	var data struct {
		ID     string `json:"id"`
		UserID string `json:"user_id"`
	}
	if json.Unmarshal(e.Data, &data) != nil {
		g.forgetAll()
		return
	}
	g.forgets.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	for key, c := range g.tokens {
		if c.identity.TokenID == data.ID || c.identity.UserID == data.UserID || (e.Type == "user.updated" || e.Type == "user.deleted") && c.identity.UserID == data.ID {
			delete(g.tokens, key)
		}
	}
}
