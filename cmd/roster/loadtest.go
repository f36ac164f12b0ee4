package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/service"
	"github.com/roster-dev/roster/store"
)

// loadConfig shapes the generated dataset and the load.
type loadConfig struct {
	dsn         string
	users       int
	orgs        int
	workspaces  int // in all, spread evenly over the organisations
	expiringPct int
	duration    time.Duration
	warmup      time.Duration
	concurrency []int
	writers     int // membership writers to measure after the checks; 0: none
	seed        uint64
	cpuProfile  string // where to write a CPU profile of the measured runs
	memProfile  string // where to write a heap profile once everything is cached
	ceiling     bool   // also measure a trivial in-memory server behind the same driver
	cold        int    // users whose first check is measured, at concurrency 1 and again 8
	seal        bool   // chain the audit log as serve does (off: to measure what sealing costs)
	resources   int    // resources to add, with shares and guests, and checks on them
	replica     bool   // also measure the memory of a replica in a process of its own
	replicaMem  string // that replica's GOMEMLIMIT, if any
}

func newLoadtestCommand() *cobra.Command {
	cfg := loadConfig{}
	cmd := &cobra.Command{
		Use:   "loadtest",
		Args:  cobra.NoArgs,
		Short: "Generate a realistic dataset and measure POST /v1/check over HTTP",
		Long: "Seeds a fresh database (by default a temporary SQLite file) with users, organisations,\n" +
			"workspaces and memberships (some expiring), serves Roster on a loopback port, and drives\n" +
			"POST /v1/check at each concurrency, printing checks/s, p50 and p99; with --writers, then\n" +
			"membership writes from that many concurrent writers, printing writes/s, p50, p99 and statuses.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return loadtest(cmd.Context(), cmd.OutOrStdout(), cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.dsn, "database", "", "an EMPTY database to seed (default: a temporary SQLite file)")
	cmd.Flags().IntVar(&cfg.users, "users", 10_000, "users")
	cmd.Flags().IntVar(&cfg.orgs, "orgs", 1_000, "organisations")
	cmd.Flags().IntVar(&cfg.workspaces, "workspaces", 10_000, "workspaces")
	cmd.Flags().IntVar(&cfg.expiringPct, "expiring", 12, "percent of workspace memberships that expire (half of them already have)")
	cmd.Flags().DurationVar(&cfg.duration, "duration", 10*time.Second, "measured time per concurrency level")
	cmd.Flags().DurationVar(&cfg.warmup, "warmup", 2*time.Second, "unmeasured time before each level")
	cmd.Flags().IntSliceVar(&cfg.concurrency, "concurrency", []int{1, 8}, "concurrency levels of checks (0: measure no checks)")
	cmd.Flags().IntVar(&cfg.writers, "writers", 0, "then measure membership writes (PUT and DELETE /v1/workspaces/{ws}/members/{user}) from this many concurrent writers")
	cmd.Flags().Uint64Var(&cfg.seed, "seed", 1, "random seed")
	cmd.Flags().StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the load (server and driver) to this file")
	cmd.Flags().StringVar(&cfg.memProfile, "memprofile", "", "write a heap profile to this file once every user and workspace is cached")
	cmd.Flags().IntVar(&cfg.resources, "resources", 0, "also seed this many resources (three in ten shared with another workspace, one in ten with a guest) and measure checks on them")
	cmd.Flags().BoolVar(&cfg.ceiling, "ceiling", true, "also measure a trivial in-memory server answering the same checks behind the same driver: the ceiling of HTTP and JSON here")
	cmd.Flags().IntVar(&cfg.cold, "cold", 1000, "first measure the first check of this many users at concurrency 1, and of as many others at 8 (cold: in no cache)")
	cmd.Flags().BoolVar(&cfg.replica, "replica", true, "also start roster serve on the database as a process of its own, cache every user and workspace there, and print its resident memory")
	cmd.Flags().StringVar(&cfg.replicaMem, "replica-memlimit", "", "the GOMEMLIMIT of that replica, e.g. 300MiB (default: none)")
	cmd.Flags().BoolVar(&cfg.seal, "seal", true, "chain the audit log while writing, as serve does (--seal=false measures what sealing costs)")
	return cmd
}

// dataset is what the load draws checks from.
type dataset struct {
	users      []string
	workspaces []string
	// memberOf lists, per user index, workspaces the user has a direct membership of.
	memberOf [][]string
	// resources, and the resources each workspace owns.
	resources   []string
	resourcesOf map[string][]string
	// access is every membership, for the ceiling server.
	access ceilingAccess
	// orgIDs by organisation index, and each workspace's organisation index.
	orgIDs []string
	wsOrg  map[string]int
}

func loadtest(ctx context.Context, out io.Writer, cfg loadConfig) error {
	if cfg.dsn == "" {
		dir, err := os.MkdirTemp("", "roster-loadtest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.dsn = "sqlite:" + filepath.Join(dir, "roster.db")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := openMigrated(ctx, cfg.dsn, store.Options{}, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if has, err := db.HasUsers(ctx); err != nil || has {
		return fmt.Errorf("loadtest needs an empty database (err=%v)", err)
	}

	start := time.Now()
	data, memberships, err := seedByImport(ctx, db, cfg, out)
	if err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	if err := seedResources(ctx, db, &data, cfg); err != nil {
		return fmt.Errorf("seeding resources: %w", err)
	}
	fmt.Fprintf(out, "dataset: %d users, %d organisations, %d workspaces, %d memberships (%d%% of workspace memberships expire), %d resources on %s, seeded in %v\n",
		len(data.users), cfg.orgs, len(data.workspaces), memberships, cfg.expiringPct, len(data.resources), db.Dialect(), time.Since(start).Round(time.Millisecond))

	svc := service.New(db, service.Options{Logger: log, NoSealer: !cfg.seal})
	_, token, err := svc.EnsureAdmin(roster.WithActor(ctx, roster.SystemActor()), "loadtest@localhost")
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go svc.Run(runCtx)
	tasksDone := make(chan error, 1)
	go func() { tasksDone <- svc.RunTasks(runCtx) }() // as serve does: the writes' tasks run beside them
	defer func() { stop(); <-tasksDone }()            // before the store closes
	api := httpapi.New(svc, db, httpapi.Options{Logger: log, QuietRequests: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	select { // the caches are used only once the service hears every write
	case <-svc.Listening():
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the service did not start listening")
	}
	if err := awaitExpiries(ctx, out, db, data); err != nil {
		return err
	}
	if cfg.seal { // chain what the import wrote before measuring, as a replica that has run a while has
		start := time.Now()
		if err := svc.SealNow(ctx); err != nil {
			return err
		}
		fmt.Fprintf(out, "audit events of the import sealed in %v\n", time.Since(start).Round(time.Millisecond))
	}
	if err := measureCold(ctx, out, base, token, data, cfg.cold); err != nil {
		return err
	}
	// A server that has run a while holds the users and workspaces it is
	// asked about: load them, as the seed wrote them.
	start = time.Now()
	if err := warmUsers(ctx, base, token, data); err != nil {
		return err
	}
	fmt.Fprintf(out, "users and workspaces first checked (from the database, 1,000 checks a batch): %d users in %v\n", len(data.users), time.Since(start).Round(time.Millisecond))
	if err := reportMemory(out, cfg.memProfile); err != nil {
		return err
	}
	if cfg.replica {
		if err := measureReplica(ctx, out, cfg.dsn, token, cfg.replicaMem, data); err != nil {
			return err
		}
	}
	if len(data.resources) > 0 {
		// A server that has run a while holds the resources it is asked
		// about, as it holds the workspaces; load them as the seed did.
		start := time.Now()
		if err := warmResources(ctx, base, token, data); err != nil {
			return err
		}
		fmt.Fprintf(out, "resources first checked (from the database, 1,000 a batch): %d in %v\n", len(data.resources), time.Since(start).Round(time.Millisecond))
	}
	rates := map[int]float64{} // checks/s by concurrency
	for _, c := range cfg.concurrency {
		if c <= 0 {
			continue
		}
		drive(ctx, base, token, data, c, cfg.warmup, cfg.seed, check) // warm caches and connections
		res, err := drive(ctx, base, token, data, c, cfg.duration, cfg.seed+uint64(c), check)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "concurrency %d: %d checks in %v: %.0f checks/s, p50 %v, p99 %v, %d allowed, %d errors\n",
			c, res.count, res.elapsed.Round(time.Millisecond), float64(res.count)/res.elapsed.Seconds(),
			res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.allowed, res.errors+res.refused+res.failed)
		rates[c] = float64(res.count) / res.elapsed.Seconds()
		if len(data.resources) == 0 {
			continue
		}
		drive(ctx, base, token, data, c, cfg.warmup, cfg.seed, checkResource)
		res, err = drive(ctx, base, token, data, c, cfg.duration, cfg.seed+uint64(c), checkResource)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "concurrency %d: %d resource checks in %v: %.0f checks/s, p50 %v, p99 %v, %d allowed, %d errors\n",
			c, res.count, res.elapsed.Round(time.Millisecond), float64(res.count)/res.elapsed.Seconds(),
			res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.allowed, res.errors+res.refused+res.failed)
	}
	if cfg.ceiling && len(rates) > 0 {
		if err := measureCeiling(ctx, out, base, token, data, cfg, rates); err != nil {
			return err
		}
	}
	if cfg.writers > 0 {
		c := cfg.writers
		drive(ctx, base, token, data, c, cfg.warmup, cfg.seed, writeMembership)
		res, err := drive(ctx, base, token, data, c, cfg.duration, cfg.seed+uint64(c), writeMembership)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "writers %d: %d membership writes in %v: %.0f writes/s, p50 %v, p99 %v, %d 2xx, %d 4xx, %d 5xx, %d errors\n",
			c, res.count, res.elapsed.Round(time.Millisecond), float64(res.count)/res.elapsed.Seconds(),
			res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.ok, res.refused, res.failed, res.errors)
		if cfg.seal {
			// How far behind the writes the sealer ended: the time it takes
			// to chain what was left when they stopped.
			start := time.Now()
			if err := svc.SealNow(ctx); err != nil {
				return err
			}
			head, err := db.ChainHeadNow(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "audit chain: %d events sealed; the sealer caught up %v after the writes stopped\n",
				head.Pos, time.Since(start).Round(time.Millisecond))
		}
	}
	return nil
}

// seedResources adds cfg.resources resources straight through the store (an
// import carries none) to random workspaces: three in ten
// shared with another workspace, one in ten with a guest (50,000 resources
// carry about 20,000 shares and guest grants).
func seedResources(ctx context.Context, db *store.DB, d *dataset, cfg loadConfig) error {
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed+1))
	now := roster.Now(time.Now)
	n, wsOrg, orgIDs := cfg.resources, d.wsOrg, d.orgIDs
	var ops []func(roster.Tx) error
	d.resourcesOf = map[string][]string{}
	roles := []roster.ShareRole{roster.ShareEditor, roster.ShareViewer}
	for i := range n {
		ws := d.workspaces[rng.IntN(len(d.workspaces))]
		r := roster.Resource{ID: roster.NewID(roster.PrefixResource), WorkspaceID: ws, OrgID: orgIDs[wsOrg[ws]], Type: "document",
			ExternalID: fmt.Sprintf("doc-%d", i), Name: fmt.Sprintf("Document %d", i), CreatedAt: now, UpdatedAt: now}
		d.resources = append(d.resources, r.ID)
		d.resourcesOf[ws] = append(d.resourcesOf[ws], r.ID)
		var shares []roster.ResourceShare
		if rng.IntN(10) < 3 {
			other := d.workspaces[rng.IntN(len(d.workspaces))]
			shares = append(shares, roster.ResourceShare{ResourceID: r.ID, GranteeKind: roster.GranteeWorkspace, GranteeID: other,
				Role: roles[rng.IntN(2)], CreatedAt: now, UpdatedAt: now})
		}
		if rng.IntN(10) == 0 {
			shares = append(shares, roster.ResourceShare{ResourceID: r.ID, GranteeKind: roster.GranteeUser, GranteeID: d.users[rng.IntN(len(d.users))],
				Role: roles[rng.IntN(2)], CreatedAt: now, UpdatedAt: now})
		}
		ops = append(ops, func(tx roster.Tx) error {
			if _, err := tx.CreateResource(ctx, r); err != nil {
				return err
			}
			for _, s := range shares {
				if _, err := tx.PutShare(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for chunk := range slices.Chunk(ops, 5000) {
		if err := db.Update(ctx, func(tx roster.Tx) error {
			for _, op := range chunk {
				if err := op(tx); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// checkResource asks about a random user and resource; three in four
// checks ask about a resource of a workspace the user is a member of.
func checkResource(rng *rand.Rand, base string, data dataset, body *bytes.Buffer) (*http.Request, error) {
	actions := []string{"resources.read", "resources.write", "resources.delete", "resources.share"}
	u := rng.IntN(len(data.users))
	r := data.resources[rng.IntN(len(data.resources))]
	if mine := data.memberOf[u]; len(mine) > 0 && rng.IntN(4) != 0 {
		if owned := data.resourcesOf[mine[rng.IntN(len(mine))]]; len(owned) > 0 {
			r = owned[rng.IntN(len(owned))]
		}
	}
	json.NewEncoder(body).Encode(map[string]string{"user_id": data.users[u], "action": actions[rng.IntN(len(actions))], "resource_id": r})
	return http.NewRequest(http.MethodPost, base+"/v1/check", bytes.NewReader(body.Bytes()))
}

// warmChecks asks every check of checks once, 1,000 a batch: what a
// server that has run a while holds in memory.
func warmChecks(ctx context.Context, base, token string, checks []map[string]string) error {
	for batch := range slices.Chunk(checks, roster.MaxCheckBatch) {
		body, err := json.Marshal(map[string]any{"checks": batch})
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/check/batch", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("warming the caches: %s", resp.Status)
		}
	}
	return nil
}

// warmUsers checks every user in each of their workspaces, and every
// workspace once.
func warmUsers(ctx context.Context, base, token string, data dataset) error {
	var checks []map[string]string
	for i, u := range data.users {
		for _, ws := range data.memberOf[i] {
			checks = append(checks, map[string]string{"user_id": u, "action": "workspace.read", "workspace_id": ws})
		}
	}
	for _, ws := range data.workspaces {
		checks = append(checks, map[string]string{"user_id": data.users[0], "action": "workspace.read", "workspace_id": ws})
	}
	return warmChecks(ctx, base, token, checks)
}

// warmResources checks every resource once.
func warmResources(ctx context.Context, base, token string, data dataset) error {
	var checks []map[string]string
	for _, r := range data.resources {
		checks = append(checks, map[string]string{"user_id": data.users[0], "action": "resources.read", "resource_id": r})
	}
	return warmChecks(ctx, base, token, checks)
}

type loadResult struct {
	count, allowed, errors int
	ok, refused, failed    int // answers by class: 2xx, 4xx, 5xx
	elapsed                time.Duration
	p50, p99               time.Duration
}

// request builds one request of a load.
type request func(rng *rand.Rand, base string, data dataset, body *bytes.Buffer) (*http.Request, error)

// check asks about a random user and workspace; three in four checks ask
// about a workspace the user is a member of.
func check(rng *rand.Rand, base string, data dataset, body *bytes.Buffer) (*http.Request, error) {
	actions := []string{"workspace.read", "resources.write", "members.manage", "resources.delete"}
	u := rng.IntN(len(data.users))
	ws := data.workspaces[rng.IntN(len(data.workspaces))]
	if mine := data.memberOf[u]; len(mine) > 0 && rng.IntN(4) != 0 {
		ws = mine[rng.IntN(len(mine))]
	}
	json.NewEncoder(body).Encode(map[string]string{"user_id": data.users[u], "action": actions[rng.IntN(len(actions))], "workspace_id": ws})
	return http.NewRequest(http.MethodPost, base+"/v1/check", bytes.NewReader(body.Bytes()))
}

// writeMembership sets a random user's role in a workspace of their
// organisation, or (one time in five) removes them from it.
func writeMembership(rng *rand.Rand, base string, data dataset, body *bytes.Buffer) (*http.Request, error) {
	u := rng.IntN(len(data.users))
	mine := data.memberOf[u]
	if len(mine) == 0 {
		return writeMembership(rng, base, data, body)
	}
	url := base + "/v1/workspaces/" + mine[rng.IntN(len(mine))] + "/members/" + data.users[u]
	if rng.IntN(5) == 0 {
		return http.NewRequest(http.MethodDelete, url, nil)
	}
	roles := []roster.WorkspaceRole{roster.RoleAdmin, roster.RoleMember, roster.RoleViewer}
	json.NewEncoder(body).Encode(map[string]roster.WorkspaceRole{"role": roles[rng.IntN(len(roles))]})
	return http.NewRequest(http.MethodPut, url, bytes.NewReader(body.Bytes()))
}

// drive sends requests made by next from c workers for d and reports what
// it measured.
func drive(ctx context.Context, base, token string, data dataset, c int, d time.Duration, seed uint64, next request) (loadResult, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var all []time.Duration
	var res loadResult
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			var lat []time.Duration
			var mine loadResult
			body := &bytes.Buffer{}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				body.Reset()
				req, err := next(rng, base, data, body)
				if errors.Is(err, errDone) {
					break
				}
				if err != nil {
					mine.errors++
					continue
				}
				req = req.WithContext(ctx)
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					mine.errors++
					continue
				}
				var dec struct {
					Allowed bool `json:"allowed"`
				}
				json.NewDecoder(resp.Body).Decode(&dec)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
				switch {
				case resp.StatusCode >= 500:
					mine.failed++
				case resp.StatusCode >= 400:
					mine.refused++
				default:
					mine.ok++
					if dec.Allowed {
						mine.allowed++
					}
				}
			}
			mu.Lock()
			all = append(all, lat...)
			res.allowed += mine.allowed
			res.ok += mine.ok
			res.refused += mine.refused
			res.failed += mine.failed
			res.errors += mine.errors
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.count = len(all)
	if len(all) == 0 {
		return res, fmt.Errorf("no request completed")
	}
	slices.Sort(all)
	res.p50 = all[len(all)/2]
	res.p99 = all[len(all)*99/100]
	return res, nil
}
