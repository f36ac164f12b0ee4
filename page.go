package roster

import (
	"encoding/base64"
	"strings"
)

// List limits shared by every list endpoint.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// Page asks for at most Limit items after the item with id After (in the
// list's own order). Identifiers are sortable, so they make stable cursors.
type Page struct {
	Limit int
	After string
}

const cursorVersion = "c1:"

// EncodeCursor turns the last id of a page into an opaque cursor.
func EncodeCursor(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorVersion + lastID))
}

// ParsePage validates a limit and an opaque cursor whose ids carry prefix.
func ParsePage(limit int, cursor, prefix string) (Page, error) {
	if limit == 0 {
		limit = DefaultPageLimit
	}
	if limit < 1 || limit > MaxPageLimit {
		return Page{}, Errorf(KindInvalid, CodeInvalidRequest, "limit must be between 1 and %d", MaxPageLimit).With("field", "limit")
	}
	p := Page{Limit: limit}
	if cursor == "" {
		return p, nil
	}
	bad := Errorf(KindInvalid, CodeInvalidCursor, "cursor is not one this list returned")
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return Page{}, bad
	}
	id, ok := strings.CutPrefix(string(raw), cursorVersion)
	if !ok || !ValidID(prefix, id) {
		return Page{}, bad
	}
	p.After = id
	return p, nil
}

// NextCursor returns the cursor for the page after items, or "" at the end.
// Stores fetch Limit+1 rows so a full page tells whether more follow.
func NextCursor[T any](items []T, limit int, id func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, EncodeCursor(id(items[len(items)-1]))
}
