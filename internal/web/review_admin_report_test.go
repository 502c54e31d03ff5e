package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"relais/internal/model"
	"relais/internal/store/storetest"
)

// The report's attendance rate: none while no seat is confirmed (not "0 %", which
// reads as if nobody came), then written as each language does; the days of the
// registrations chart are written as dates of the page's language.
func TestReviewReportAttendanceRateAndDays(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := e.regEvent("Session du bilan", 10, model.ModeOpen)
			org := e.login(model.RoleOrganizer)
			path := fmt.Sprintf("/admin/events/%d/report", ev.ID)
			expect(t, org.get(path), http.StatusOK, `id="fig-rate">—<`)
			// Only a cancelled and a waitlisted registration: still no confirmed seat.
			e.seed(ev, seed{First: "Afi", Last: "Mensah", Email: "afi@example.tg", Status: model.RegCancelled})
			e.seed(ev, seed{First: "Yao", Last: "Kodjo", Email: "yao@example.tg", Status: model.RegWaitlisted})
			r := org.get(path)
			expect(t, r, http.StatusOK, `id="fig-rate">—<`, `id="fig-no-shows">0<`)
			// The registrations were made today, in the event's zone.
			day := regexp.MustCompile(`<desc id="chart-per-day-d">2 inscription\(s\) du (\d{1,2} [a-zéû]+ \d{4}) au (\d{1,2} [a-zéû]+ \d{4}) ;`)
			if m := day.FindStringSubmatch(r.body); m == nil || m[1] != m[2] {
				t.Fatalf("per day description:\n%s", regexp.MustCompile(`<desc id="chart-per-day-d">[^<]*`).FindString(r.body))
			}
			// A walk-in who came and a confirmed registrant who did not: one in two.
			e.seed(ev, seed{First: "Kossi", Last: "Agbeko", Email: "kossi@example.tg", Status: model.RegConfirmed,
				Source: model.SourceWalkIn, CheckedIn: true})
			e.seed(ev, seed{First: "Ama", Last: "Lawson", Email: "ama@example.tg", Status: model.RegConfirmed})
			expect(t, org.get(path), http.StatusOK, `id="fig-rate">50`+"\u00a0"+`%<`, `id="fig-no-shows">1<`)
			org.lang = "en"
			r = org.get(path)
			expect(t, r, http.StatusOK, `id="fig-rate">50%<`)
			if !regexp.MustCompile(`<desc id="chart-per-day-d">4 registration\(s\) from \d{1,2} [A-Z][a-z]+ \d{4} to `).MatchString(r.body) {
				t.Fatalf("per day description:\n%s", regexp.MustCompile(`<desc id="chart-per-day-d">[^<]*`).FindString(r.body))
			}
		})
	}
}

// The attendance sheet and the badges list people by last name as a French reader
// sorts them: accents and small letters do not send a name to the end.
func TestReviewAttendanceSheetAlphabeticalOrder(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := e.regEvent("Session émargée", 0, model.ModeOpen)
			for i, last := range []string{"Zinsou", "Éklu", "de Souza", "Agbeko", "Bawa", "Ékué"} {
				e.seed(ev, seed{First: "Personne", Last: last, Email: fmt.Sprintf("p%d@example.tg", i), Status: model.RegConfirmed})
			}
			org := e.login(model.RoleOrganizer)
			want := []string{"Agbeko", "Bawa", "de Souza", "Éklu", "Ékué", "Zinsou"}
			r := org.get(fmt.Sprintf("/admin/events/%d/attendance-sheet", ev.ID))
			expect(t, r, http.StatusOK, "6 personnes confirmées")
			var got []string
			for _, m := range regexp.MustCompile(`<td class="last">([^<]*)</td>`).FindAllStringSubmatch(r.body, -1) {
				got = append(got, m[1])
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("sheet order %q, want %q", got, want)
			}
			r = org.get(fmt.Sprintf("/admin/events/%d/badges", ev.ID))
			expect(t, r, http.StatusOK, "6 personnes confirmées")
			got = nil
			for _, m := range regexp.MustCompile(`<p class="nb-name">[^<]*<strong>([^<]*)</strong>`).FindAllStringSubmatch(r.body, -1) {
				got = append(got, m[1])
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("badges order %q, want %q", got, want)
			}
		})
	}
}

// An import of a few thousand lines: the preview and the report write the counts as
// the page's language groups digits.
func TestReviewImportCountsGrouped(t *testing.T) {
	e := newEnv(t, "sqlite")
	org := e.login(model.RoleOrganizer)
	var file bytes.Buffer
	file.WriteString("Prénom;Nom;Courriel\r\n")
	for i := 0; i < 1200; i++ {
		fmt.Fprintf(&file, "Blogueur;N%d;b%d@example.tg\r\n", i, i)
	}
	r := dirUpload(org, "/admin/contacts/import", "/admin/contacts/import", "liste.csv", file.Bytes(), nil)
	expect(t, r, http.StatusSeeOther)
	preview := r.Header.Get("Location")
	expect(t, org.get(preview), http.StatusOK, "1\u202f200 lignes de données")
	r = org.post(preview, preview, url.Values{"map_0": {"first_name"}, "map_1": {"last_name"}, "map_2": {"email"}, "duplicates": {"merge"}})
	expect(t, r, http.StatusOK, "<strong>1\u202f200</strong> nouveaux contacts", "<strong>0</strong> lignes ignorées")
	// The engagement view counts only contacts who took part in something: none yet.
	expect(t, org.get("/admin/engagement"), http.StatusOK, "<p>0 contact</p>")
}

// The check-in page's counters group digits as the page's language does.
func TestReviewCheckinCountersGrouped(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.regEvent("Grande session", 1500, model.ModeOpen)
	org := e.login(model.RoleOrganizer)
	path := fmt.Sprintf("/admin/events/%d/checkins", ev.ID)
	expect(t, org.get(path), http.StatusOK, "<strong>1\u202f500</strong>")
	org.lang = "en"
	expect(t, org.get(path), http.StatusOK, "<strong>1,500</strong>")
}

// A file whose first line leaves a quote open cannot be read at all: the organizer is
// told so, not that the file is empty.
func TestReviewImportUnreadableIsNotEmpty(t *testing.T) {
	e := newEnv(t, "sqlite")
	org := e.login(model.RoleOrganizer)
	file := "\"Prénom;Nom;Courriel\r\nKafui;Adjo;kafui@blog.example.org\r\n"
	r := dirUpload(org, "/admin/contacts/import", "/admin/contacts/import", "liste.csv", []byte(file), nil)
	expect(t, r, http.StatusUnprocessableEntity, "Le fichier n’a pas pu être lu")
	expectNot(t, r, "Le fichier est vide")
	r = dirUpload(org, "/admin/contacts/import", "/admin/contacts/import", "vide.csv", []byte(";;\r\n;;\r\n"), nil)
	expect(t, r, http.StatusUnprocessableEntity, "Le fichier est vide")
}
