package service_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/service"
)

// benchTokens creates n users with a personal token each.
func benchTokens(b *testing.B, db roster.Store, n int) []string {
	svc := service.New(db, service.Options{})
	ctx := rostertest.System()
	tokens := make([]string, n)
	for i := range n {
		u, err := svc.CreateUser(ctx, roster.NewUser{Email: ptr(fmt.Sprintf("u%d@bench.example", i))})
		if err != nil {
			b.Fatal(err)
		}
		tok, err := svc.CreateUserToken(ctx, u.ID, roster.TokenRequest{})
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = tok.Plaintext
	}
	return tokens
}

func ptr[T any](v T) *T { return &v }

// BenchmarkAuthenticate measures turning a bearer token into an actor: from
// the cache, and from the database (a fresh service every pass over the
// tokens, so each lookup misses).
func BenchmarkAuthenticate(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			db := rostertest.OpenStore(b, backend)
			tokens := benchTokens(b, db, 500)
			ctx := context.Background()
			b.Run("cached", func(b *testing.B) {
				svc := service.New(db, service.Options{})
				for _, tok := range tokens {
					if _, err := svc.Authenticate(ctx, tok, ""); err != nil {
						b.Fatal(err)
					}
				}
				i := 0
				for b.Loop() {
					if _, err := svc.Authenticate(ctx, tokens[i%len(tokens)], ""); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("uncached", func(b *testing.B) {
				var svc *service.Service
				i := 0
				for b.Loop() {
					if i%len(tokens) == 0 {
						b.StopTimer()
						svc = service.New(db, service.Options{})
						b.StartTimer()
					}
					if _, err := svc.Authenticate(ctx, tokens[i%len(tokens)], ""); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}
