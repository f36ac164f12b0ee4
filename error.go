package roster

import (
	"errors"
	"fmt"
)

// Kind classifies an error the way a client must react to it. The HTTP layer
// maps each kind to one status code in a single table.
type Kind int

const (
	KindInternal        Kind = iota // a bug or an outage; never caused by input
	KindInvalid                     // the request is malformed or breaks a validation rule
	KindUnauthenticated             // no credential, or one that is not (or no longer) valid
	KindForbidden                   // authenticated, but not allowed
	KindNotFound                    // does not exist, or is not visible to the caller
	KindConflict                    // clashes with the current state
	KindGone                        // existed, but is archived
	KindPaymentRequired             // the organisation's seat cap would be exceeded
	KindTooLarge                    // the request body is too large
	KindUnavailable                 // the database is busy or unreachable: retry later
)

// Stable error codes. Clients match on these; never change one.
const (
	CodeInternal             = "internal_error"
	CodeInvalidRequest       = "invalid_request"
	CodeMalformedJSON        = "malformed_json"
	CodeBodyTooLarge         = "body_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRouteNotFound        = "route_not_found"
	CodeNotReady             = "not_ready"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeInvalidCursor        = "invalid_cursor"
	CodeInvalidEmail         = "invalid_email"
	CodeInvalidStatus        = "invalid_status"
	CodeInvalidPlatformRole  = "invalid_platform_role"
	CodeInvalidTokenKind     = "invalid_kind"
	CodeInvalidExpiry        = "invalid_expiry"
	CodeInvalidID            = "invalid_id"
	CodeInvalidRole          = "invalid_role"
	CodeInvalidSlug          = "invalid_slug"
	CodeUnknownRecordType    = "unknown_record_type"

	CodeUnauthenticated       = "unauthenticated"
	CodeInvalidToken          = "invalid_token"
	CodeTokenExpired          = "token_expired"
	CodeTokenRevoked          = "token_revoked"
	CodeUserInactive          = "user_inactive"
	CodeSessionEnded          = "session_ended"
	CodeLoginLinkInvalid      = "login_link_invalid"
	CodeCSRFInvalid           = "csrf_invalid"
	CodeInvalidOnBehalfOf     = "invalid_on_behalf_of"
	CodeOnBehalfOfNotAllowed  = "on_behalf_of_not_allowed"
	CodeForbidden             = "forbidden"
	CodeNotFound              = "not_found"
	CodeUserNotFound          = "user_not_found"
	CodeTokenNotFound         = "token_not_found"
	CodeWorkspaceNotFound     = "workspace_not_found"
	CodeEmailTaken            = "email_taken"
	CodeExternalIDTaken       = "external_id_taken"
	CodeLastAdmin             = "last_admin"
	CodeOrgNotFound           = "org_not_found"
	CodeMembershipNotFound    = "membership_not_found"
	CodeSlugTaken             = "slug_taken"
	CodeLastOwner             = "last_owner"
	CodeSoleOwner             = "sole_owner"
	CodeExternalInvariant     = "external_invariant"
	CodeDerivedMembership     = "derived_membership"
	CodeWorkspaceArchived     = "workspace_archived"
	CodeUnknownAction         = "unknown_action"
	CodeSeatCapReached        = "seat_cap_reached"
	CodeAlreadyMember         = "already_member"
	CodeInvitationNotFound    = "invitation_not_found"
	CodeInvitationExpired     = "invitation_expired"
	CodeInvitationRevoked     = "invitation_revoked"
	CodeInvitationUsed        = "invitation_already_used"
	CodeInvitationEmail       = "invitation_email_mismatch"
	CodeInviterNoAuthority    = "inviter_no_longer_authorized"
	CodeRequestNotFound       = "access_request_not_found"
	CodeRequestNotPending     = "access_request_not_pending"
	CodeIdempotencyKeyReused  = "idempotency_key_reused"
	CodeIdempotencyInProgress = "idempotency_request_in_progress"
	CodeInvalidIdempotencyKey = "invalid_idempotency_key"
	CodeBusy                  = "busy"
	CodeDatabaseUnavailable   = "database_unavailable"
	CodeRequestTimeout        = "request_timeout"
	CodeTaskNotFound          = "task_not_found"
	CodeTaskNotCancellable    = "task_not_cancellable"
	CodeTaskNotRetryable      = "task_not_retryable"
	CodeInvalidTaskType       = "invalid_task_type"
	CodeUnknownEventType      = "unknown_event_type"
	CodeUnknownEvent          = "unknown_event"
	CodeStreamLagging         = "stream_lagging"
	CodeWebhookNotFound       = "webhook_not_found"
	CodeInvalidWebhookURL     = "invalid_webhook_url"
	CodeUnknownWebhook        = "unknown_webhook"
	CodePayloadTooLarge       = "payload_too_large"
	CodeInvalidRunAt          = "invalid_run_at"
	CodeInvalidDuration       = "invalid_duration"
	CodeInvalidReason         = "invalid_reason"
	CodeSupportDisabled       = "support_access_disabled"
	CodeNotStaff              = "not_staff"
	CodeInvalidRange          = "invalid_range"
	CodeResourceNotFound      = "resource_not_found"
	CodeResourceExists        = "resource_exists"
	CodeInvalidResourceType   = "invalid_resource_type"
	CodeWorkspaceRequired     = "workspace_required"
	CodeShareNotFound         = "share_not_found"
)

// Error is a domain error: a kind for the transport, a stable code for
// clients, and a message a person can act on. Details carry structured
// extras (for example the allowed values of an enum).
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Details map[string]any
	Err     error // the underlying cause, if any; never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a domain error with a formatted message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e carrying one more detail.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Details = make(map[string]any, len(e.Details)+1)
	for k, v := range e.Details {
		c.Details[k] = v
	}
	c.Details[key] = value
	return &c
}

// ErrorKind returns the kind of err, KindInternal when it carries none.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorCode returns the code of err, CodeInternal when it carries none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrNotFound is what stores return for a missing row; services replace it
// with a precise code where they know what was looked for.
var ErrNotFound = &Error{Kind: KindNotFound, Code: CodeNotFound, Message: "not found"}

// ErrUniqueViolation is what stores return when a write breaks a unique
// constraint; services decide which conflict it is.
var ErrUniqueViolation = &Error{Kind: KindConflict, Code: "unique_violation", Message: "already exists"}

// ErrUnstorableValue is what stores return when the database refuses a
// value as data (text it cannot encode, a time out of its range): the
// request was bad, not the server.
var ErrUnstorableValue = &Error{Kind: KindInvalid, Code: CodeInvalidRequest, Message: "a value in the request cannot be stored"}

// ErrBusy is what stores return when the database could not take the work in
// time because other work holds what it needs (a lock, the single writer):
// a retry shortly after is likely to succeed.
var ErrBusy = &Error{Kind: KindUnavailable, Code: CodeBusy, Message: "the database is busy; retry shortly"}

// ErrUnavailable is what stores return when the database cannot be reached or
// did not answer in time.
var ErrUnavailable = &Error{Kind: KindUnavailable, Code: CodeDatabaseUnavailable, Message: "the database is unavailable; retry shortly"}
