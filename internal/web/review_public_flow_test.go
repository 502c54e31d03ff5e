package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// A base_url written with its final slash must not double it in the links that the
// event and ticket pages give to share, and every address their meta tags name must
// answer (an og:image that is 404 breaks the WhatsApp preview), whose text has no
// empty parts.
func TestReviewPublicShareLinks(t *testing.T) {
	e, _ := authzNewEnv(t, "sqlite", nil, func(c *config.Config) { c.BaseURL = "https://relais.example.tg/" })
	ev := e.publishedEvent(0, model.ModeOpen)
	page := "/e/" + ev.Slug
	c := e.client()
	r := c.get(page)
	expect(t, r, http.StatusOK, `<meta property="og:url" content="https://relais.example.tg`+page+`">`,
		"https%3A%2F%2Frelais.example.tg%2Fe%2F"+ev.Slug,
		" · Ministère, Lomé\">") // the preview's text: no dangling ". " without a summary
	if strings.Contains(r.body, "tg//") || strings.Contains(r.body, "tg%2F%2F") {
		t.Fatalf("doubled slash in a shared link:\n%s", snippet(r.body))
	}
	for _, m := range regexp.MustCompile(`<meta [^>]*content="https://relais\.example\.tg(/[^"]*)"`).FindAllStringSubmatch(r.body, -1) {
		if got := e.client().get(m[1]); got.StatusCode != http.StatusOK {
			t.Errorf("meta tag names %s, which answers %d", m[1], got.StatusCode)
		}
	}
	r = c.post(page, page+"/register", regForm("kafui@example.tg"))
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/t/") {
		t.Fatalf("register: %d %s", r.StatusCode, snippet(r.body))
	}
	r = c.get(r.Header.Get("Location"))
	expect(t, r, http.StatusOK, "https%3A%2F%2Frelais.example.tg%2Fe%2F"+ev.Slug)
	if strings.Contains(r.body, "tg%2F%2F") {
		t.Fatalf("doubled slash in the ticket's WhatsApp link:\n%s", snippet(r.body))
	}
}

// A form posted before registrations open (a page kept open, an invitation opened
// early) says when they open, in the event's zone, not "<no value>".
func TestReviewPublicNotYetOpenSaysWhen(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			start := time.Date(2030, 3, 10, 9, 0, 0, 0, time.UTC)
			opens := time.Date(2030, 2, 1, 8, 30, 0, 0, time.UTC) // 09:30 in Paris
			ev := &model.Event{Title: "Session à venir", StartsAt: start, EndsAt: start.Add(3 * time.Hour), Timezone: "Europe/Paris",
				Status: model.EventPublished, RegistrationMode: model.ModeOpen, RegistrationOpensAt: &opens}
			if err := e.app.SaveEvent(ctx, app.Actor{Name: "test"}, ev); err != nil {
				t.Fatal(err)
			}
			page := "/e/" + ev.Slug
			r := e.client().post(page, page+"/register", regForm("kafui@example.tg"))
			expect(t, r, http.StatusConflict, `<div class="alert" role="alert">Les inscriptions ouvriront le vendredi 1er février 2030, 09:30.</div>`)
			if strings.Contains(r.body, "no value") {
				t.Fatalf("refusal without its date:\n%s", snippet(r.body))
			}
			// The same through an invitation.
			ct := invContact(e, "Ama", "Mensah", "ama@example.tg", "fr")
			rep, err := e.app.Invite(ctx, app.Actor{Name: "test"}, ev.ID, []int64{ct.ID}, "")
			if err != nil {
				t.Fatal(err)
			}
			ip := "/i/" + rep.Created[0].Token
			c := e.client()
			r = c.post(ip, ip+"/accept", url.Values{"first_name": {"Ama"}, "last_name": {"Mensah"}, "consent": {"yes"}})
			expect(t, r, http.StatusConflict, "Les inscriptions ouvriront le vendredi 1er février 2030, 09:30.")
			if strings.Contains(r.body, "no value") {
				t.Fatalf("invitation refusal without its date:\n%s", snippet(r.body))
			}
		})
	}
}

// Once the session has ended, its ticket no longer offers to cancel; the cancel
// address, opened or posted to, leaves the registration as it was.
func TestReviewPublicNoCancelAfterTheSession(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.publishedEvent(0, model.ModeOpen)
			page := "/e/" + ev.Slug
			c := e.client()
			r := c.post(page, page+"/register", regForm("kafui@example.tg"))
			ticketURL := r.Header.Get("Location")
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(ticketURL, "/t/") {
				t.Fatalf("register: %d %s", r.StatusCode, snippet(r.body))
			}
			csrf := c.csrf(ticketURL + "/cancel") // the form, fetched while the session was ahead
			ev.StartsAt, ev.EndsAt = time.Now().Add(-5*time.Hour).UTC(), time.Now().Add(-2*time.Hour).UTC()
			if err := e.app.SaveEvent(ctx, app.Actor{Name: "test"}, ev); err != nil {
				t.Fatal(err)
			}
			r = c.get(ticketURL + "/cancel")
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != ticketURL {
				t.Fatalf("cancel form after the session: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			r = c.post(ticketURL+"/cancel", ticketURL+"/cancel", url.Values{"_csrf": {csrf}})
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != ticketURL {
				t.Fatalf("cancel after the session: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			reg, err := e.app.Store.FindRegistrationByToken(ctx, strings.TrimPrefix(ticketURL, "/t/"))
			if err != nil {
				t.Fatal(err)
			}
			if reg.Status != model.RegConfirmed {
				t.Fatalf("registration %s after a cancel posted once the session had ended", reg.Status)
			}
		})
	}
}

// The same publication pasted with http and with https is one coverage item: in one
// submission, and in a later one.
func TestReviewPublicCoverageHTTPAndHTTPSAreOne(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := e.publishedEvent(0, model.ModeOpen)
			page := "/e/" + ev.Slug
			c := e.client()
			r := c.post(page, page+"/register", regForm("kafui@example.tg"))
			tk := r.Header.Get("Location")
			r = c.post(tk, tk+"/coverage", url.Values{"links": {"http://kafui.tg/article\nhttps://kafui.tg/article"}})
			if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "added=1") ||
				!strings.Contains(r.Header.Get("Location"), "dup=1") {
				t.Fatalf("first submission: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			r = c.post(tk, tk+"/coverage", url.Values{"links": {"HTTPS://Kafui.tg/article"}})
			if r.StatusCode != http.StatusSeeOther || strings.Contains(r.Header.Get("Location"), "added=") {
				t.Fatalf("second submission: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			expect(t, c.get(r.Header.Get("Location")), http.StatusOK, "lien était déjà enregistré")
			items, err := e.app.Store.ListCoverage(context.Background(), store.CoverageFilter{EventID: ev.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].URL != "http://kafui.tg/article" {
				t.Fatalf("coverage items: %+v", items)
			}
		})
	}
}

// Over the per-address limit (attendees on the venue's Wi-Fi), the coverage links and
// the invitation's answers come back as typed, with the reason, as the registration
// form does: not an error page that loses them.
func TestReviewPublicRateLimitKeepsWhatWasTyped(t *testing.T) {
	e, _ := authzNewEnv(t, "sqlite", nil, func(c *config.Config) { c.FormRate = 1 })
	ctx := context.Background()
	ev := e.publishedEvent(0, model.ModeOpen)
	page := "/e/" + ev.Slug
	c := e.client()
	r := c.post(page, page+"/register", regForm("kafui@example.tg")) // the one post allowed this minute
	tk := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(tk, "/t/") {
		t.Fatalf("register: %d %s", r.StatusCode, snippet(r.body))
	}
	r = c.post(tk, tk+"/coverage", url.Values{"links": {"https://kafui.tg/mon-article"}, "reach": {"1 500"}})
	expect(t, r, http.StatusTooManyRequests, ">https://kafui.tg/mon-article</textarea>", `value="1 500"`,
		`<p class="error" id="e-links">Trop d’envois depuis votre connexion. Patientez une minute puis réessayez.</p>`)

	ct := invContact(e, "Ama", "Mensah", "ama@example.tg", "fr")
	rep, err := e.app.Invite(ctx, app.Actor{Name: "test"}, ev.ID, []int64{ct.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	ip := "/i/" + rep.Created[0].Token
	r = c.post(ip, ip+"/accept", url.Values{"first_name": {"Amavi"}, "last_name": {"Mensah"}, "city": {"Kpalimé"}, "consent": {"yes"}})
	expect(t, r, http.StatusTooManyRequests, `value="Amavi"`, `value="Kpalimé"`, "Trop d’envois depuis votre connexion.")
	r = c.post(ip, ip+"/decline", url.Values{"reason": {"Je serai à Kara ce jour-là."}})
	expect(t, r, http.StatusTooManyRequests, ">Je serai à Kara ce jour-là.</textarea>", "Trop d’envois depuis votre connexion.")
}

// The ticket of a session that was cancelled says so and no longer offers to put the
// session in one's calendar (its .ics would add it as if it were still on).
func TestReviewPublicCancelledSessionNotOfferedToCalendar(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(0, model.ModeOpen)
	page := "/e/" + ev.Slug
	c := e.client()
	r := c.post(page, page+"/register", regForm("kafui@example.tg"))
	tk := r.Header.Get("Location")
	expect(t, c.get(tk), http.StatusOK, "Ajouter à mon agenda (.ics)", "calendar.google.com")
	if _, err := e.app.SetEventStatus(context.Background(), app.Actor{Name: "test"}, ev.ID, model.EventCancelled); err != nil {
		t.Fatal(err)
	}
	r = c.get(tk)
	expect(t, r, http.StatusOK, "Cette session est annulée.")
	if strings.Contains(r.body, "/event.ics") || strings.Contains(r.body, "calendar.google.com") {
		t.Fatalf("a cancelled session is offered to the calendar:\n%s", snippet(r.body))
	}
}

// Someone on the waiting list who cancels is not told that their seat goes to
// someone else: they have none.
func TestReviewPublicCancelTextOfAWaitlistedRequest(t *testing.T) {
	for _, lang := range []string{"fr", "en"} {
		t.Run(lang, func(t *testing.T) {
			e := newEnv(t, "sqlite")
			ev := e.publishedEvent(1, model.ModeOpen)
			page := "/e/" + ev.Slug
			c := e.client()
			c.lang = lang
			first := c.post(page, page+"/register", regForm("kafui@example.tg")).Header.Get("Location")
			second := c.post(page, page+"/register", regForm("ama@example.tg")).Header.Get("Location")
			seat := map[string]string{"fr": "Votre place sera donnée", "en": "Your seat will go"}[lang]
			expect(t, c.get(first+"/cancel"), http.StatusOK, seat)
			r := c.get(second + "/cancel")
			expect(t, r, http.StatusOK, map[string]string{"fr": "vous n’aurez pas de place", "en": "you will not get a seat"}[lang])
			if strings.Contains(r.body, seat) {
				t.Fatalf("a waitlisted request is told its seat goes to someone else:\n%s", snippet(r.body))
			}
		})
	}
}
