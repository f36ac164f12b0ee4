package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// AuditFilter narrows ListAudit and ExportAudit; empty fields do not
// filter. Limit is the page size of ListAudit; ExportAudit streams every
// event that matches.
type AuditFilter struct {
	ListOptions
	OrgID       string // required of organisation owners and admins, who read their own organisation's events
	WorkspaceID string
	ActorID     string // the acting user, or the user a service token acted for
	Action      string // such as user.created
	Since       time.Time
	Until       time.Time // exclusive
}

func (f AuditFilter) values(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	setIf(q, "org_id", f.OrgID)
	setIf(q, "workspace_id", f.WorkspaceID)
	setIf(q, "actor_id", f.ActorID)
	setIf(q, "action", f.Action)
	setTime(q, "since", f.Since)
	setTime(q, "until", f.Until)
	return q
}

func setTime(q url.Values, name string, t time.Time) {
	if !t.IsZero() {
		q.Set(name, t.UTC().Format(time.RFC3339Nano))
	}
}

// ListAudit lists audit events (admins, and organisation owners and
// admins for their organisation).
func (c *Client) ListAudit(ctx context.Context, f AuditFilter) iter.Seq2[AuditEvent, error] {
	return list[AuditEvent](ctx, c, "/v1/audit", f.values(f.query(nil)))
}

// ExportAudit streams the sealed audit events that match f, oldest first,
// each with its place in the hash chain, decoding them as they arrive. An
// error (the request's, or a cut or malformed line) ends the iteration.
// The export is bounded by ctx only; ending the loop closes it.
func (c *Client) ExportAudit(ctx context.Context, f AuditFilter) iter.Seq2[ExportedEvent, error] {
	const path = "/v1/audit/export"
	return func(yield func(ExportedEvent, error) bool) {
		res, err := c.send(ctx, request{method: http.MethodGet, path: path, query: f.values(nil), accept: "application/x-ndjson", stream: true})
		if err != nil {
			yield(ExportedEvent{}, err)
			return
		}
		defer res.Body.Close()
		r := bufio.NewReaderSize(res.Body, 64<<10)
		for n := 1; ; n++ {
			line, err := r.ReadBytes('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				yield(ExportedEvent{}, fmt.Errorf("roster: GET %s: reading line %d: %w", path, n, err))
				return
			}
			if len(bytes.TrimSpace(line)) > 0 {
				var e ExportedEvent
				if derr := decodeObject(line, &e); derr != nil {
					yield(ExportedEvent{}, fmt.Errorf("roster: GET %s: line %d: %w", path, n, derr))
					return
				}
				if !yield(e, nil) {
					return
				}
			}
			if err != nil {
				return // io.EOF: the end
			}
		}
	}
}

// VerifyAudit verifies the audit log's hash chain (admins). It may take
// long: it is bounded by ctx only.
func (c *Client) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var out AuditVerification
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/audit/verify", out: &out, long: true})
}
