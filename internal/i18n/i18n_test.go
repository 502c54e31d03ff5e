package i18n

import (
	"testing"
	"time"
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
