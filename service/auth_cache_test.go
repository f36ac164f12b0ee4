package service

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/roster-dev/roster"
)

func users(c *cacheSet) *otter.Cache[string, roster.User] { return c.users }

// loadWhile loads key through c, running during() while the load is in
// flight, and returns how many times fetch ran in all after a second load.
func loadWhile(t *testing.T, c *authCache, during func()) int {
	t.Helper()
	var fetches atomic.Int32
	fetch := func(gen string) *cacheFill[roster.User] {
		return newCacheFill(users, func(context.Context, string) (roster.User, error) {
			fetches.Add(1)
			if during != nil {
				d := during
				during = nil
				d()
			}
			return roster.User{ID: "usr_1", DisplayName: gen}, nil
		})
	}
	if _, err := fetch("first").get(context.Background(), c, "usr_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := fetch("second").get(context.Background(), c, "usr_1"); err != nil {
		t.Fatal(err)
	}
	return int(fetches.Load())
}

// TestCacheLoadsRacingInvalidations: what was loaded while the key was
// invalidated, or while everything was forgotten, is not kept.
func TestCacheLoadsRacingInvalidations(t *testing.T) {
	if n := loadWhile(t, newAuthCache(10), nil); n != 1 {
		t.Errorf("a quiet load was fetched %d times, want once then cached", n)
	}
	c := newAuthCache(10)
	if n := loadWhile(t, c, func() { c.apply(userMessage("usr_1")) }); n < 2 {
		t.Errorf("a load racing its key's invalidation was kept (%d fetches)", n)
	}
	c = newAuthCache(10)
	if n := loadWhile(t, c, func() { c.apply("") }); n < 2 {
		t.Errorf("a load racing a flush was kept (%d fetches)", n)
	}
}

// TestCacheMergesConcurrentLoads: requests missing the same key at once
// share one load; a load's failure is not cached.
func TestCacheMergesConcurrentLoads(t *testing.T) {
	c := newAuthCache(10)
	var fetches atomic.Int32
	release := make(chan struct{})
	slow := newCacheFill(users, func(context.Context, string) (roster.User, error) {
		fetches.Add(1)
		<-release
		return roster.User{ID: "usr_1"}, nil
	})
	var wg, started sync.WaitGroup
	for range 8 {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			slow.get(context.Background(), c, "usr_1")
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let the followers reach the load in flight
	close(release)
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Errorf("8 concurrent misses fetched %d times, want 1", n)
	}
	_, err := newCacheFill(users, func(context.Context, string) (roster.User, error) {
		return roster.User{}, roster.ErrNotFound
	}).get(context.Background(), c, "usr_2")
	if !errors.Is(err, roster.ErrNotFound) {
		t.Errorf("a missing user: %v", err)
	}
	if _, ok := c.sets.Load().users.GetIfPresent("usr_2"); ok {
		t.Error("a failed load was cached")
	}
}
