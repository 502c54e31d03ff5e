// Package i18n holds Relais' message catalogues (French first, English second), picks
// the visitor's language, and writes dates the way each language does.
//
// Catalogues are TOML files in locales/, named AREA.LANG.toml so that each feature keeps
// its own file. Message ids are dotted ("event.register"); plural messages use go-i18n's
// one/other forms (French treats 0 and 1 as "one").
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var localeFS embed.FS

// Langs are the supported languages, the default first.
var Langs = []string{"fr", "en"}

// Bundle is the loaded set of catalogues.
type Bundle struct {
	b          *goi18n.Bundle
	localizers map[string]*goi18n.Localizer
	ids        map[string]map[string]bool // lang → message ids
	matcher    language.Matcher
}

// New loads every embedded catalogue. It fails when a catalogue does not parse.
func New() (*Bundle, error) {
	b := goi18n.NewBundle(language.French)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(localeFS, "locales/*.toml")
	if err != nil {
		return nil, err
	}
	out := &Bundle{b: b, localizers: map[string]*goi18n.Localizer{}, ids: map[string]map[string]bool{}}
	for _, f := range files {
		data, err := localeFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		// go-i18n reads the language from the last dotted part before .toml.
		mf, err := b.ParseMessageFileBytes(data, path.Base(f))
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
		lang := mf.Tag.String()
		if out.ids[lang] == nil {
			out.ids[lang] = map[string]bool{}
		}
		for _, m := range mf.Messages {
			out.ids[lang][m.ID] = true
		}
	}
	tags := make([]language.Tag, 0, len(Langs))
	for _, l := range Langs {
		out.localizers[l] = goi18n.NewLocalizer(b, l)
		tags = append(tags, language.Make(l))
	}
	out.matcher = language.NewMatcher(tags)
	return out, nil
}

// Supported returns lang if it is supported, else the default language.
func Supported(lang string) string {
	for _, l := range Langs {
		if l == lang {
			return l
		}
	}
	return Langs[0]
}

// T translates id into lang, filling {{.Name}} placeholders from data (pairs of key, value).
// A missing message shows its id, so a gap is visible rather than silent.
func (b *Bundle) T(lang, id string, data ...any) string {
	return b.translate(lang, id, nil, data)
}

// N translates a plural message id for count n; data may use {{.Count}}.
func (b *Bundle) N(lang, id string, n int, data ...any) string {
	return b.translate(lang, id, n, data)
}

func (b *Bundle) translate(lang, id string, count any, data []any) string {
	loc := b.localizers[Supported(lang)]
	td := map[string]any{}
	for i := 0; i+1 < len(data); i += 2 {
		td[fmt.Sprint(data[i])] = data[i+1]
	}
	if count != nil {
		td["Count"] = count
	}
	s, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: td, PluralCount: count})
	if err != nil || s == "" {
		return id
	}
	return s
}

// Has reports whether lang's catalogue defines id.
func (b *Bundle) Has(lang, id string) bool { return b.ids[lang][id] }

// IDs returns every message id of lang, sorted; tests use it to compare catalogues.
func (b *Bundle) IDs(lang string) []string {
	out := make([]string, 0, len(b.ids[lang]))
	for id := range b.ids[lang] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Negotiate picks a supported language from a cookie value, then Accept-Language.
func (b *Bundle) Negotiate(cookie, acceptLanguage string) string {
	if c := strings.ToLower(strings.TrimSpace(cookie)); c != "" {
		for _, l := range Langs {
			if c == l {
				return l
			}
		}
	}
	if acceptLanguage != "" {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			_, idx, conf := b.matcher.Match(tags...)
			if conf != language.No {
				return Langs[idx]
			}
		}
	}
	return Langs[0]
}
