package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Problem is an error answer from Roster (RFC 9457 problem details), or any
// other non-2xx answer on the way to it (a proxy's HTML error page, say),
// described as well as it can be.
type Problem struct {
	Status    int    // the HTTP status
	Code      string // Roster's stable code, such as "last_owner"; "" when the answer was not Roster's
	Type      string
	Title     string
	Detail    string
	RequestID string
	// Extensions holds the problem's other members: "field", "allowed",
	// "resource_id", "workspace_ids", …
	Extensions map[string]any
	// RetryAfter is how long the server asked to wait, if it did.
	RetryAfter time.Duration

	method, path string
}

// Error describes the problem: the call, the status, Roster's code and
// its detail.
func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "roster: %s %s: %d", p.method, p.path, p.Status)
	if p.Code != "" {
		fmt.Fprintf(&b, " %s", p.Code)
	}
	switch {
	case p.Detail != "":
		fmt.Fprintf(&b, ": %s", p.Detail)
	case p.Title != "":
		fmt.Fprintf(&b, ": %s", p.Title)
	}
	return b.String()
}

// maxProblemBytes bounds what is read of an error answer.
const maxProblemBytes = 64 << 10

// readProblem reads a non-2xx answer and closes its body.
func readProblem(method, path string, res *http.Response) *Problem {
	defer res.Body.Close()
	p := &Problem{Status: res.StatusCode, Title: http.StatusText(res.StatusCode), RetryAfter: retryAfter(res.Header), method: method, path: path}
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxProblemBytes))
	if err != nil {
		p.Detail = fmt.Sprintf("the answer was cut off: %v", err)
		return p
	}
	mediaType, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if mediaType == "application/problem+json" || mediaType == "application/json" {
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) == nil && members != nil { // not "null"
			p.fill(members)
			return p
		}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		p.Detail = fmt.Sprintf("an empty answer (%s)", orNone(mediaType))
		return p
	}
	p.Detail = fmt.Sprintf("an answer that is not Roster's (%s): %s", orNone(mediaType), snippet(raw))
	return p
}

func (p *Problem) fill(members map[string]json.RawMessage) {
	str := func(name string) string {
		var s string
		json.Unmarshal(members[name], &s)
		delete(members, name)
		return s
	}
	p.Code, p.Type, p.Title, p.Detail, p.RequestID = str("code"), str("type"), str("title"), str("detail"), str("request_id")
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	delete(members, "status")
	for name, raw := range members {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			if p.Extensions == nil {
				p.Extensions = map[string]any{}
			}
			p.Extensions[name] = v
		}
	}
}

func orNone(mediaType string) string {
	if mediaType == "" {
		return "no content type"
	}
	return mediaType
}

// snippet is the start of a body, as text fit for an error message.
func snippet(raw []byte) string {
	const limit = 200
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(raw), "?")), " ")
	if s == "" {
		return "(empty)"
	}
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
