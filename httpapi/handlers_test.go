package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/httpapi"
)

// stubServices is a roster.Services whose answers a test decides, for the
// handler behaviour that needs no database. A method it does not override
// panics (the embedded interface is nil): the test called something it did
// not mean to.
type stubServices struct {
	roster.Services
	check func(roster.CheckRequest) (roster.Decision, error)
	calls int
}

func (s *stubServices) Authenticate(ctx context.Context, bearer, onBehalfOf string) (roster.Actor, error) {
	if bearer != "rst_svc_stub" {
		return roster.Actor{}, roster.Errorf(roster.KindUnauthenticated, roster.CodeInvalidToken, "the bearer token is not valid")
	}
	u := roster.User{ID: "usr_stub", Status: roster.UserActive}
	return roster.Actor{User: u, Token: &roster.Token{ID: "tok_stub", UserID: u.ID, Kind: roster.TokenService}}, nil
}

func (s *stubServices) Check(ctx context.Context, req roster.CheckRequest) (roster.Decision, error) {
	s.calls++
	return s.check(req)
}

func (s *stubServices) CheckBatch(ctx context.Context, reqs []roster.CheckRequest) ([]roster.Decision, error) {
	s.calls++
	out := make([]roster.Decision, len(reqs))
	for i, r := range reqs {
		d, err := s.check(r)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func (s *stubServices) Hearing() error        { return nil }
func (s *stubServices) ListenerDrops() uint64 { return 0 }

func stubServer(t *testing.T, svc *stubServices) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(httpapi.New(svc, nil, httpapi.Options{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv
}

func postCheck(t *testing.T, srv *httptest.Server, path, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer rst_svc_stub")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: not JSON: %s", path, raw)
	}
	return res, out
}

const stubCheck = `{"user_id": "usr_a", "action": "resources.write", "workspace_id": "ws_a"}`

// TestHandlerMapsServiceFaults: whatever the service answers, the API says
// it the one way the contract allows, and an unexpected error leaks nothing.
func TestHandlerMapsServiceFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{"unavailable", roster.Errorf(roster.KindUnavailable, roster.CodeDatabaseUnavailable, "the database did not answer in time"), 503, roster.CodeDatabaseUnavailable, "1"},
		{"busy", fmt.Errorf("check: %w", roster.ErrBusy), 503, roster.CodeBusy, "1"},
		{"unexpected", errors.New("pq: relation users does not exist (secret detail)"), 500, roster.CodeInternal, ""},
		{"not found", roster.Errorf(roster.KindNotFound, roster.CodeWorkspaceNotFound, "no such workspace"), 404, roster.CodeWorkspaceNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := stubServer(t, &stubServices{check: func(roster.CheckRequest) (roster.Decision, error) { return roster.Decision{}, tc.err }})
			res, body := postCheck(t, srv, "/v1/check", stubCheck)
			if res.StatusCode != tc.status || body["code"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", res.StatusCode, body["code"], tc.status, tc.code)
			}
			if got := res.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
			}
			if detail, _ := body["detail"].(string); strings.Contains(detail, "secret") {
				t.Errorf("the problem leaks the error: %q", detail)
			}
		})
	}
}

// TestHandlerShapesDecisions: a decision's fields reach the client as the
// contract names them; a reason only on a denial.
func TestHandlerShapesDecisions(t *testing.T) {
	t.Parallel()
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	svc := &stubServices{check: func(r roster.CheckRequest) (roster.Decision, error) {
		if r.Action == "members.manage" {
			return roster.Decision{Role: string(roster.RoleMember), Via: roster.AccessDirect, ExpiresAt: &until, Reason: roster.ReasonInsufficientRole}, nil
		}
		return roster.Decision{Allowed: true, Role: string(roster.RoleMember), Via: roster.AccessDirect, ExpiresAt: &until, Reason: "ignored when allowed"}, nil
	}}
	srv := stubServer(t, svc)

	_, allowed := postCheck(t, srv, "/v1/check", stubCheck)
	if allowed["allowed"] != true || allowed["role"] != "member" || allowed["via"] != "direct" || allowed["expires_at"] != "2030-01-02T03:04:05Z" {
		t.Errorf("allowed decision: %v", allowed)
	}
	if _, ok := allowed["reason"]; ok {
		t.Errorf("an allowed decision carries a reason: %v", allowed)
	}
	_, denied := postCheck(t, srv, "/v1/check", `{"user_id": "usr_a", "action": "members.manage", "workspace_id": "ws_a"}`)
	if denied["allowed"] != false || denied["reason"] != roster.ReasonInsufficientRole {
		t.Errorf("denied decision: %v", denied)
	}
}

// TestHandlerRefusesOversizedBatchBeforeTheService: a batch over the limit
// is a 400 and the service never sees it.
func TestHandlerRefusesOversizedBatchBeforeTheService(t *testing.T) {
	t.Parallel()
	svc := &stubServices{check: func(roster.CheckRequest) (roster.Decision, error) { return roster.Decision{Allowed: true}, nil }}
	srv := stubServer(t, svc)
	checks := strings.Repeat(stubCheck+",", roster.MaxCheckBatch) + stubCheck
	res, body := postCheck(t, srv, "/v1/check/batch", `{"checks": [`+checks+`]}`)
	if res.StatusCode != 400 || body["code"] != roster.CodeInvalidRequest {
		t.Fatalf("got %d %v, want 400 %s", res.StatusCode, body["code"], roster.CodeInvalidRequest)
	}
	if svc.calls != 0 {
		t.Errorf("the service was called %d times", svc.calls)
	}
	res, body = postCheck(t, srv, "/v1/check/batch", `{"checks": [`+stubCheck+`]}`)
	if res.StatusCode != 200 || len(body["results"].([]any)) != 1 {
		t.Fatalf("a batch of one: %d %v", res.StatusCode, body)
	}
}
