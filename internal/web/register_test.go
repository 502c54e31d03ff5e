package web_test

import (
	"context"
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

func (e *env) publishedEvent(capacity int, mode model.RegistrationMode) *model.Event {
	e.t.Helper()
	start := time.Now().Add(20 * 24 * time.Hour).UTC().Truncate(time.Hour)
	ev := &model.Event{Title: "Les blogueurs et la fibre", StartsAt: start, EndsAt: start.Add(3 * time.Hour),
		Capacity: capacity, RegistrationMode: mode, Status: model.EventPublished, VenueName: "Ministère, Lomé"}
	if err := e.app.SaveEvent(context.Background(), app.Actor{Name: "test"}, ev); err != nil {
		e.t.Fatal(err)
	}
	return ev
}

func regForm(email string) url.Values {
	return url.Values{"first_name": {"Kafui"}, "last_name": {"Adjo"}, "email": {email}, "phone": {"90 12 34 56"},
		"outlet": {"Le blog de Kafui"}, "blog_url": {"kafui.tg"}, "channel_facebook": {"kafui.blog"}, "audience": {"12 000"},
		"city": {"Lomé"}, "consent": {"yes"}}
}

func TestPublicRegistrationFlow(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.publishedEvent(1, model.ModeOpen)
			q := &model.Question{EventID: ev.ID, Label: "Votre thématique principale", Kind: model.QChoice, Required: true, Options: "Tech\nSociété\nSport"}
			if err := e.app.SaveQuestion(ctx, app.Actor{}, q); err != nil {
				t.Fatal(err)
			}
			page := "/e/" + ev.Slug
			c := e.client()
			expect(t, c.get(page), http.StatusOK, "Je m’inscris", "Votre thématique principale", `name="consent"`, "Plus que 1 place disponible.")
			// Errors: values kept, messages next to the fields, 422.
			f := regForm("kafui@")
			f.Del("consent")
			r := c.post(page, page+"/register", f)
			expect(t, r, http.StatusUnprocessableEntity, "Cette adresse e-mail n’est pas valide.", "Cochez cette case pour vous inscrire.",
				"Ce champ est obligatoire.", `value="Kafui"`, `aria-describedby="e-email"`)
			f = regForm("kafui@example.tg")
			f.Set("q"+itoa(q.ID), "Tech")
			r = c.post(page, page+"/register", f)
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/t/") {
				t.Fatalf("register: %d %s", r.StatusCode, snippet(r.body))
			}
			ticketURL := r.Header.Get("Location")
			r = c.get(ticketURL)
			expect(t, r, http.StatusOK, "Confirmée", ticketURL+"/qr.png", "Référence", "Kafui Adjo", "Le blog de Kafui", "calendar.google.com")
			if r.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Fatal("ticket page without Referrer-Policy: no-referrer")
			}
			qr := c.get(ticketURL + "/qr.png")
			if qr.StatusCode != 200 || qr.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.body, "\x89PNG") {
				t.Fatalf("qr: %d %s", qr.StatusCode, qr.Header.Get("Content-Type"))
			}
			ics := c.get(ticketURL + "/event.ics")
			expect(t, ics, http.StatusOK, "BEGIN:VCALENDAR", "Les blogueurs et la fibre")
			// Same address again: neutral page, nothing new.
			other := e.client()
			r = other.post(page, page+"/register", f)
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != page+"/inscrit" {
				t.Fatalf("duplicate: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			expect(t, other.get(page+"/inscrit"), http.StatusOK, "vient d’être envoyé à cette adresse")
			// Full: the page says so and the next person is waitlisted.
			expect(t, other.get(page), http.StatusOK, "La session est complète")
			f2 := regForm("ama@example.tg")
			f2.Set("q"+itoa(q.ID), "Sport")
			r = other.post(page, page+"/register", f2)
			expect(t, other.get(r.Header.Get("Location")), http.StatusOK, "Liste d’attente", "(position 1)")
			// Edit one's details.
			r = c.post(ticketURL+"/edit", ticketURL+"/edit", url.Values{"first_name": {"Kafui"}, "last_name": {"Adjo-Mensah"}, "phone": {"+228 91 00 00 00"},
				"q" + itoa(q.ID): {"Société"}})
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("edit: %d %s", r.StatusCode, snippet(r.body))
			}
			expect(t, c.get(ticketURL+"?saved=1"), http.StatusOK, "Kafui Adjo-Mensah", "Vos informations sont enregistrées.")
			// Cancel with a confirmation step; the waitlisted person is promoted.
			expect(t, c.get(ticketURL+"/cancel"), http.StatusOK, "Oui, annuler mon inscription")
			r = c.post(ticketURL+"/cancel", ticketURL+"/cancel", nil)
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("cancel: %d", r.StatusCode)
			}
			expect(t, c.get(ticketURL+"?cancelled=1"), http.StatusOK, "Annulée", "Votre inscription est annulée.")
			counts, _ := e.app.Store.CountRegistrations(ctx, ev.ID)
			if counts[model.RegConfirmed] != 1 || counts[model.RegCancelled] != 1 || counts[model.RegWaitlisted] != 0 {
				t.Fatalf("after cancel %v", counts)
			}
			if qr := c.get(ticketURL + "/qr.png"); qr.StatusCode != http.StatusNotFound {
				t.Fatalf("qr of a cancelled ticket: %d", qr.StatusCode)
			}
			expect(t, c.get("/t/nonexistenttokennonexistenttoken"), http.StatusNotFound)
		})
	}
}

func TestRegistrationAbuseAndModes(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(0, model.ModeOpen)
	page := "/e/" + ev.Slug
	c := e.client()
	// Honeypot: silently accepted, nothing recorded.
	f := regForm("robot@example.tg")
	f.Set("relais_check", "http://spam.example")
	r := c.post(page, page+"/register", f)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != page+"/inscrit" {
		t.Fatalf("honeypot: %d", r.StatusCode)
	}
	if _, err := e.app.Store.FindContactByEmail(context.Background(), "robot@example.tg"); err == nil {
		t.Fatal("honeypot registration recorded")
	}
	// A field over its maximum.
	f = regForm("long@example.tg")
	f.Set("outlet", strings.Repeat("x", 201))
	expect(t, c.post(page, page+"/register", f), http.StatusUnprocessableEntity, "Ce texte est trop long.")
	// English visitor gets English messages.
	en := e.client()
	en.lang = "en"
	f = regForm("x@")
	expect(t, en.post(page, page+"/register", f), http.StatusUnprocessableEntity, "This e-mail address is not valid.")
	// Invite-only: the form is replaced by a notice, a forged post is refused.
	inv := e.publishedEvent(0, model.ModeInviteOnly)
	ip := "/e/" + inv.Slug
	r = c.get(ip)
	expect(t, r, http.StatusOK, "sur invitation uniquement")
	if strings.Contains(r.body, "Je m’inscris") {
		t.Fatal("invite-only page shows the form")
	}
	forged := regForm("y@example.tg")
	expect(t, c.post(ip, ip+"/register", forged), http.StatusConflict, "sur invitation uniquement")
	// Rate limit per address.
	var last *resp
	for i := 0; i <= e.cfg.FormRate; i++ {
		last = c.post(page, page+"/register", regForm("z@"))
	}
	// The form comes back as typed, with the reason.
	expect(t, last, http.StatusTooManyRequests, "Trop d’envois", `value="Le blog de Kafui"`, `value="90 12 34 56"`)
	if last.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Far over the limit, a flood gets the short answer, which reads nothing.
	for i := 0; i < 5; i++ {
		last = c.post(page, page+"/register", regForm("z@"))
	}
	expect(t, last, http.StatusTooManyRequests, "Trop d’envois")
	if strings.Contains(last.body, "Le blog de Kafui") {
		t.Error("a flood still gets the whole page back")
	}
}

// The registrations posted to a form are checked against its event and questions as an
// organizer just left them: a question added, or the event taken offline, counts from
// the next post, though the form was read (and kept) a moment before.
func TestRegistrationFormFollowsEdits(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(0, model.ModeOpen)
	page := "/e/" + ev.Slug
	c := e.client()
	if r := c.post(page, page+"/register", regForm("premier@example.tg")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("first registration: %d %s", r.StatusCode, snippet(r.body))
	}
	org := e.login(model.RoleOrganizer)
	qs := "/admin/events/" + itoa(ev.ID) + "/questions"
	if r := org.post(qs, qs, url.Values{"label": {"Votre plateforme principale ?"}, "kind": {"text"}, "required": {"yes"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add question: %d %s", r.StatusCode, snippet(r.body))
	}
	r := e.client().post(page, page+"/register", regForm("second@example.tg"))
	expect(t, r, http.StatusUnprocessableEntity, "Votre plateforme principale ?", "Ce champ est obligatoire.")

	evPage := "/admin/events/" + itoa(ev.ID)
	if r := org.post(evPage, evPage+"/status", url.Values{"status": {string(model.EventDraft)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("unpublish: %d %s", r.StatusCode, snippet(r.body))
	}
	if r := e.client().post(page, page+"/register", regForm("troisieme@example.tg")); r.StatusCode != http.StatusNotFound {
		t.Fatalf("registration on an event taken offline: %d", r.StatusCode)
	}
}

// TestPublicFormAndAKnownAddress: anyone may type an address in the public form. When
// the directory knows it, the form neither rewrites the contact's details (it only fills
// what is missing) nor opens the ticket page, which shows and edits them: the ticket
// goes to the address by email. A new address gets its ticket page at once.
func TestPublicFormAndAKnownAddress(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			known := &model.Contact{Email: "ama@example.tg", FirstName: "Ama", LastName: "Mensah", Phone: "+228 90 00 00 01",
				Lang: "fr", UnsubscribeToken: e.app.Token()}
			if err := e.app.Store.CreateContact(ctx, known); err != nil {
				t.Fatal(err)
			}
			ev := e.publishedEvent(0, model.ModeOpen)
			page := "/e/" + ev.Slug
			c := e.client()
			f := regForm("AMA@example.tg")
			f.Set("first_name", "Intrus")
			r := c.post(page, page+"/register", f)
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != page+"/inscrit" {
				t.Fatalf("known address: %d to %q, want the neutral page", r.StatusCode, r.Header.Get("Location"))
			}
			expect(t, c.get(page+"/inscrit"), http.StatusOK, "vient d’être envoyé à cette adresse")
			got, err := e.app.Store.FindContact(ctx, known.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.FirstName != "Ama" || got.Phone != "+228 90 00 00 01" || got.City != "Lomé" {
				t.Errorf("contact after a stranger's form: %q %q %q; want the names and phone kept, the missing city filled", got.FirstName, got.Phone, got.City)
			}
			reg, err := e.app.Store.FindRegistrationFor(ctx, ev.ID, known.ID)
			if err != nil || reg.Status != model.RegConfirmed {
				t.Fatalf("registration: %+v %v", reg, err)
			}
			msgs, _, _ := e.app.Store.ListMessages(ctx, store.MessageFilter{Query: "ama@example.tg", Limit: 10})
			if len(msgs) != 1 {
				t.Fatalf("%d messages to the address, want its confirmation", len(msgs))
			}
			if m, err := e.app.Store.FindMessage(ctx, msgs[0].ID); err != nil || !strings.Contains(m.TextBody, "/t/"+reg.ManageToken) {
				t.Fatalf("the confirmation holds no ticket link: %v", err)
			}
			r = c.post(page, page+"/register", regForm("nouveau@example.tg"))
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/t/") {
				t.Fatalf("new address: %d to %q, want its ticket", r.StatusCode, r.Header.Get("Location"))
			}
		})
	}
}
