package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"mime"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/roster-dev/roster"
)

const importPath = "/v1/import"

// DefaultMaxImportBytes is the body limit of POST /v1/import: about half a
// million records.
const DefaultMaxImportBytes = 64 << 20

// DefaultImportTimeout bounds one import request, database work included.
const DefaultImportTimeout = 10 * time.Minute

// ImportLine is one record of an import body. Which fields a record uses
// depends on its type.
type ImportLine struct {
	Type        string     `json:"type" enum:"user,org,workspace,org_membership,membership"`
	ExternalID  *string    `json:"external_id,omitempty" doc:"user: the host application's id for the user"`
	Email       *string    `json:"email,omitempty" doc:"user"`
	DisplayName *string    `json:"display_name,omitempty" doc:"user"`
	Slug        string     `json:"slug,omitempty" doc:"org, workspace"`
	Name        string     `json:"name,omitempty" doc:"org, workspace"`
	Owner       string     `json:"owner,omitempty" doc:"org, workspace: a user's external_id or email; made an owner"`
	Org         string     `json:"org,omitempty" doc:"workspace, org_membership, membership: the organisation's slug"`
	Workspace   string     `json:"workspace,omitempty" doc:"membership: the workspace's slug in org"`
	User        string     `json:"user,omitempty" doc:"org_membership, membership: a user's external_id or email"`
	Role        string     `json:"role,omitempty" doc:"org_membership: an organisation role; membership: a workspace role"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty" doc:"membership: when it ends; absent: never"`
}

// importInput is an alias for the operation-named schemas (see routes).
type importInput = struct {
	DryRun      bool   `query:"dry_run" doc:"Report what the import would do and write nothing"`
	ContentType string `header:"Content-Type" doc:"application/x-ndjson"`
	RawBody     []byte `contentType:"application/x-ndjson"`
}

type ImportError struct {
	Line   int    `json:"line" doc:"1-based line number in the body"`
	Code   string `json:"code" doc:"The error code the API answers for the same mistake"`
	Detail string `json:"detail"`
}

type ImportResult struct {
	DryRun    bool          `json:"dry_run"`
	Created   int           `json:"created" doc:"Records that created their object"`
	Updated   int           `json:"updated" doc:"Records that changed an existing object"`
	Unchanged int           `json:"unchanged" doc:"Records equal to what is stored"`
	Failed    int           `json:"failed" doc:"Records not applied; each is in errors"`
	Errors    []ImportError `json:"errors" nullable:"false"`
}

type importOutput struct{ Body ImportResult }

func (s *Server) importRecords(ctx context.Context, in *importInput) (*importOutput, error) {
	if mt, _, _ := mime.ParseMediaType(in.ContentType); mt != "application/x-ndjson" {
		return nil, newProblem(http.StatusUnsupportedMediaType, roster.CodeUnsupportedMediaType,
			"the body must be NDJSON, one record a line, sent as application/x-ndjson")
	}
	res, err := s.svc.Import(ctx, readImportLines(in.RawBody), in.DryRun)
	if err != nil {
		return nil, err
	}
	out := ImportResult{DryRun: in.DryRun, Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged,
		Failed: res.Failed, Errors: make([]ImportError, len(res.Errors))}
	for i, e := range res.Errors {
		out.Errors[i] = ImportError(e)
	}
	return &importOutput{out}, nil
}

// readImportLines parses an NDJSON body into records, one a non-blank
// line; a line that cannot be read becomes a record carrying its error.
func readImportLines(body []byte) []roster.ImportRecord {
	var records []roster.ImportRecord
	for n, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		r := roster.ImportRecord{Line: n + 1}
		var l ImportLine
		if err := decodeImportLine(line, &l); err != nil {
			r.Err = err
		} else {
			r.Type, r.ExternalID, r.Email, r.DisplayName = l.Type, l.ExternalID, l.Email, l.DisplayName
			r.Slug, r.Name, r.Owner = l.Slug, l.Name, l.Owner
			r.Org, r.Workspace, r.User, r.Role, r.ExpiresAt = l.Org, l.Workspace, l.User, l.Role, l.ExpiresAt
		}
		records = append(records, r)
	}
	return records
}

// importFields are the keys a line may carry.
var importFields = map[string]bool{"type": true, "external_id": true, "email": true, "display_name": true, "slug": true,
	"name": true, "owner": true, "org": true, "workspace": true, "user": true, "role": true, "expires_at": true}

func decodeImportLine(line []byte, l *ImportLine) error {
	if !utf8.Valid(line) || hasNULEscape(line) {
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "the line must be UTF-8 text without NUL characters")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil || fields == nil {
		return roster.Errorf(roster.KindInvalid, roster.CodeMalformedJSON, "each line must be one JSON object")
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if !importFields[k] {
			return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "unknown field %q", k).With("field", k)
		}
	}
	err := json.Unmarshal(line, l)
	var typ *json.UnmarshalTypeError
	var at *time.ParseError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typ):
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "%s must be a string", typ.Field).With("field", typ.Field)
	case errors.As(err, &at):
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidExpiry, "expires_at must be an RFC 3339 time").With("field", "expires_at")
	default:
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "the line could not be read: %v", err)
	}
}
