package store

import (
	"fmt"
	"time"
)

// timeLayout is how times travel to both databases: fixed width and UTC, so
// SQLite (which keeps them as TEXT) orders and compares them correctly, and
// PostgreSQL parses them into timestamptz.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// ts passes a time as a query argument.
func ts(t time.Time) any { return t.UTC().Format(timeLayout) }

// nts passes an optional time.
func nts(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// timeDest scans a NOT NULL time column from either database.
type timeDest struct{ t *time.Time }

func (d timeDest) Scan(src any) error {
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("store: unexpected NULL time")
	}
	*d.t = *t
	return nil
}

// nullTimeDest scans a nullable time column.
type nullTimeDest struct{ t **time.Time }

func (d nullTimeDest) Scan(src any) error {
	t, err := parseTime(src)
	*d.t = t
	return err
}

func parseTime(src any) (*time.Time, error) {
	var t time.Time
	switch v := src.(type) {
	case nil:
		return nil, nil
	case time.Time:
		t = v
	case string:
		return parseTimeText(v)
	case []byte:
		return parseTimeText(string(v))
	default:
		return nil, fmt.Errorf("store: cannot scan %T into a time", src)
	}
	t = t.UTC()
	return &t, nil
}

func parseTimeText(s string) (*time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("store: bad time %q: %w", s, err)
	}
	t = t.UTC()
	return &t, nil
}
