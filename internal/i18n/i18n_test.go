package i18n

import (
	"io/fs"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

func TestCataloguesMatchAndPlural(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	fr, en := b.IDs("fr"), b.IDs("en")
	seen := map[string]bool{}
	for _, id := range fr {
		seen[id] = true
	}
	for _, id := range en {
		if !seen[id] {
			t.Errorf("%s is in English but not in French", id)
		}
		delete(seen, id)
	}
	for id := range seen {
		t.Errorf("%s is in French but not in English", id)
	}
	if got := b.T("fr", "error.required"); got != "Ce champ est obligatoire." {
		t.Errorf("fr: %q", got)
	}
	if got := b.T("en", "no.such.id"); got != "no.such.id" {
		t.Errorf("missing id: %q", got)
	}
}

func TestNegotiate(t *testing.T) {
	b, _ := New()
	for _, c := range []struct{ cookie, accept, want string }{
		{"", "", "fr"}, {"en", "fr", "en"}, {"", "en-US,en;q=0.9", "en"}, {"", "fr-TG,fr;q=0.9,en;q=0.5", "fr"},
		{"de", "de-DE", "fr"}, {"xx", "en", "en"},
	} {
		if got := b.Negotiate(c.cookie, c.accept); got != c.want {
			t.Errorf("Negotiate(%q,%q)=%q want %q", c.cookie, c.accept, got, c.want)
		}
	}
}

func TestFrenchAndEnglishDates(t *testing.T) {
	lome, _ := time.LoadLocation("Africa/Lome")
	start := time.Date(2017, 5, 17, 9, 0, 0, 0, time.UTC)
	if got := Range(start, start.Add(3*time.Hour), lome, "fr"); got != "mercredi 17 mai 2017, 09:00 – 12:00" {
		t.Errorf("fr: %q", got)
	}
	if got := Range(start, start.Add(3*time.Hour), lome, "en"); got != "Wednesday 17 May 2017, 09:00 – 12:00" {
		t.Errorf("en: %q", got)
	}
	if got := Date(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), lome, "fr"); got != "mardi 1er décembre 2026" {
		t.Errorf("1er: %q", got)
	}
}

// eager is the bundle as go-i18n is used without lazy loading: every catalogue in one
// bundle, French by default. Translations must not depend on when a file is loaded.
func eager(t *testing.T) map[string]*goi18n.Localizer {
	t.Helper()
	b := goi18n.NewBundle(language.French)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(localeFS, "locales/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := localeFS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.ParseMessageFileBytes(data, path.Base(f)); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]*goi18n.Localizer{}
	for _, l := range Langs {
		out[l] = goi18n.NewLocalizer(b, l)
	}
	return out
}

func TestSameAsEagerBundle(t *testing.T) {
	ref := eager(t)
	want := func(lang, id string, count any) string {
		td := map[string]any{"Name": "Ama", "Count": count}
		if count == nil {
			delete(td, "Count")
		}
		s, err := ref[lang].Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: td, PluralCount: count})
		if err != nil || s == "" {
			return id
		}
		return s
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	plurals := 0
	for _, lang := range Langs {
		for _, id := range b.IDs(lang) {
			if got, w := b.T(lang, id, "Name", "Ama"), want(lang, id, nil); got != w {
				t.Errorf("T(%s, %s) = %q, want %q", lang, id, got, w)
			}
			// Without data, kept after the first time: the same each time, and data given
			// later still counts.
			s, err := ref[lang].Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: map[string]any{}})
			if err != nil || s == "" {
				s = id
			}
			for range 2 {
				if got := b.T(lang, id); got != s {
					t.Errorf("T(%s, %s) without data = %q, want %q", lang, id, got, s)
				}
			}
			if got, w := b.T(lang, id, "Name", "Kofi"), strings.ReplaceAll(want(lang, id, nil), "Ama", "Kofi"); got != w {
				t.Errorf("T(%s, %s) with data after without = %q, want %q", lang, id, got, w)
			}
			if one := want(lang, id, 1); one != want(lang, id, 5) {
				plurals++
				for _, n := range []int{0, 1, 2, 5} {
					if got, w := b.N(lang, id, n, "Name", "Ama"), want(lang, id, n); got != w {
						t.Errorf("N(%s, %s, %d) = %q, want %q", lang, id, n, got, w)
					}
				}
			}
		}
		if got := b.T(lang, "no.such.id"); got != "no.such.id" {
			t.Errorf("%s: missing id gives %q", lang, got)
		}
	}
	if plurals == 0 {
		t.Error("no plural message checked")
	}
	// Unsupported languages get the default language's messages.
	if got, w := b.T("de", "error.required"), want("fr", "error.required", nil); got != w {
		t.Errorf("de: %q, want %q", got, w)
	}
}

func TestCataloguesLoadedOnFirstUse(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	loaded := func() (n int) {
		for i := range b.loaded {
			if b.loaded[i].Load() {
				n++
			}
		}
		return n
	}
	if !b.Has("en", "error.required") || b.Has("en", "no.such.id") || loaded() != 0 {
		t.Fatalf("after New: %d files loaded, want 0", loaded())
	}
	b.T("fr", "error.required")
	b.T("fr", "error.required")
	if loaded() != 1 {
		t.Errorf("after one French message: %d files loaded, want 1", loaded())
	}
	b.T("en", "error.required")
	if loaded() != 2 {
		t.Errorf("after the same message in English: %d files loaded, want 2", loaded())
	}
}

func TestConcurrentFirstUse(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, lang := range Langs {
				ids := b.IDs(lang)
				for i := range ids {
					id := ids[(i*7+g*131)%len(ids)]
					if got := b.T(lang, id); got == id {
						t.Errorf("%s %s: not translated", lang, id)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, lang := range Langs {
		for _, id := range ref.IDs(lang) {
			if got, want := b.T(lang, id), ref.T(lang, id); got != want {
				t.Errorf("%s %s: %q, want %q", lang, id, got, want)
			}
		}
	}
}
