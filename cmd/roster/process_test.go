package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
)

func TestMain(m *testing.M) {
	if os.Getenv(runAsRoster) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// process is `roster serve` running as a child process.
type process struct {
	cmd   *exec.Cmd
	addr  string
	token string // printed on the database's first start
	exit  chan error
	log   *syncBuffer
}

var listeningLine = regexp.MustCompile(`Roster is listening on http://(\S+)`)

func startProcess(t *testing.T, dsn string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--database", dsn, "--listen", "127.0.0.1:0", "--quiet")
	cmd.Env = append(os.Environ(), runAsRoster+"=1")
	p := &process{cmd: cmd, exit: make(chan error, 1), log: &syncBuffer{}}
	cmd.Stderr = p.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exit
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.exit <- cmd.Wait()
	}()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("roster serve exited before listening:\n%s", p.log.String())
			}
			if tok := patPattern.FindString(line); tok != "" {
				p.token = tok
			}
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				p.addr = m[1]
				go func() { // keep draining stdout
					for range lines {
					}
				}()
				return p
			}
		case <-timeout:
			t.Fatalf("roster serve did not listen within 60 s:\n%s", p.log.String())
		}
	}
}

// TestSIGTERMDrainsARealProcess: SIGTERM to a serving process lets the
// request in flight finish, then the process exits cleanly.
func TestSIGTERMDrainsARealProcess(t *testing.T) {
	t.Parallel()
	p := startProcess(t, rostertest.NewDSN(t, rostertest.SQLite))
	finish := startInFlight(t, p.addr, p.token)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exit:
		t.Fatalf("roster exited (%v) with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	finish()
	select {
	case err := <-p.exit:
		if err != nil {
			t.Errorf("roster exited with %v after SIGTERM", err)
		}
		p.exit <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("roster did not exit after SIGTERM")
	}
}

// TestSIGKILLLosesNoAcknowledgedWrite: writers create users while the
// process is killed with SIGKILL, several times; after each restart every
// user whose creation was acknowledged is there.
func TestSIGKILLLosesNoAcknowledgedWrite(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		dsn := rostertest.NewDSN(t, b)
		var acked []string // user ids answered 201
		token := ""
		for cycle := range 3 {
			p := startProcess(t, dsn)
			if cycle == 0 {
				token = p.token
			}
			for _, id := range acked {
				if status := userStatus(t, p.addr, token, id); status != 200 {
					t.Fatalf("after SIGKILL %d: acknowledged user %s answers %d", cycle, id, status)
				}
			}
			acked = append(acked, writeUntilKilled(t, p, token, cycle)...)
		}
		p := startProcess(t, dsn)
		for _, id := range acked {
			if status := userStatus(t, p.addr, token, id); status != 200 {
				t.Fatalf("after the last SIGKILL: acknowledged user %s answers %d", id, status)
			}
		}
		t.Logf("%d acknowledged writes survived 3 SIGKILLs", len(acked))
	})
}

// writeUntilKilled runs 8 writers against p, kills p with SIGKILL once some
// writes were acknowledged, and returns the ids of the acknowledged ones.
func writeUntilKilled(t *testing.T, p *process, token string, cycle int) []string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	var mu sync.Mutex
	var acked []string
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				body := fmt.Sprintf(`{"email":"c%d-w%d-%d@example.com"}`, cycle, w, i)
				req, _ := http.NewRequest("POST", "http://"+p.addr+"/v1/users", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					return // killed
				}
				var u struct{ ID string }
				json.NewDecoder(res.Body).Decode(&u)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					continue
				}
				mu.Lock()
				acked = append(acked, u.ID)
				if len(acked) >= 40 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(30 * time.Second):
		t.Fatal("the writers got too few writes acknowledged")
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	err := <-p.exit
	p.exit <- err // for the cleanup
	mu.Lock()
	defer mu.Unlock()
	return acked
}

func userStatus(t *testing.T, addr, token, id string) int {
	t.Helper()
	status, _ := get(t, "http://"+addr+"/v1/users/"+id, token)
	return status
}

// TestSIGTERMEndsOpenEventStreams: an event stream lasts as long as its
// client, so a shutdown ends it instead of waiting for it.
func TestSIGTERMEndsOpenEventStreams(t *testing.T) {
	t.Parallel()
	p := startProcess(t, rostertest.NewDSN(t, rostertest.SQLite))
	req, _ := http.NewRequest("GET", "http://"+p.addr+"/v1/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("stream: %v %v", res, err)
	}
	defer res.Body.Close()
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, res.Body); close(ended) }()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exit:
		if err != nil {
			t.Errorf("roster exited with %v after SIGTERM", err)
		}
		p.exit <- err // for the cleanup
	case <-time.After(20 * time.Second): // the drain's own bound is 30 s
		t.Fatal("roster waited for the open stream instead of ending it")
	}
	<-ended
	t.Logf("exited %v after SIGTERM with a stream open", time.Since(start).Round(time.Millisecond))
}
