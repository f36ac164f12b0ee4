package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
)

// enumSchema documents (and so validates) a domain enum; its values come from
// the enum's own definition.
func enumSchema[T ~string](values []T) *huma.Schema {
	enum := make([]any, len(values))
	for i, v := range values {
		enum[i] = string(v)
	}
	return &huma.Schema{Type: huma.TypeString, Enum: enum}
}

type userStatus string

func (userStatus) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.UserStatuses) }

type platformRole string

func (platformRole) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.PlatformRoles) }

type tokenKind string

func (tokenKind) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.TokenKinds) }

// issuableKind is a token kind a client may ask for.
type issuableKind string

func (issuableKind) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.IssuableTokenKinds) }

type via string

func (via) Schema(huma.Registry) *huma.Schema {
	return enumSchema([]roster.Via{roster.ViaUser, roster.ViaService, roster.ViaSupport, roster.ViaSystem})
}

// optional is a field of a partial update that may be absent but not null.
// The schema says so; huma's validator lets null through for optional
// fields, so rejectNulls checks it.
type optional[T any] struct {
	Sent  bool
	Null  bool
	Value T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Sent = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// rejectNulls reports the fields of a partial update that were sent as null
// but may not be.
func rejectNulls(fields map[string]bool) []error {
	var errs []error
	for name, isNull := range fields {
		if isNull {
			errs = append(errs, &huma.ErrorDetail{Location: "body." + name, Message: "must not be null"})
		}
	}
	return errs
}

func (optional[T]) Schema(r huma.Registry) *huma.Schema {
	return inlineSchema[T](r, false)
}

// nullable is a field of a partial update that may be absent, or null to clear it.
type nullable[T any] struct {
	Sent  bool
	Value *T
}

func (o *nullable[T]) UnmarshalJSON(b []byte) error {
	o.Sent = true
	return json.Unmarshal(b, &o.Value)
}

func (nullable[T]) Schema(r huma.Registry) *huma.Schema {
	return inlineSchema[T](r, true)
}

func inlineSchema[T any](r huma.Registry, isNullable bool) *huma.Schema {
	s := *r.Schema(reflect.TypeFor[T](), false, "")
	s.Nullable = isNullable
	return &s
}

// listBody is the shape of every list response.
type listBody[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor" doc:"Pass as cursor to get the next page; null on the last page"`
}

func newList[T, U any](items []T, next string, conv func(T) U) listBody[U] {
	out := listBody[U]{Data: make([]U, 0, len(items))}
	for _, it := range items {
		out.Data = append(out.Data, conv(it))
	}
	if next != "" {
		out.NextCursor = &next
	}
	return out
}

// PageParams are the query parameters of every list.
type PageParams struct {
	Limit  int    `query:"limit" default:"50" minimum:"1" maximum:"500" doc:"Items per page"`
	Cursor string `query:"cursor" doc:"Opaque cursor from next_cursor of the previous page"`
}

func (p PageParams) page(prefix string) (roster.Page, error) {
	return roster.ParsePage(p.Limit, p.Cursor, prefix)
}

type workspaceRole string

func (workspaceRole) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.WorkspaceRoles) }

type orgRole string

func (orgRole) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.OrgRoles) }

// nullableEnumSchema is enumSchema for a field that may be null.
func nullableEnumSchema[T ~string](values []T) *huma.Schema {
	s := enumSchema(values)
	s.Nullable = true
	s.Enum = append(s.Enum, nil)
	return s
}

// The types below are only ever used as nullable response fields.

type membershipSource string

func (membershipSource) Schema(huma.Registry) *huma.Schema {
	return nullableEnumSchema([]roster.MembershipSource{roster.SourceDirect, roster.SourceInvite, roster.SourceAccessRequest, roster.SourceStaffSupport})
}

type accessVia string

func (accessVia) Schema(huma.Registry) *huma.Schema { return nullableEnumSchema(roster.AccessVias) }

// effectiveRole is a workspace role that may be absent (null).
type effectiveRole string

func (effectiveRole) Schema(huma.Registry) *huma.Schema {
	return nullableEnumSchema(roster.WorkspaceRoles)
}

// orgRoleOrNull is an organisation role that may be absent (null).
type orgRoleOrNull string

func (orgRoleOrNull) Schema(huma.Registry) *huma.Schema { return nullableEnumSchema(roster.OrgRoles) }

// optionalString returns nil for "", so empty enums encode as null.
func optionalString[T ~string](v T) *T {
	if v == "" {
		return nil
	}
	return &v
}

// documentStatus adds another success status to an operation whose handler
// sets it (201 when a PUT created something), with the same body.
func documentStatus(api huma.API, method, path string, status int, description string) {
	op := api.OpenAPI().Paths[path].Put
	if method != http.MethodPut {
		panic("documentStatus: only PUT is supported")
	}
	ok := op.Responses[strconv.Itoa(http.StatusOK)]
	op.Responses[strconv.Itoa(status)] = &huma.Response{Description: description, Content: ok.Content}
}

// listOutput is the response of every list operation.
type listOutput[T any] struct {
	Body listBody[T]
}

// listOf builds a list operation's handler: it reads the page parameters
// (In must embed PageParams), calls list, and converts each item.
func listOf[In, T, U any](idPrefix string, conv func(T) U, list func(context.Context, *In, roster.Page) ([]T, string, error)) func(context.Context, *In) (*listOutput[U], error) {
	return func(ctx context.Context, in *In) (*listOutput[U], error) {
		p, err := any(in).(interface {
			page(string) (roster.Page, error)
		}).page(idPrefix)
		if err != nil {
			return nil, err
		}
		items, next, err := list(ctx, in, p)
		if err != nil {
			return nil, err
		}
		return &listOutput[U]{newList(items, next, conv)}, nil
	}
}

type invitationStatus string

func (invitationStatus) Schema(huma.Registry) *huma.Schema {
	return enumSchema(roster.InvitationStatuses)
}

type requestStatus string

func (requestStatus) Schema(huma.Registry) *huma.Schema {
	return enumSchema(roster.AccessRequestStatuses)
}
