package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

// TestLoginLinkSignsIn prints a link with the command and signs in with it
// on a running server, as an operator would.
func TestLoginLinkSignsIn(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		dsn := rostertest.NewDSN(t, b)
		srv := startServe(t, dsn)
		if !strings.Contains(srv.out.String(), "/console/") {
			t.Errorf("serve does not say where the console is:\n%s", srv.out.String())
		}
		link := lastLine(runCommand(t, "login-link", "--database", dsn, "--email", "admin@example.com", "--url", "http://"+srv.addr+"/"))
		if !strings.HasPrefix(link, "http://"+srv.addr+"/console/login/rst_lnk_") {
			t.Fatalf("login-link printed %q", link)
		}
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		res, err := client.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, res)
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
		if res.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("opening the link: %d\n%s", res.StatusCode, body)
		}
		res, err = client.PostForm(link, url.Values{"csrf": {m[1]}})
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, res); res.StatusCode != http.StatusOK || !strings.Contains(body, `action="/console/sign-out"`) {
			t.Errorf("signing in with the link: %d\n%s", res.StatusCode, body)
		}

		if _, err := runCommandErr("login-link", "--database", dsn, "--email", "nobody@example.com"); err == nil {
			t.Error("a link for an unknown email was printed")
		}
	})
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
