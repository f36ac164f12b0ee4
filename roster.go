// Package roster holds Roster's domain: the types, enums, error codes and the
// storage interfaces that the service layer, the stores and the HTTP API share.
//
// Nothing here imports SQL or HTTP. The rules of the domain live in package
// service; persistence lives in package store; the JSON API in package httpapi.
package roster

import "time"

// Version is Roster's version, reported by `roster version` and in the
// OpenAPI document. Release builds set it with
// -ldflags "-X github.com/roster-dev/roster.Version=…".
var Version = "0.1.0-dev"

// Clock returns the current time. Services take one so tests can move time.
type Clock func() time.Time

// Now normalises a time the way Roster stores it: UTC, microsecond precision,
// so a value read back from either database compares equal to what was written.
func Now(c Clock) time.Time {
	if c == nil {
		c = time.Now
	}
	return c().UTC().Truncate(time.Microsecond)
}

// TimeInRange reports whether t falls in the years 1 to 9999 (UTC): the
// times both backends store, and order, alike.
func TimeInRange(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// SameTime reports whether two optional times are both absent or equal.
func SameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// Patch is one optional field of a partial update: Present is false when the
// client did not send the field at all.
type Patch[T any] struct {
	Present bool
	Value   T
}

// Set returns a present patch value.
func Set[T any](v T) Patch[T] { return Patch[T]{Present: true, Value: v} }
