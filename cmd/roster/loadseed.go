package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/service"
	"github.com/roster-dev/roster/store"
)

// seedClockLag is how far behind the seeding replica's clock stands: an
// import takes only expiries in the future, and the dataset wants half of
// its expiring memberships already past when the load starts.
const seedClockLag = time.Hour + time.Minute

// seedByImport writes the dataset through POST /v1/import, as a host
// application moving its customers in would: one request, every record an
// NDJSON line. It reports the records and how long the import took, then
// reads back the ids the import gave.
func seedByImport(ctx context.Context, db *store.DB, cfg loadConfig, out io.Writer) (dataset, int, error) {
	body, records, memberships := importRecords(cfg)
	// A clock stopped before every expiry in the body, however long the
	// import takes.
	seedNow := time.Now().Add(-seedClockLag)
	lagging := func() time.Time { return seedNow }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(db, service.Options{Logger: log, Clock: lagging, NoSealer: true})
	_, token, err := svc.EnsureAdmin(roster.WithActor(ctx, roster.SystemActor()), "importer@localhost")
	if err != nil {
		return dataset{}, 0, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return dataset{}, 0, err
	}
	srv := &http.Server{Handler: httpapi.New(svc, db, httpapi.Options{Logger: log, Clock: lagging, QuietRequests: true})}
	go srv.Serve(ln)
	defer srv.Close()

	start := time.Now()
	created := 0
	for part := range importParts(body, httpapi.DefaultMaxImportBytes) {
		n, err := postImport(ctx, "http://"+ln.Addr().String(), token, part)
		if err != nil {
			return dataset{}, 0, err
		}
		created += n
	}
	took := time.Since(start)
	fmt.Fprintf(out, "import: %d records (%d MB of NDJSON) in %v: %.0f records/s (%d created)\n",
		records, len(body)>>20, took.Round(time.Millisecond), float64(records)/took.Seconds(), created)
	d, err := readBack(ctx, db, cfg)
	return d, memberships, err
}

// importParts splits an import body at line ends into parts of at most
// limit bytes: records refer only to earlier lines, so parts sent in order
// import as the whole would.
func importParts(body []byte, limit int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for len(body) > 0 {
			n := len(body)
			if n > limit {
				n = bytes.LastIndexByte(body[:limit], '\n') + 1
			}
			if !yield(body[:n]) {
				return
			}
			body = body[n:]
		}
	}
}

// postImport sends one import request and returns how many records it
// created; any failed record is an error.
func postImport(ctx context.Context, base, token string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/import", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var result httpapi.ImportResult
	if err := json.NewDecoder(res.Body).Decode(&result); err != nil || res.StatusCode != http.StatusOK || result.Failed > 0 {
		return 0, fmt.Errorf("import: status %d, %d failed, first %+v (%v)", res.StatusCode, result.Failed, result.Errors[:min(3, len(result.Errors))], err)
	}
	return result.Created, nil
}

// importRecords is the dataset as an import body. Each user belongs to one
// organisation (its first user owns it and every one of its workspaces, its
// second administers it) and to most of that organisation's workspaces.
func importRecords(cfg loadConfig) (body []byte, records, memberships int) {
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed))
	now := time.Now()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	line := func(r map[string]any) {
		enc.Encode(r)
		records++
	}
	email := func(i int) string { return fmt.Sprintf("user%d@load.example", i) }
	for i := range cfg.users {
		line(map[string]any{"type": "user", "email": email(i), "display_name": email(i)})
	}
	for i := range cfg.orgs {
		line(map[string]any{"type": "org", "slug": fmt.Sprintf("org-%d", i), "name": fmt.Sprintf("Org %d", i), "owner": email(i)})
	}
	wsByOrg := make([][]string, cfg.orgs)
	for i := range cfg.workspaces {
		org, slug := i%cfg.orgs, fmt.Sprintf("ws-%d", i)
		wsByOrg[org] = append(wsByOrg[org], slug)
		line(map[string]any{"type": "workspace", "org": fmt.Sprintf("org-%d", org), "slug": slug, "name": fmt.Sprintf("Workspace %d", i), "owner": email(org)})
	}
	wsRoles := []roster.WorkspaceRole{roster.RoleAdmin, roster.RoleMember, roster.RoleMember, roster.RoleMember, roster.RoleViewer}
	for i := cfg.orgs; i < cfg.users; i++ { // the owners joined with their organisations
		role := roster.OrgMember
		if i/cfg.orgs == 1 {
			role = roster.OrgAdmin
		}
		line(map[string]any{"type": "org_membership", "org": fmt.Sprintf("org-%d", i%cfg.orgs), "user": email(i), "role": role})
	}
	for i := cfg.orgs; i < cfg.users; i++ {
		org := i % cfg.orgs
		for _, ws := range wsByOrg[org] {
			if rng.IntN(10) == 0 {
				continue
			}
			r := map[string]any{"type": "membership", "org": fmt.Sprintf("org-%d", org), "workspace": ws, "user": email(i),
				"role": wsRoles[rng.IntN(len(wsRoles))]}
			if rng.IntN(100) < cfg.expiringPct {
				r["expires_at"] = now.Add(time.Duration(rng.IntN(7200)-3600) * time.Second).UTC().Format(time.RFC3339)
			}
			line(r)
		}
	}
	// Every record after the users is a membership or makes one: an
	// organisation's owner, a workspace's owner.
	return b.Bytes(), records, records - cfg.users
}

// readBack is the dataset by the ids the import gave: users in order, every
// workspace, and every membership for the ceiling.
func readBack(ctx context.Context, db *store.DB, cfg loadConfig) (dataset, error) {
	d := dataset{memberOf: make([][]string, cfg.users), access: ceilingAccess{orgOf: map[string]string{},
		orgMember: map[string]roster.OrgMembership{}, direct: map[string]map[string]roster.WorkspaceMembership{}}}
	var emails, slugs []string
	byEmail, bySlug := map[string]int{}, map[string]int{}
	for i := range cfg.users {
		emails = append(emails, roster.EmailKey(fmt.Sprintf("user%d@load.example", i)))
		byEmail[emails[i]] = i
	}
	for i := range cfg.orgs {
		slugs = append(slugs, fmt.Sprintf("org-%d", i))
		bySlug[slugs[i]] = i
	}
	users, err := db.FindUsers(ctx, nil, emails)
	if err != nil {
		return d, err
	}
	index := map[string]int{}
	d.users = make([]string, cfg.users)
	for _, u := range users {
		i := byEmail[roster.EmailKey(*u.Email)]
		d.users[i], index[u.ID] = u.ID, i
	}
	orgs, err := db.FindOrgs(ctx, slugs)
	if err != nil {
		return d, err
	}
	d.orgIDs, d.wsOrg = make([]string, cfg.orgs), map[string]int{}
	orgIndex := map[string]int{}
	for _, o := range orgs {
		d.orgIDs[bySlug[o.Slug]], orgIndex[o.ID] = o.ID, bySlug[o.Slug]
	}
	st, err := db.ImportState(ctx, d.orgIDs, d.users)
	if err != nil {
		return d, err
	}
	for _, w := range st.Workspaces {
		d.workspaces = append(d.workspaces, w.ID)
		d.access.orgOf[w.ID], d.wsOrg[w.ID] = w.OrgID, orgIndex[w.OrgID]
	}
	for _, m := range st.OrgMemberships {
		d.access.orgMember[m.UserID] = m
	}
	for _, m := range st.Memberships {
		if d.access.direct[m.UserID] == nil {
			d.access.direct[m.UserID] = map[string]roster.WorkspaceMembership{}
		}
		d.access.direct[m.UserID][m.WorkspaceID] = m
		d.memberOf[index[m.UserID]] = append(d.memberOf[index[m.UserID]], m.WorkspaceID)
	}
	return d, nil
}

// reportMemory prints what the process holds once every user and workspace
// is cached: its resident memory (the load driver's copy of the dataset
// included) and the Go heap in use, after a collection that returns what
// the seeding freed to the system.
func reportMemory(out io.Writer, profile string) error {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := "unknown"
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(status)) {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				rss = strings.TrimSpace(v)
			}
		}
	}
	fmt.Fprintf(out, "memory with every user and workspace cached: resident %s, Go heap in use %d MB (the driver's copy of the dataset included)\n",
		rss, ms.HeapInuse>>20)
	if profile == "" {
		return nil
	}
	f, err := os.Create(profile)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.WriteHeapProfile(f)
}

// awaitExpiries waits until the tasks of the memberships that have already
// expired have ended them: the import scheduled each membership's end, and
// the load should not be measured while the replica catches up on them.
func awaitExpiries(ctx context.Context, out io.Writer, db *store.DB, data dataset) error {
	now, due := time.Now(), 0
	for _, ms := range data.access.direct {
		for _, m := range ms {
			if m.ExpiresAt != nil && !m.ExpiresAt.After(now) {
				due++
			}
		}
	}
	start := time.Now()
	for {
		counts, err := db.CountTasks(ctx)
		if err != nil {
			return err
		}
		if counts[roster.TaskMembershipExpiry][roster.TaskCompleted] >= due {
			break
		}
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("%d memberships had expired; their tasks ended %d in 5 minutes", due, counts[roster.TaskMembershipExpiry][roster.TaskCompleted])
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(out, "%d memberships that had expired ended by their tasks in %v\n", due, time.Since(start).Round(time.Millisecond))
	return nil
}
