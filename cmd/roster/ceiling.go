package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/roster-dev/roster"
)

// ceilingAccess is what the ceiling server knows of the dataset: every
// membership, in memory, as the seed wrote it.
type ceilingAccess struct {
	orgOf     map[string]string                                // workspace → organisation
	orgMember map[string]roster.OrgMembership                  // user → their organisation membership
	direct    map[string]map[string]roster.WorkspaceMembership // user → workspace → membership
}

// ceiling is a trivial in-memory server answering POST /v1/check for the
// load's dataset as Roster does (the same decisions and the same JSON). The
// same driver measured against it gives the ceiling of what HTTP and JSON
// allow on this machine, against which Roster's own overhead shows.
type ceiling struct {
	token  string
	access ceilingAccess
	now    func() time.Time
}

type ceilingDecision struct {
	Allowed   bool       `json:"allowed"`
	Role      *string    `json:"role"`
	Via       *string    `json:"via"`
	ExpiresAt *time.Time `json:"expires_at"`
	Reason    string     `json:"reason,omitempty"`
}

func (c *ceiling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/check" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+c.token {
		http.Error(w, "unauthenticated", http.StatusUnauthorized)
		return
	}
	var in struct {
		UserID      string `json:"user_id"`
		Action      string `json:"action"`
		WorkspaceID string `json:"workspace_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, "malformed JSON", http.StatusBadRequest)
		return
	}
	minimum, ok := roster.MinimumRole(roster.Permission(in.Action))
	if !ok {
		http.Error(w, "unknown action", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(c.decide(in.UserID, in.WorkspaceID, minimum))
}

func (c *ceiling) decide(userID, workspaceID string, minimum roster.WorkspaceRole) ceilingDecision {
	var direct *roster.WorkspaceMembership
	if m, ok := c.access.direct[userID][workspaceID]; ok {
		direct = &m
	}
	var org *roster.OrgMembership
	if m, ok := c.access.orgMember[userID]; ok && m.OrgID == c.access.orgOf[workspaceID] {
		org = &m
	}
	acc := roster.EffectiveAccess(direct, org, c.now())
	d := ceilingDecision{ExpiresAt: acc.ExpiresAt}
	switch {
	case acc.Role == "":
		d.Reason = roster.ReasonNoAccess
	case !acc.Role.AtLeast(minimum):
		d.Reason = roster.ReasonInsufficientRole
	default:
		d.Allowed = true
	}
	if acc.Role != "" {
		role, via := string(acc.Role), string(acc.Via)
		d.Role, d.Via = &role, &via
	}
	return d
}

// errDone ends a driver's worker: its list of requests is done.
var errDone = errors.New("done")

// measureCold measures the first check of users no cache holds yet: n
// users one at a time, then n others from 8 workers.
func measureCold(ctx context.Context, out io.Writer, base, token string, data dataset, n int) error {
	from := 0 // users before it have been checked
	for _, c := range []int{1, 8} {
		to := min(from+n, len(data.users))
		if n <= 0 || to == from {
			return nil
		}
		var next atomic.Int64
		next.Store(int64(from))
		first := func(rng *rand.Rand, base string, _ dataset, body *bytes.Buffer) (*http.Request, error) {
			u := int(next.Add(1)) - 1
			if u >= to {
				return nil, errDone
			}
			ws := data.workspaces[rng.IntN(len(data.workspaces))]
			if mine := data.memberOf[u]; len(mine) > 0 {
				ws = mine[rng.IntN(len(mine))]
			}
			json.NewEncoder(body).Encode(map[string]string{"user_id": data.users[u], "action": "workspace.read", "workspace_id": ws})
			return http.NewRequest(http.MethodPost, base+"/v1/check", bytes.NewReader(body.Bytes()))
		}
		res, err := drive(ctx, base, token, data, c, time.Hour, 1, first)
		if err != nil {
			return err
		}
		from = to
		fmt.Fprintf(out, "cold checks (each user's first), concurrency %d: %d in %v, p50 %v, p99 %v, %d errors\n",
			c, res.count, res.elapsed.Round(time.Millisecond), res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.errors+res.refused+res.failed)
	}
	return nil
}

// measureCeiling serves the dataset from the ceiling server, drives it as
// Roster was driven, and compares answers to a sample of checks.
func measureCeiling(ctx context.Context, out io.Writer, rosterURL, token string, data dataset, cfg loadConfig, rates map[int]float64) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: &ceiling{token: token, access: data.access, now: time.Now}}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	if wrong, err := compareAnswers(ctx, rosterURL, base, token, data, 2000); err != nil {
		return err
	} else {
		fmt.Fprintf(out, "ceiling: a trivial in-memory server of the same checks; of 2000 checks asked of both, %d answered differently\n", wrong)
	}
	for _, c := range cfg.concurrency {
		if c <= 0 {
			continue
		}
		drive(ctx, base, token, data, c, cfg.warmup, cfg.seed, check)
		res, err := drive(ctx, base, token, data, c, cfg.duration, cfg.seed+uint64(c), check)
		if err != nil {
			return err
		}
		rate := float64(res.count) / res.elapsed.Seconds()
		fmt.Fprintf(out, "ceiling, concurrency %d: %.0f checks/s, p50 %v, p99 %v; Roster reached %.0f%% of it\n",
			c, rate, res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), 100*rates[c]/rate)
	}
	return nil
}

// compareAnswers asks Roster and the ceiling server the same n checks and
// counts those answered differently.
func compareAnswers(ctx context.Context, rosterURL, ceilingURL, token string, data dataset, n int) (int, error) {
	rng := rand.New(rand.NewPCG(7, 7))
	wrong := 0
	for range n {
		var body bytes.Buffer
		req, err := check(rng, "", data, &body)
		if err != nil {
			return 0, err
		}
		var answers [2]ceilingDecision
		for i, base := range []string{rosterURL, ceilingURL} {
			r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+req.URL.Path, bytes.NewReader(body.Bytes()))
			if err != nil {
				return 0, err
			}
			r.Header.Set("Authorization", "Bearer "+token)
			r.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				return 0, err
			}
			err = json.NewDecoder(res.Body).Decode(&answers[i])
			res.Body.Close()
			if err != nil {
				return 0, fmt.Errorf("comparing answers: %w", err)
			}
		}
		if answers[0].Allowed != answers[1].Allowed || answers[0].Reason != answers[1].Reason {
			wrong++
		}
	}
	return wrong, nil
}
