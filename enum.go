package roster

import (
	"slices"
	"strings"
)

// enum is the shared shape of Roster's string enums: the values are listed
// once, next to the type, and every parse goes through parseEnum.
func parseEnum[T ~string](s string, allowed []T, code, field string) (T, error) {
	v := T(s)
	if slices.Contains(allowed, v) {
		return v, nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", Errorf(KindInvalid, code, "%s must be one of: %s", field, strings.Join(names, ", ")).
		With("field", field).With("allowed", names)
}

// EnumValues returns the allowed values of an enum as strings, for schemas.
func EnumValues[T ~string](allowed []T) []string {
	out := make([]string, len(allowed))
	for i, a := range allowed {
		out[i] = string(a)
	}
	return out
}
