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
	"sync"
	"sync/atomic"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var localeFS embed.FS

// Langs are the supported languages, the default first.
var Langs = []string{"fr", "en"}

var unmarshalFuncs = map[string]goi18n.UnmarshalFunc{"toml": toml.Unmarshal}

// Bundle is the loaded set of catalogues.
//
// New parses and checks every catalogue file but keeps only the index of its message
// ids; a file's messages go into go-i18n's bundle the first time one of them is
// translated (parsing one file takes well under a millisecond). Parsed, the whole set
// holds about 1.8 MB of heap (go-i18n keeps some 600 bytes per message), which a process
// needs only for the areas and languages it serves.
type Bundle struct {
	files   []string                    // every catalogue file, in localeFS
	ids     map[string]map[string]uint8 // lang → message id → index in files of the file defining it
	loaded  []atomic.Bool               // by file: its messages are in b
	matcher language.Matcher

	mu         sync.RWMutex // guards b and localizers: written by load, read by every translation
	b          *goi18n.Bundle
	localizers map[string]*goi18n.Localizer

	// plain keeps the translations asked for without data or count: most of a page's or
	// an email's strings, each of which go-i18n would otherwise match the language for
	// and look up again. The catalogues never change.
	plainMu sync.RWMutex
	plain   map[plainKey]string
}

type plainKey struct{ lang, id string }

// New checks every embedded catalogue and indexes its message ids. It fails when a
// catalogue does not parse.
func New() (*Bundle, error) {
	files, err := fs.Glob(localeFS, "locales/*.toml")
	if err != nil {
		return nil, err
	}
	if len(files) > 255 {
		return nil, fmt.Errorf("i18n: %d catalogue files, at most 255", len(files))
	}
	out := &Bundle{files: files, ids: map[string]map[string]uint8{}, loaded: make([]atomic.Bool, len(files))}
	// The ids the index keeps are copied out of the parsed file (they would keep its
	// whole text alive) and shared between languages.
	names := map[string]string{}
	for i, f := range files {
		mf, err := parseFile(f)
		if err != nil {
			return nil, err
		}
		lang := mf.Tag.String()
		if out.ids[lang] == nil {
			out.ids[lang] = map[string]uint8{}
		}
		for _, m := range mf.Messages {
			id, ok := names[m.ID]
			if !ok {
				id = strings.Clone(m.ID)
				names[id] = id
			}
			// An id defined in two files of a language is the later file's, as when
			// go-i18n is given the files in order.
			out.ids[lang][id] = uint8(i)
		}
	}
	tags := make([]language.Tag, 0, len(Langs))
	for _, l := range Langs {
		tags = append(tags, language.Make(l))
	}
	out.matcher = language.NewMatcher(tags)
	return out, nil
}

func parseFile(f string) (*goi18n.MessageFile, error) {
	data, err := localeFS.ReadFile(f)
	if err != nil {
		return nil, err
	}
	// go-i18n reads the language from the last dotted part before .toml.
	mf, err := goi18n.ParseMessageFileBytes(data, path.Base(f), unmarshalFuncs)
	if err != nil {
		return nil, fmt.Errorf("i18n: %s: %w", f, err)
	}
	return mf, nil
}

// load hands file i's messages to go-i18n, once. The file is parsed before the lock is
// taken, so that translations from files already loaded go on meanwhile.
func (b *Bundle) load(i uint8) {
	if b.loaded[i].Load() {
		return
	}
	// It cannot fail: New parsed the same bytes. If it did, the file's messages would
	// show their ids, and it would not be parsed again on every call.
	mf, _ := parseFile(b.files[i])
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.loaded[i].Load() {
		return
	}
	b.loaded[i].Store(true)
	if mf == nil {
		return
	}
	if b.b == nil {
		b.b = goi18n.NewBundle(language.French)
		b.localizers = make(map[string]*goi18n.Localizer, len(Langs))
		for _, l := range Langs {
			b.localizers[l] = goi18n.NewLocalizer(b.b, l)
		}
	}
	ids := b.ids[mf.Tag.String()]
	msgs := mf.Messages[:0]
	for _, m := range mf.Messages {
		if ids[m.ID] == i {
			msgs = append(msgs, m)
		}
	}
	_ = b.b.AddMessages(mf.Tag, msgs...)
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
	lang = Supported(lang)
	file, ok := b.ids[lang][id]
	if !ok {
		return id
	}
	if count == nil && len(data) == 0 {
		key := plainKey{lang, id}
		b.plainMu.RLock()
		s, ok := b.plain[key]
		b.plainMu.RUnlock()
		if !ok {
			s = b.localize(lang, id, file, nil, nil)
			b.plainMu.Lock()
			if b.plain == nil {
				b.plain = map[plainKey]string{}
			}
			b.plain[key] = s
			b.plainMu.Unlock()
		}
		return s
	}
	return b.localize(lang, id, file, count, data)
}

// localize translates id, defined in file, with go-i18n.
func (b *Bundle) localize(lang, id string, file uint8, count any, data []any) string {
	b.load(file)
	td := map[string]any{}
	for i := 0; i+1 < len(data); i += 2 {
		td[fmt.Sprint(data[i])] = data[i+1]
	}
	if count != nil {
		td["Count"] = count
	}
	var s string
	var err error
	b.mu.RLock()
	if loc := b.localizers[lang]; loc != nil {
		s, err = loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: td, PluralCount: count})
	}
	b.mu.RUnlock()
	if err != nil || s == "" {
		return id
	}
	return s
}

// Has reports whether lang's catalogue defines id.
func (b *Bundle) Has(lang, id string) bool {
	_, ok := b.ids[lang][id]
	return ok
}

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
