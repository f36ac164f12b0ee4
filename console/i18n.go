package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.json
var localeFiles embed.FS

// languages are the console's languages, English first: it is the
// fallback for a browser that asks for none of them.
var languages = []language.Tag{language.English, language.Dutch, language.German, language.French, language.Spanish, language.Italian}

var languageMatcher = language.NewMatcher(languages)

// catalog holds every message of every language.
type catalog struct {
	bundle  *i18n.Bundle
	locales map[string]*locale // by language code
}

func loadCatalog() (*catalog, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	files, err := fs.Glob(localeFiles, "locales/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := b.LoadMessageFileFS(localeFiles, f); err != nil {
			return nil, fmt.Errorf("loading %s: %w", path.Base(f), err)
		}
	}
	c := &catalog{bundle: b, locales: map[string]*locale{}}
	for _, tag := range languages {
		code := tag.String()
		c.locales[code] = &locale{Code: code, tag: tag, loc: i18n.NewLocalizer(b, code), printer: message.NewPrinter(tag)}
	}
	return c, nil
}

// choose picks the language of a request: the one the visitor chose (a
// cookie), else the best match for the browser's Accept-Language.
func (c *catalog) choose(chosen, acceptLanguage string) *locale {
	if l, ok := c.locales[chosen]; ok {
		return l
	}
	_, i, _ := languageMatcher.Match(parseAccept(acceptLanguage)...)
	return c.locales[languages[i].String()]
}

func parseAccept(header string) []language.Tag {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil {
		return nil
	}
	return tags
}

// locale is one language: its messages, numbers and dates.
type locale struct {
	Code    string
	tag     language.Tag
	loc     *i18n.Localizer
	printer *message.Printer
}

// T is the message id in this language. args are pairs of a name and a
// value for the message's template; a pair named "Count" also picks the
// plural form. A message missing in this language falls back to English;
// one missing everywhere shows its id (the catalog test keeps that from
// shipping).
func (l *locale) T(id string, args ...any) string {
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			name, _ := args[i].(string)
			data[name] = args[i+1]
			if name == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := l.loc.Localize(cfg)
	if err != nil && s == "" {
		return id
	}
	return s
}

// Has reports whether the catalog has a message with this id.
func (l *locale) Has(id string) bool {
	_, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id})
	return err == nil
}

// Num formats an integer (or what an *int points to) with this
// language's digit grouping.
func (l *locale) Num(n any) string {
	if p, ok := n.(*int); ok && p != nil {
		n = *p
	}
	return l.printer.Sprint(n)
}

// Date formats a moment in this language's layout, in UTC.
func (l *locale) Date(t time.Time) string {
	return t.UTC().Format(l.T("format.datetime"))
}

// Left says how long until t, from now, in whole days, hours or minutes.
func (l *locale) Left(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d <= 0:
		return l.T("time.expired")
	case d >= 48*time.Hour:
		return l.T("time.left.days", "Count", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return l.T("time.left.hours", "Count", int(d/time.Hour))
	default:
		return l.T("time.left.minutes", "Count", max(int(d/time.Minute), 1))
	}
}

// languageName is a language's name in itself, for the language switch.
func (c *catalog) languageName(code string) string {
	return c.locales[code].T("language.name")
}

// isLanguage reports whether code names one of the console's languages.
func isLanguage(code string) bool {
	for _, t := range languages {
		if strings.EqualFold(t.String(), code) {
			return true
		}
	}
	return false
}
