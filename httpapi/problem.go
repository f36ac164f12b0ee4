package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
)

// Problem is an RFC 9457 problem detail with Roster's stable code. Extension
// members (such as the allowed values of an enum) sit at the top level.
type Problem struct {
	_         struct{}            `additionalProperties:"true"`
	Type      string              `json:"type" doc:"URI naming the kind of problem"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Code      string              `json:"code" doc:"Stable machine-readable error code"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []*huma.ErrorDetail `json:"errors,omitempty" doc:"Field-level validation errors"`
	Extra     map[string]any      `json:"-"`
}

func (p *Problem) Error() string             { return p.Code + ": " + p.Detail }
func (p *Problem) GetStatus() int            { return p.Status }
func (p *Problem) ContentType(string) string { return "application/problem+json" }

// MarshalJSON writes the fixed members and then the extensions.
func (p *Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	base, err := json.Marshal((*plain)(p))
	if err != nil || len(p.Extra) == 0 {
		return base, err
	}
	m := map[string]any{}
	for k, v := range p.Extra {
		m[k] = v
	}
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// statusOf is the one table from domain error kinds to HTTP statuses.
var statusOf = map[roster.Kind]int{
	roster.KindInternal:        http.StatusInternalServerError,
	roster.KindInvalid:         http.StatusBadRequest,
	roster.KindUnauthenticated: http.StatusUnauthorized,
	roster.KindForbidden:       http.StatusForbidden,
	roster.KindNotFound:        http.StatusNotFound,
	roster.KindConflict:        http.StatusConflict,
	roster.KindGone:            http.StatusGone,
	roster.KindPaymentRequired: http.StatusPaymentRequired,
	roster.KindTooLarge:        http.StatusRequestEntityTooLarge,
	roster.KindUnavailable:     http.StatusServiceUnavailable,
}

// StatusOf is the status, code and message a front end answers an error
// with, by the one table above; the console shows errors by it too. An
// error without a domain code is a bug or an outage: a bare 500.
func StatusOf(err error) (status int, code, message string) {
	var e *roster.Error
	if !errors.As(err, &e) || e.Kind == roster.KindInternal {
		return http.StatusInternalServerError, roster.CodeInternal, "an unexpected error occurred; it has been logged"
	}
	return statusOf[e.Kind], e.Code, e.Message
}

// retryAfterSeconds is what a 503 tells clients to wait before retrying.
const retryAfterSeconds = "1"

func newProblem(status int, code, detail string) *Problem {
	return &Problem{Type: "urn:roster:problem:" + code, Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
}

// problemFrom turns any error into the problem a client sees. Errors without
// a domain code are bugs or outages: they are logged and shown as a bare 500.
func problemFrom(ctx context.Context, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var e *roster.Error
	if !errors.As(err, &e) || e.Kind == roster.KindInternal {
		logger(ctx).ErrorContext(ctx, "internal error", "error", err)
		p = newProblem(http.StatusInternalServerError, roster.CodeInternal, "an unexpected error occurred; it has been logged")
	} else {
		if e.Kind == roster.KindUnavailable {
			logger(ctx).WarnContext(ctx, "database unavailable", "error", err)
		}
		p = newProblem(statusOf[e.Kind], e.Code, e.Message)
		if len(e.Details) > 0 {
			p.Extra = e.Details
		}
	}
	p.RequestID = requestID(ctx)
	return p
}

// enumFieldCodes gives schema violations on enum fields the same codes the
// domain uses for them.
var enumFieldCodes = map[string]string{
	"role":          roster.CodeInvalidRole,
	"status":        roster.CodeInvalidStatus,
	"platform_role": roster.CodeInvalidPlatformRole,
	"kind":          roster.CodeInvalidTokenKind,
	"type":          roster.CodeInvalidTaskType,
	"duration":      roster.CodeInvalidDuration,
	"reason":        roster.CodeInvalidReason,
}

// humaError replaces huma's error constructor: huma reports schema
// violations as 422, which Roster's contract makes 400, and every problem
// gets a stable code.
func humaError(status int, msg string, errs ...error) huma.StatusError {
	for _, err := range errs {
		var e *roster.Error
		if errors.As(err, &e) {
			return problemFrom(context.Background(), err)
		}
	}
	var details []*huma.ErrorDetail
	for _, err := range errs {
		var d huma.ErrorDetailer
		if errors.As(err, &d) {
			details = append(details, d.ErrorDetail())
		} else if err != nil && status < 500 {
			details = append(details, &huma.ErrorDetail{Message: err.Error()})
		}
	}
	code := roster.CodeInvalidRequest
	switch status {
	case http.StatusUnprocessableEntity:
		status = http.StatusBadRequest
		code = validationCode(details)
		msg = "the request does not match the schema: " + summarize(details)
	case http.StatusBadRequest:
		if len(details) > 0 && details[0].Location == "body" {
			code, msg = roster.CodeMalformedJSON, "the request body is not valid JSON"
		}
	case http.StatusRequestEntityTooLarge:
		code = roster.CodeBodyTooLarge
	case http.StatusUnsupportedMediaType:
		code = roster.CodeUnsupportedMediaType
	case http.StatusNotFound:
		code = roster.CodeNotFound
	case http.StatusInternalServerError:
		code, msg, details = roster.CodeInternal, "an unexpected error occurred; it has been logged", nil
	default:
		if status >= 500 {
			code = roster.CodeInternal
		}
	}
	p := newProblem(status, code, msg)
	for _, d := range details {
		switch d.Value.(type) {
		case map[string]any, []any, string:
			if d.Location == "body" || d.Location == "" {
				d.Value = nil // never echo a whole body back
			}
		}
		if _, nested := d.Value.(map[string]any); nested {
			d.Value = nil
		}
	}
	p.Errors = details
	return p
}

func validationCode(details []*huma.ErrorDetail) string {
	for _, d := range details {
		field := d.Location[strings.LastIndexAny(d.Location, ".")+1:]
		if field == "type" && !strings.HasPrefix(d.Location, "query.") {
			continue // a task type is a query filter; a resource's type is its own
		}
		if code, ok := enumFieldCodes[field]; ok {
			return code
		}
	}
	return roster.CodeInvalidRequest
}

func summarize(details []*huma.ErrorDetail) string {
	parts := make([]string, 0, len(details))
	for _, d := range details {
		parts = append(parts, d.Location+": "+d.Message)
	}
	return strings.Join(parts, "; ")
}

// useRosterProblems makes huma build Roster's problems. huma offers no error
// constructor per API, only these package variables, so New installs them
// once, explicitly, rather than every import of this package doing so.
var useRosterProblems = sync.OnceFunc(func() {
	huma.NewError = humaError
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		var p *Problem
		for _, err := range errs {
			var e *roster.Error
			if errors.As(err, &e) {
				p = problemFrom(ctx.Context(), err)
			}
		}
		if p == nil {
			p = humaError(status, msg, errs...).(*Problem)
			if p.Status >= 500 {
				for _, err := range errs {
					logger(ctx.Context()).ErrorContext(ctx.Context(), "internal error", "error", err)
				}
			}
		}
		p.RequestID = requestID(ctx.Context())
		if p.Status == http.StatusServiceUnavailable {
			ctx.SetHeader("Retry-After", retryAfterSeconds)
		}
		return p
	}
})

// writeProblem writes p outside huma (middleware and unmatched routes).
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.RequestID == "" {
		p.RequestID = requestID(r.Context())
	}
	w.Header().Set("Content-Type", "application/problem+json")
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}
