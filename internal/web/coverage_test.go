package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// covAttendee registers a person at the event (confirmed while seats remain).
func covAttendee(t *testing.T, e *env, ev *model.Event, first, email string) *model.Registration {
	t.Helper()
	res, err := e.app.Register(context.Background(), ev.ID, app.RegistrationInput{ContactInput: app.ContactInput{
		FirstName: first, LastName: "Test", Email: email, Outlet: first + " Blog"}, Consent: true, Lang: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Registration
}

// covExec runs SQL written with ? placeholders on either database.
func covExec(t *testing.T, e *env, q string, args ...any) {
	t.Helper()
	if e.app.Store.Driver == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	if _, err := e.app.Store.SQLDB().Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// covAdmit checks a registration in at a time, by a door, as the door's API would.
func covAdmit(t *testing.T, e *env, r *model.Registration, at time.Time, door, device string) {
	t.Helper()
	covExec(t, e, "UPDATE registrations SET checked_in_at = ?, checked_in_by = ?, checked_in_device = ? WHERE id = ?", at, door, device, r.ID)
	covExec(t, e, "INSERT INTO check_ins (event_id, registration_id, action, result, scanned_at, device, actor_name, nonce, code, created_at) "+
		"VALUES (?, ?, 'in', 'ok', ?, ?, ?, ?, '', ?)", r.EventID, r.ID, at, device, door, fmt.Sprintf("cov-%d-%d", r.ID, at.Unix()), at)
}

func covItems(t *testing.T, e *env, ev *model.Event) []store.CoverageRow {
	t.Helper()
	rows, err := e.app.Store.ListCoverage(context.Background(), store.CoverageFilter{EventID: ev.ID})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestCoverageFromTicketPage(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := e.publishedEvent(1, model.ModeOpen)
			r := covAttendee(t, e, ev, "Kafui", "kafui@example.org")
			waiting := covAttendee(t, e, ev, "Ama", "ama@example.org")
			c := e.client()
			ticket := "/t/" + r.ManageToken
			expect(t, c.get(ticket), http.StatusOK, `id="couverture"`, "Vos publications sur la session", `action="`+ticket+`/coverage"`)
			// Two links and a line that is not one: the two are kept, the line comes back.
			form := url.Values{"links": {"https://www.facebook.com/kafui/posts/1?fbclid=abc\nvoir mon blog\nkafui.example.org/article"}, "reach": {"1 500"}}
			res := c.post(ticket, ticket+"/coverage", form)
			expect(t, res, http.StatusUnprocessableEntity, "2 liens enregistrés. Merci !", "Ligne 2", "voir mon blog",
				"Ce n’est pas une adresse web valide", `aria-invalid="true"`, ">voir mon blog</textarea>")
			items := covItems(t, e, ev)
			if len(items) != 2 {
				t.Fatalf("items: %+v", items)
			}
			for _, it := range items {
				if it.Reach != 1500 || it.Status != model.CoverageSubmitted || it.SubmittedBy != "blogger" || it.RegistrationID == nil || *it.RegistrationID != r.ID {
					t.Fatalf("item %+v", it)
				}
			}
			expect(t, c.get(ticket), http.StatusOK, `href="https://www.facebook.com/kafui/posts/1"`, `href="https://kafui.example.org/article"`,
				"Facebook", "Blog", "À vérifier", "audience : 1\u202f500")
			// The same links again: nothing new, and the blogger is told so.
			res = c.post(ticket, ticket+"/coverage", url.Values{"links": {"https://www.facebook.com/kafui/posts/1\nhttps://kafui.example.org/article"}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != ticket+"?dup=2#couverture" {
				t.Fatalf("again: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			expect(t, c.get(ticket+"?dup=2"), http.StatusOK, "2 liens étaient déjà enregistrés")
			expect(t, c.post(ticket, ticket+"/coverage", url.Values{"links": {"  "}}), http.StatusUnprocessableEntity, "Collez au moins un lien.")
			expect(t, c.post(ticket, ticket+"/coverage", url.Values{"links": {"https://x.com/k/status/1"}, "reach": {"beaucoup"}}),
				http.StatusUnprocessableEntity, "Indiquez un nombre")
			// In English too.
			c.lang = "en"
			expect(t, c.post(ticket, ticket+"/coverage", url.Values{"links": {"nope"}}), http.StatusUnprocessableEntity,
				"This is not a valid web address")
			// A waitlisted person has no form, and cannot post.
			wt := "/t/" + waiting.ManageToken
			if b := c.get(wt).body; strings.Contains(b, `id="couverture"`) {
				t.Fatal("waitlisted ticket shows the coverage form")
			}
			expect(t, c.post(ticket, wt+"/coverage", url.Values{"links": {"https://x.com/a/status/1"}}), http.StatusForbidden)
			if len(covItems(t, e, ev)) != 2 {
				t.Fatal("something was added")
			}
		})
	}
}

func TestCoverageOrganizerPages(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.publishedEvent(10, model.ModeOpen)
			r := covAttendee(t, e, ev, "Kafui", "kafui@example.org")
			other := covAttendee(t, e, e.publishedEvent(10, model.ModeOpen), "Edem", "edem@example.org")
			if _, err := e.app.SubmitCoverageLinks(ctx, r, "https://www.facebook.com/kafui/posts/1\nhttps://x.com/kafui/status/2", "1500"); err != nil {
				t.Fatal(err)
			}
			items := covItems(t, e, ev)
			org := e.login(model.RoleOrganizer)
			page := fmt.Sprintf("/admin/events/%d/coverage", ev.ID)
			expect(t, org.get(page), http.StatusOK, "https://www.facebook.com/kafui/posts/1", "https://x.com/kafui/status/2",
				"À vérifier", "Kafui Test", "Audience déclarée (hors publications rejetées) : 3\u202f000")
			status := func(id int64, st string) {
				t.Helper()
				res := org.post(page, fmt.Sprintf("%s/%d/status", page, id), url.Values{"status": {st}})
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("status %s: %d %s", st, res.StatusCode, snippet(res.body))
				}
			}
			status(items[0].ID, "verified")
			status(items[1].ID, "rejected")
			got := map[int64]model.CoverageStatus{}
			for _, it := range covItems(t, e, ev) {
				got[it.ID] = it.Status
			}
			if got[items[0].ID] != model.CoverageVerified || got[items[1].ID] != model.CoverageRejected {
				t.Fatalf("statuses %v", got)
			}
			expect(t, org.get(page), http.StatusOK, "Validée", "Rejetée", "Audience déclarée (hors publications rejetées) : 1\u202f500")
			// Add for a registrant, and for a contact of the directory by email.
			res := org.post(page, page, url.Values{"registration_id": {itoa(r.ID)}, "url": {"youtu.be/kafui1"}, "reach": {"12k"},
				"published_at": {"2026-12-01"}, "title": {"Ma vidéo"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("add: %d %s", res.StatusCode, snippet(res.body))
			}
			res = org.post(page, page, url.Values{"contact_email": {"EDEM@example.org"}, "url": {"https://edem.example.org/a"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("add by email: %d %s", res.StatusCode, snippet(res.body))
			}
			expect(t, org.post(page, page, url.Values{"contact_email": {"nobody@example.org"}, "url": {"https://a.example.org/"}}),
				http.StatusUnprocessableEntity, "Aucun contact de l’annuaire n’a cette adresse e-mail.")
			expect(t, org.post(page, page, url.Values{"url": {"https://a.example.org/"}}), http.StatusUnprocessableEntity,
				"Choisissez un·e inscrit·e")
			expect(t, org.post(page, page, url.Values{"registration_id": {itoa(r.ID)}, "url": {"https://youtu.be/kafui1"}}),
				http.StatusUnprocessableEntity, "Ce lien est déjà enregistré pour cette session.")
			expect(t, org.post(page, page, url.Values{"registration_id": {itoa(other.ID)}, "url": {"https://b.example.org/"}}),
				http.StatusUnprocessableEntity, "Cette inscription n’existe pas pour cette session.")
			var video *store.CoverageRow
			for _, it := range covItems(t, e, ev) {
				if it.Platform == "youtube" {
					video = &it
				}
			}
			if video == nil || video.Reach != 12000 || video.Status != model.CoverageVerified || video.SubmittedBy != "organizer" ||
				video.Title != "Ma vidéo" || video.PublishedAt == nil || video.PublishedAt.Format("2006-01-02") != "2026-12-01" {
				t.Fatalf("video %+v", video)
			}
			// Edit it.
			edit := fmt.Sprintf("%s/%d", page, video.ID)
			expect(t, org.get(edit), http.StatusOK, `value="Ma vidéo"`, `value="2026-12-01"`, `value="12000"`)
			expect(t, org.post(edit, edit, url.Values{"url": {"not a url"}, "status": {"verified"}}), http.StatusUnprocessableEntity,
				"Ce n’est pas une adresse web valide")
			res = org.post(edit, edit, url.Values{"url": {"https://www.tiktok.com/@kafui/video/1"}, "title": {"Autre"}, "reach": {"800"}, "status": {"submitted"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("edit: %d %s", res.StatusCode, snippet(res.body))
			}
			cov, _ := e.app.Store.FindCoverage(ctx, video.ID)
			if cov.Platform != "tiktok" || cov.Title != "Autre" || cov.Reach != 800 || cov.Status != model.CoverageSubmitted {
				t.Fatalf("edited %+v", cov)
			}
			// Another event's URL does not reach this item; the door role sees nothing.
			wrong := fmt.Sprintf("/admin/events/%d/coverage/%d", other.EventID, video.ID)
			expect(t, org.get(wrong), http.StatusNotFound)
			expect(t, e.login(model.RoleDoor).get(page), http.StatusForbidden)
		})
	}
}

func TestCoverageReportPageAndExports(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.publishedEvent(3, model.ModeOpen)
			a := covAttendee(t, e, ev, "Kafui", "kafui@example.org")
			b := covAttendee(t, e, ev, "Ama", "ama@example.org")
			covAttendee(t, e, ev, "Edem", "edem@example.org")
			covAttendee(t, e, ev, "Yao", "yao@example.org") // waitlisted
			start := ev.StartsAt
			covAdmit(t, e, b, start.Add(20*time.Minute), "Porte B", "laptop")
			covAdmit(t, e, a, start.Add(5*time.Minute), "Entrée principale", "phone-1")
			org := app.Actor{Name: "test"}
			if _, err := e.app.AddCoverage(ctx, org, ev.ID, app.CoverageInput{RegistrationID: a.ID, URL: "https://www.facebook.com/kafui/posts/7",
				Title: `=HYPERLINK("http://evil.example","clic")`, Reach: 2500}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.app.AddCoverage(ctx, org, ev.ID, app.CoverageInput{RegistrationID: b.ID, URL: "https://ama.example.org/session",
				Title: "Compte rendu", Reach: 1200}); err != nil {
				t.Fatal(err)
			}
			c := e.login(model.RoleOrganizer)
			base := fmt.Sprintf("/admin/events/%d", ev.ID)
			res := c.get(base + "/report")
			expect(t, res, http.StatusOK, "Bilan de la session", `<svg class="chart-svg"`, `role="img"`,
				`<title id="chart-funnel-t">De l’invitation à la publication</title>`,
				"inscrit·es : 4 ; places confirmées : 3 ; présent·es : 2 ; ont publié : 2.",
				"<title>Présent·es : 2</title>", "<title>Inscrit·es : 4</title>",
				`<th scope="row">Places confirmées</th><td class="num">3</td>`,
				`id="chart-per-day"`, `id="chart-by-time"`, "Arrivées par tranche de 15 minutes",
				`id="fig-rate">67`, `id="fig-no-shows">1<`, `id="total-reach">3`+"\u202f"+`700<`,
				"Entrée principale", "Porte B", "phone-1", "Compte rendu", "https://ama.example.org/session",
				base+"/registrations.csv", base+"/admissions.csv", base+"/coverage.csv")
			// The admissions chart's data: 1 in the first slot, 1 in the second.
			slot := func(d time.Duration) string { return start.Add(d).In(ev.Location()).Format("15:04") }
			expect(t, res, http.StatusOK, "<title>"+slot(0)+" : 1</title>", "<title>"+slot(15*time.Minute)+" : 1</title>")
			// No script on the page: the charts are drawn by the server.
			if strings.Contains(res.body, "<script") {
				t.Fatal("script on the report page")
			}
			// In English.
			c.lang = "en"
			expect(t, c.get(base+"/report"), http.StatusOK, "Session report", "Attendance rate", "3,700")
			c.lang = "fr"

			csvRes := c.get(base + "/coverage.csv")
			expect(t, csvRes, http.StatusOK)
			if !strings.HasPrefix(csvRes.body, "\ufeff") || !strings.Contains(csvRes.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("coverage csv: no BOM or wrong type %q", csvRes.Header.Get("Content-Type"))
			}
			lines := strings.Split(strings.TrimPrefix(csvRes.body, "\ufeff"), "\r\n")
			if !strings.HasPrefix(lines[0], "Prénom;Nom;") || len(lines) != 4 {
				t.Fatalf("coverage csv:\n%s", csvRes.body)
			}
			if !strings.Contains(csvRes.body, `;"'=HYPERLINK(""http://evil.example"",""clic"")";`) || strings.Contains(csvRes.body, `;"=HYPERLINK`) {
				t.Fatalf("formula not neutralised:\n%s", csvRes.body)
			}
			if !strings.Contains(csvRes.body, ";2500;Validée;l’organisation;") {
				t.Fatalf("coverage csv line:\n%s", csvRes.body)
			}
			adm := c.get(base + "/admissions.csv")
			lines = strings.Split(strings.TrimPrefix(adm.body, "\ufeff"), "\r\n")
			if !strings.HasPrefix(adm.body, "\ufeff") || len(lines) != 4 || !strings.HasPrefix(lines[0], "Arrivée;") ||
				!strings.Contains(lines[1], ";Kafui;Test;kafui@example.org;Kafui Blog;Entrée principale;phone-1") ||
				!strings.Contains(lines[2], ";Ama;") {
				t.Fatalf("admissions csv:\n%s", adm.body)
			}
			if comma := c.get(base + "/admissions.csv?sep=comma"); !strings.Contains(comma.body, ",Kafui,Test,") {
				t.Fatalf("comma csv:\n%s", comma.body)
			}
			expect(t, c.get(base+"/registrations.csv"), http.StatusOK, "Kafui")
			expect(t, e.login(model.RoleDoor).get(base+"/report"), http.StatusForbidden)
		})
	}
}

func TestCoverageEngagementView(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			first, second := e.publishedEvent(10, model.ModeOpen), e.publishedEvent(10, model.ModeOpen)
			// Kafui came to both and published about one; Ama registered once; Edem came once.
			k1 := covAttendee(t, e, first, "Kafui", "kafui@example.org")
			k2 := covAttendee(t, e, second, "Kafui", "kafui@example.org")
			covAttendee(t, e, first, "Ama", "ama@example.org")
			ed := covAttendee(t, e, second, "Edem", "edem@example.org")
			covAdmit(t, e, k1, first.StartsAt, "Entrée", "p")
			covAdmit(t, e, k2, second.StartsAt, "Entrée", "p")
			covAdmit(t, e, ed, second.StartsAt, "Entrée", "p")
			if _, err := e.app.SubmitCoverageLinks(ctx, k1, "https://x.com/kafui/status/1\nhttps://x.com/kafui/status/2", "300"); err != nil {
				t.Fatal(err)
			}
			c := e.login(model.RoleOrganizer)
			res := c.get("/admin/engagement")
			expect(t, res, http.StatusOK, "Engagement des contacts", "3 contacts")
			ik, ie, ia := strings.Index(res.body, "Kafui Test"), strings.Index(res.body, "Edem Test"), strings.Index(res.body, "Ama Test")
			if ik < 0 || ie < ik || ia < ie {
				t.Fatalf("order: Kafui %d, Edem %d, Ama %d", ik, ie, ia)
			}
			if !strings.Contains(res.body, `<td class="num">0</td><td class="num">2</td><td class="num">2</td>`+"\n  "+`<td class="num">1</td><td class="num">2</td><td class="num">600</td>`) {
				t.Fatalf("Kafui's counts:\n%s", snippet(res.body[ik:]))
			}
			res = c.get("/admin/engagement?q=edem")
			expect(t, res, http.StatusOK, "1 contact", "Edem Test")
			if strings.Contains(res.body, "Kafui Test") {
				t.Fatal("search kept Kafui")
			}
		})
	}
}

func TestCoverageAuditPageFilters(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.publishedEvent(10, model.ModeOpen)
			other := e.publishedEvent(10, model.ModeOpen)
			r := covAttendee(t, e, ev, "Kafui", "kafui@example.org")
			if _, err := e.app.SubmitCoverageLinks(ctx, r, "https://x.com/kafui/status/1", ""); err != nil {
				t.Fatal(err)
			}
			orga := e.user(model.RoleOrganizer, "orga@example.tg")
			items := covItems(t, e, ev)
			if _, err := e.app.SetCoverageStatus(ctx, app.UserActor(orga), ev.ID, items[0].ID, model.CoverageVerified); err != nil {
				t.Fatal(err)
			}
			other.Summary = "Changé"
			if err := e.app.SaveEvent(ctx, app.UserActor(orga), other); err != nil {
				t.Fatal(err)
			}
			expect(t, e.login(model.RoleOrganizer).get("/admin/audit"), http.StatusForbidden)
			admin := e.login(model.RoleAdmin)
			res := admin.get("/admin/audit")
			expect(t, res, http.StatusOK, "Journal d’activité", "Publication validée", "Publications envoyées", "holder",
				`<option value="`+itoa(orga.ID)+`">Test organizer</option>`, `<option value="name:holder">holder</option>`)
			res = admin.get("/admin/audit?actor=" + itoa(orga.ID))
			expect(t, res, http.StatusOK, "2 entrées", "Publication validée", "Session modifiée")
			if strings.Contains(res.body, "Publications envoyées") {
				t.Fatal("actor filter kept the holder's entry")
			}
			res = admin.get(fmt.Sprintf("/admin/audit?actor=%d&event=%d", orga.ID, ev.ID))
			expect(t, res, http.StatusOK, "1 entrée", "Publication validée", fmt.Sprintf(`<option value="%d" selected>`, ev.ID))
			res = admin.get("/admin/audit?actor=name:holder")
			expect(t, res, http.StatusOK, "1 entrée", "Publications envoyées")
			res = admin.get(fmt.Sprintf("/admin/audit?event=%d", other.ID))
			expect(t, res, http.StatusOK, "Session modifiée")
			if strings.Contains(res.body, "Publication validée") {
				t.Fatal("event filter kept another event's entry")
			}
		})
	}
}

func TestCoverageAPI(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := e.publishedEvent(10, model.ModeOpen)
			r := covAttendee(t, e, ev, "Kafui", "kafui@example.org")
			ama := covAttendee(t, e, ev, "Ama", "ama@example.org")
			c := e.client()
			tok, door := e.token(model.RoleOrganizer), e.token(model.RoleDoor)
			list := fmt.Sprintf("/api/v1/events/%d/coverage", ev.ID)
			if res := c.api("GET", list, door, ""); res.StatusCode != 403 {
				t.Fatalf("door: %d", res.StatusCode)
			}
			res := c.api("POST", list, tok, fmt.Sprintf(`{"registration_id":%d,"url":"https://x.com/kafui/status/9?utm_medium=x","reach":300,"published_at":"2026-12-01T10:00:00Z"}`, r.ID))
			if res.StatusCode != 201 {
				t.Fatalf("create: %d %s", res.StatusCode, res.body)
			}
			var cov map[string]any
			json.Unmarshal([]byte(res.body), &cov)
			if cov["url"] != "https://x.com/kafui/status/9" || cov["platform"] != "x" || cov["status"] != "verified" || cov["reach"] != 300.0 ||
				cov["first_name"] != "Kafui" || cov["registration_id"] != float64(r.ID) || cov["published_at"] != "2026-12-01T10:00:00Z" {
				t.Fatalf("created %v", cov)
			}
			id := itoa(int64(cov["id"].(float64)))
			if res := c.api("POST", list, tok, fmt.Sprintf(`{"registration_id":%d,"url":"https://x.com/kafui/status/9"}`, r.ID)); res.StatusCode != 409 || errorCode(t, res) != "conflict" {
				t.Fatalf("duplicate: %d %s", res.StatusCode, res.body)
			}
			if res := c.api("POST", list, tok, fmt.Sprintf(`{"registration_id":%d,"url":"not a url"}`, r.ID)); res.StatusCode != 422 || !strings.Contains(res.body, `"url"`) {
				t.Fatalf("bad url: %d %s", res.StatusCode, res.body)
			}
			if res := c.api("POST", list, tok, `{"url":"https://a.example.org/"}`); res.StatusCode != 422 {
				t.Fatalf("nobody: %d %s", res.StatusCode, res.body)
			}
			if res := c.api("POST", list, tok, `{"url":"https://a.example.org/","contact_id":999999}`); res.StatusCode != 422 || !strings.Contains(res.body, `"contact_id"`) {
				t.Fatalf("unknown contact: %d %s", res.StatusCode, res.body)
			}
			res = c.api("POST", list, tok, fmt.Sprintf(`{"contact_id":%d,"url":"https://ama.example.org/p","platform":"blog","reach":50,"status":"submitted"}`, ama.ContactID))
			if res.StatusCode != 201 || !strings.Contains(res.body, `"status":"submitted"`) || !strings.Contains(res.body, fmt.Sprintf(`"registration_id":%d`, ama.ID)) {
				t.Fatalf("by contact: %d %s", res.StatusCode, res.body)
			}
			res = c.api("GET", list, tok, "")
			if res.StatusCode != 200 || !strings.Contains(res.body, `"total_reach":350`) || strings.Count(res.body, `"url"`) != 2 {
				t.Fatalf("list: %d %s", res.StatusCode, res.body)
			}
			patch := "/api/v1/coverage/" + id
			res = c.api("PATCH", patch, tok, `{"status":"rejected","title":"Hors sujet","reach":10,"published_at":null}`)
			if res.StatusCode != 200 || !strings.Contains(res.body, `"status":"rejected"`) || !strings.Contains(res.body, `"title":"Hors sujet"`) ||
				!strings.Contains(res.body, `"reach":10`) || !strings.Contains(res.body, `"published_at":null`) {
				t.Fatalf("patch: %d %s", res.StatusCode, res.body)
			}
			if res := c.api("PATCH", patch, tok, `{"status":"maybe"}`); res.StatusCode != 422 {
				t.Fatalf("bad status: %d %s", res.StatusCode, res.body)
			}
			if res := c.api("PATCH", patch, tok, `{"platform":"myspace"}`); res.StatusCode != 422 {
				t.Fatalf("bad platform: %d %s", res.StatusCode, res.body)
			}
			if res := c.api("PATCH", patch, tok, `{"nope":1}`); res.StatusCode != 400 {
				t.Fatalf("unknown field: %d", res.StatusCode)
			}
			if res := c.api("PATCH", "/api/v1/coverage/999999", tok, `{"status":"verified"}`); res.StatusCode != 404 {
				t.Fatalf("missing: %d", res.StatusCode)
			}
			res = c.api("GET", fmt.Sprintf("/api/v1/events/%d/report", ev.ID), tok, "")
			var rep struct {
				Funnel        map[string]int64 `json:"funnel"`
				CoverageReach int64            `json:"coverage_reach"`
				Coverage      []map[string]any `json:"coverage"`
				Registrations map[string]int64 `json:"registrations_by_status"`
				PerDay        []map[string]any `json:"registrations_per_day"`
			}
			if err := json.Unmarshal([]byte(res.body), &rep); err != nil || res.StatusCode != 200 {
				t.Fatalf("report: %d %s", res.StatusCode, res.body)
			}
			if rep.Funnel["registered"] != 2 || rep.Funnel["confirmed"] != 2 || rep.Funnel["published"] != 1 || rep.Funnel["coverage_items"] != 1 ||
				rep.CoverageReach != 50 || len(rep.Coverage) != 1 || rep.Registrations["confirmed"] != 2 || len(rep.PerDay) != 1 {
				t.Fatalf("report: %s", res.body)
			}
			if res := c.api("GET", "/api/v1/events/999999/report", tok, ""); res.StatusCode != 404 {
				t.Fatalf("missing event: %d", res.StatusCode)
			}
		})
	}
}
