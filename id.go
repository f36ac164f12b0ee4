package roster

import (
	"encoding/base32"
	"strings"

	"github.com/google/uuid"
)

// ID prefixes name the type of every object identifier.
const (
	PrefixUser  = "usr_"
	PrefixToken = "tok_"
	PrefixAudit = "evt_"
)

// idEncoding is base32hex in lower case: its alphabet is in ASCII order, so the
// encoded UUIDv7 sorts by creation time exactly like the raw bytes.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

const idBodyLen = 26

// NewID returns a new sortable identifier with the given type prefix.
func NewID(prefix string) string {
	u := uuid.Must(uuid.NewV7())
	return prefix + idEncoding.EncodeToString(u[:])
}

// ValidID reports whether s is a well-formed identifier with the given prefix.
func ValidID(prefix, s string) bool {
	if prefix == PrefixTask {
		_, ok := ParseTaskID(s)
		return ok
	}
	body, ok := strings.CutPrefix(s, prefix)
	if !ok || len(body) != idBodyLen {
		return false
	}
	// Every string of idBodyLen characters of the alphabet decodes; checking
	// the characters spares the check path an allocation.
	for i := 0; i < len(body); i++ {
		if c := body[i]; (c < '0' || c > '9') && (c < 'a' || c > 'v') {
			return false
		}
	}
	return true
}
