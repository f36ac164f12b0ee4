package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

func TestLanguageFollowsTheBrowserUntilChosen(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, token := env.NewUserWithToken("ann@example.com")
		env.CreateOrg(token, "acme")
		br := newBrowser(t, env)
		for _, c := range []struct{ accept, lang, title string }{
			{"nl-NL,nl;q=0.9,en;q=0.5", "nl", "Je organisaties"},
			{"fr-CH, fr;q=0.9", "fr", "Vos organisations"},
			{"ja, de;q=0.5", "de", "Ihre Organisationen"},
			{"ja", "en", "Your organisations"},
			{"", "en", "Your organisations"},
		} {
			br.lang = c.accept
			if c.lang == "nl" {
				br.signIn(token)
			}
			p := br.get("/console/").want(t, http.StatusOK)
			if !strings.Contains(p.Body, `<html lang="`+c.lang+`">`) || !p.has(c.title) {
				t.Errorf("Accept-Language %q: want the page in %s, titled %q:\n%s", c.accept, c.lang, c.title, p.Body)
			}
		}

		// Choosing a language is remembered over the browser's wish, and
		// the switch comes back to the page it was used on.
		br.lang = "nl"
		orgPage := "/console/?page=0"
		sw := br.get("/console/language?set=es&back=" + orgPage)
		if sw.Status != http.StatusSeeOther || sw.Header.Get("Location") != orgPage {
			t.Fatalf("switching language: %d to %q, want a 303 back to %s", sw.Status, sw.Header.Get("Location"), orgPage)
		}
		p := br.follow(sw)
		if !strings.Contains(p.Body, `<html lang="es">`) || !p.has("Sus organizaciones") {
			t.Errorf("after choosing Spanish the page is not in Spanish:\n%s", p.Body)
		}

		// The switch never leads off the console.
		for _, back := range []string{"https://evil.example/", "//evil.example/console/", "/v1/me", `/console/\evil`} {
			if sw := br.get("/console/language?set=de&back=" + back); sw.Header.Get("Location") != "/console/" {
				t.Errorf("back=%s: redirected to %q, want /console/", back, sw.Header.Get("Location"))
			}
		}
		if sw := br.get("/console/language?set=xx&back=/console/"); sw.Status != http.StatusSeeOther {
			t.Errorf("an unknown language: %d", sw.Status)
		}
		if p := br.get("/console/"); !strings.Contains(p.Body, `<html lang="de">`) {
			t.Error("an unknown language replaced the chosen one")
		}
	})
}

func TestDatesAndNumbersFollowTheLanguage(t *testing.T) {
	env := rostertest.NewEnv(t, rostertest.SQLite)
	_, token := env.NewUserWithToken("ann@example.com")
	org, _ := env.CreateOrg(token, "acme")
	env.Expect(http.StatusOK, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + org.ID + "/plan", Token: env.AdminToken, Body: map[string]any{"seat_cap": 25000}})
	br := newBrowser(t, env)
	joined := env.Clock.Now()
	br.signIn(token)
	for _, c := range []struct{ lang, date, number string }{
		{"en", joined.Format("2 Jan 2006, 15:04"), "25,000"},
		{"de", joined.Format("02.01.2006, 15:04"), "25.000"},
		{"nl", joined.Format("02-01-2006 15:04"), "25.000"},
		{"fr", joined.Format("02/01/2006 15:04"), "25\u00a0000"},
	} {
		br.lang = c.lang
		p := br.get("/console/orgs/"+org.ID).want(t, http.StatusOK)
		if !p.has(c.date) || !p.has(c.number) {
			t.Errorf("%s: want the date as %q and the cap as %q:\n%s", c.lang, c.date, c.number, p.Body)
		}
	}
}
