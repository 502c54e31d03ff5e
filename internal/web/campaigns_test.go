package web_test

import (
	"context"
	"encoding/json"
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

// campPeople registers people (first name, language) to ev as staff; the first admitted
// of them are checked in.
func (e *env) campPeople(ev *model.Event, admitted int, people ...[2]string) []*model.Registration {
	e.t.Helper()
	ctx := context.Background()
	var out []*model.Registration
	for i, p := range people {
		res, err := e.app.Register(ctx, ev.ID, app.RegistrationInput{ContactInput: app.ContactInput{FirstName: p[0],
			LastName: "Test", Email: strings.ToLower(p[0]) + "@example.tg"}, Lang: p[1], Staff: true})
		if err != nil {
			e.t.Fatal(err)
		}
		r := res.Registration
		if i < admitted {
			now := time.Now().UTC()
			r.CheckedInAt, r.CheckedInBy = &now, "Entrée principale"
			if err := e.app.Store.SaveRegistration(ctx, r); err != nil {
				e.t.Fatal(err)
			}
		}
		out = append(out, r)
	}
	return out
}

// campOutbox lists the outbox's messages of a kind as "to subject" lines.
func (e *env) campOutbox(kind string) []string {
	e.t.Helper()
	msgs, _, err := e.app.Store.ListMessages(context.Background(), store.MessageFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Kind == kind {
			out = append(out, m.ToEmail+" "+m.Subject)
		}
	}
	return out
}

func TestCampaignPages(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			org := e.login(model.RoleOrganizer)
			ev := e.publishedEvent(0, model.ModeOpen)
			regs := e.campPeople(ev, 2, [2]string{"Kafui", "fr"}, [2]string{"Edem", "en"}, [2]string{"Ama", "fr"})
			base := "/admin/events/" + itoa(ev.ID) + "/campaigns"
			expect(t, org.get(base), http.StatusOK, "Relances", "Messages automatiques", `value="24h, morning"`, "le matin même")
			expect(t, org.get(base+"/new"), http.StatusOK, "Présents (venus à la session) – 2", "Absents (inscrits confirmés, pas venus) – 1",
				"<code>{coverage_url}</code>", `name="body"`)
			// An unknown placeholder: refused before anything, with its name, in French.
			form := url.Values{"segment": {"attended"}, "subject": {"Merci {first_name} !"},
				"body": {"Bonjour {prenom},\n\nMerci ! Vos publications : {coverage_url}"}}
			r := org.post(base+"/new", base, form)
			expect(t, r, http.StatusUnprocessableEntity, "Variable inconnue\u00a0: {prenom}", `aria-invalid="true"`, "Bonjour {prenom}")
			form.Set("body", "Bonjour {first_name},\n\nMerci ! Vos publications : {coverage_url}")
			r = org.post(base+"/new", base, form)
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), base+"/") {
				t.Fatalf("create: %d %s", r.StatusCode, snippet(r.body))
			}
			page := r.Header.Get("Location")
			// The preview is written for a real recipient, and for another on request.
			expect(t, org.get(page), http.StatusOK, "tel que Kafui Test (kafui@example.tg)", "Merci Kafui !", `src="`+page+`/preview.html?contact=`,
				"Edem Test – edem@example.tg", "M’envoyer un test", "partira maintenant à 2 personnes")
			edem := itoa(regs[1].ContactID)
			expect(t, org.get(page+"?contact="+edem), http.StatusOK, "tel que Edem Test", "Merci Edem !")
			frame := org.get(page + "/preview.html?contact=" + edem)
			expect(t, frame, http.StatusOK, "Bonjour Edem,", `<html lang="en">`, "#couverture")
			if csp := frame.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
				t.Fatalf("preview frame CSP %q", csp)
			}
			// A test to oneself, marked, not counted.
			r = org.post(page, page+"/test", url.Values{"contact": {edem}})
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("test: %d %s", r.StatusCode, snippet(r.body))
			}
			if got := e.campOutbox("campaign"); len(got) != 1 || got[0] != "organizer@example.tg [TEST] Merci Edem !" {
				t.Fatalf("test message: %q", got)
			}
			// Schedule: in the past refused (422), then set and taken back.
			expect(t, org.post(page, page+"/schedule", url.Values{"scheduled_at": {"2017-05-17T09:00"}}), http.StatusUnprocessableEntity,
				"Choisissez une date à venir.")
			later := time.Now().Add(48 * time.Hour).In(ev.Location()).Format("2006-01-02T15:04")
			if r := org.post(page, page+"/schedule", url.Values{"scheduled_at": {later}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("schedule: %d %s", r.StatusCode, snippet(r.body))
			}
			expect(t, org.get(page), http.StatusOK, "Programmée", "Annuler la programmation")
			if r := org.post(page, page+"/unschedule", nil); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("unschedule: %d", r.StatusCode)
			}
			// Send now, then again: two messages in all.
			for range 2 {
				if r := org.post(page, page+"/send", nil); r.StatusCode != http.StatusSeeOther {
					t.Fatalf("send: %d %s", r.StatusCode, snippet(r.body))
				}
			}
			expect(t, org.get(page), http.StatusOK, `data-url="`+page+`/progress"`, `src="/static/campaign.js"`, `data-count="sent"`,
				`http-equiv="refresh"`, "Envoyée")
			var prog struct {
				Status                           string
				Recipients, Queued, Sent, Failed int
				Done                             bool
			}
			pr := org.get(page + "/progress")
			if err := json.Unmarshal([]byte(pr.body), &prog); err != nil || prog.Status != "sent" || prog.Recipients != 2 || prog.Queued != 2 || prog.Done {
				t.Fatalf("progress: %s %v", pr.body, err)
			}
			if got := e.campOutbox("campaign"); len(got) != 3 {
				t.Fatalf("after two clicks: %q", got)
			}
			expect(t, org.get("/static/campaign.js"), http.StatusOK, "setTimeout(poll, 3000)")
			expect(t, org.get(base), http.StatusOK, "Merci {first_name} !", "0 / 2")
			// Sent: the form is closed.
			if r := org.post(page, page, form); r.StatusCode != http.StatusConflict {
				t.Fatalf("edit a sent campaign: %d", r.StatusCode)
			}
			// Reminder settings.
			expect(t, org.post(base, "/admin/events/"+itoa(ev.ID)+"/reminders", url.Values{"reminder_offsets": {"demain"}}),
				http.StatusUnprocessableEntity, "«\u00a0demain\u00a0» n’est pas compris")
			if r := org.post(base, "/admin/events/"+itoa(ev.ID)+"/reminders", url.Values{"reminder_offsets": {"morning, 2h, 1d"}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("reminders: %d %s", r.StatusCode, snippet(r.body))
			}
			expect(t, org.get(base), http.StatusOK, `value="24h, morning, 2h"`, "2h avant")
		})
	}
}

// TestEventChangeAndCancellationNotices: the event form offers the notice when a
// published session has registrants; a new date notifies them; cancelling tells them.
func TestEventChangeAndCancellationNotices(t *testing.T) {
	e := newEnv(t, "sqlite")
	org := e.login(model.RoleOrganizer)
	ev := e.publishedEvent(0, model.ModeOpen)
	e.campPeople(ev, 0, [2]string{"Kafui", "fr"}, [2]string{"Edem", "en"})
	edit := "/admin/events/" + itoa(ev.ID) + "/edit"
	expect(t, org.get(edit), http.StatusOK, `name="notify_registrants"`, "Prévenir les 2 personnes inscrites")
	tz := ev.Location()
	form := url.Values{"title": {ev.Title}, "slug": {ev.Slug}, "timezone": {ev.Timezone}, "capacity": {"0"},
		"registration_mode": {"open"}, "language": {"fr"}, "venue_name": {ev.VenueName},
		"starts_at": {ev.StartsAt.In(tz).Format("2006-01-02T15:04")}, "ends_at": {ev.EndsAt.In(tz).Format("2006-01-02T15:04")}}
	// Saved without a change of date: nothing, even with the box ticked.
	form.Set("notify_registrants", "1")
	if r := org.post(edit, "/admin/events/"+itoa(ev.ID), form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.StatusCode, snippet(r.body))
	}
	if got := e.campOutbox("event_changed"); len(got) != 0 {
		t.Fatalf("notices without a change: %q", got)
	}
	form.Set("starts_at", ev.StartsAt.Add(24*time.Hour).In(tz).Format("2006-01-02T15:04"))
	form.Set("ends_at", ev.EndsAt.Add(24*time.Hour).In(tz).Format("2006-01-02T15:04"))
	if r := org.post(edit, "/admin/events/"+itoa(ev.ID), form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.StatusCode, snippet(r.body))
	}
	expect(t, org.get("/admin/events/"+itoa(ev.ID)), http.StatusOK, "Un avis de changement part aux inscrits.")
	got := e.campOutbox("event_changed")
	if len(got) != 2 || !strings.Contains(strings.Join(got, "|"), "edem@example.tg New date or venue") {
		t.Fatalf("change notices: %q", got)
	}
	admin := "/admin/events/" + itoa(ev.ID)
	if r := org.post(admin, admin+"/status", url.Values{"status": {"cancelled"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", r.StatusCode)
	}
	if got := e.campOutbox("event_cancelled"); len(got) != 2 {
		t.Fatalf("cancellation notices: %q", got)
	}
}

func TestAPICampaigns(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			c := e.client()
			tok, door := e.token(model.RoleOrganizer), e.token(model.RoleDoor)
			ev := e.publishedEvent(0, model.ModeOpen)
			regs := e.campPeople(ev, 0, [2]string{"Kafui", "fr"}, [2]string{"Edem", "en"})
			outsider := e.publishedEvent(0, model.ModeOpen)
			other := e.campPeople(outsider, 0, [2]string{"Ama", "fr"})
			list := "/api/v1/events/" + itoa(ev.ID) + "/campaigns"
			r := c.api("POST", list, tok, `{"segment":"registered","subject":"Merci","body":"Bonjour {prenom}"}`)
			if r.StatusCode != 422 || errorCode(t, r) != "invalid" || !strings.Contains(r.body, "{prenom}") {
				t.Fatalf("unknown placeholder: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", list, tok, `{"segment":"everyone","subject":"x","body":"y"}`); r.StatusCode != 422 || !strings.Contains(r.body, `"segment"`) {
				t.Fatalf("bad segment: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", list, tok, `{"segment":"registered","subject":"x","body":"y","scheduled_at":"2017-05-17T09:00:00Z"}`); r.StatusCode != 422 {
				t.Fatalf("scheduled in the past: %d %s", r.StatusCode, r.body)
			}
			r = c.api("POST", list, tok, `{"segment":"registered","subject":"Merci {first_name}","body":"Bonjour **{first_name}**, votre billet : {ticket_url}"}`)
			if r.StatusCode != 201 {
				t.Fatalf("create: %d %s", r.StatusCode, r.body)
			}
			var camp struct {
				ID                               int64
				Status                           string
				Recipients, Queued, Sent, Failed int
				Segment                          string
				Failures                         []any
			}
			json.Unmarshal([]byte(r.body), &camp)
			if camp.ID == 0 || camp.Status != "draft" || camp.Recipients != 2 || camp.Segment != "registered" {
				t.Fatalf("created: %s", r.body)
			}
			one := "/api/v1/campaigns/" + itoa(camp.ID)
			if r := c.api("GET", list, tok, ""); r.StatusCode != 200 || !strings.Contains(r.body, `"id":`+itoa(camp.ID)) {
				t.Fatalf("list: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("GET", one, door, ""); r.StatusCode != 403 {
				t.Fatalf("door: %d", r.StatusCode)
			}
			var pv struct {
				Subject, HTML, Text string
				Recipient           struct {
					ContactID int64 `json:"contact_id"`
					Email     string
				}
			}
			r = c.api("POST", one+"/preview", tok, `{"contact_id":`+itoa(regs[1].ContactID)+`}`)
			if err := json.Unmarshal([]byte(r.body), &pv); err != nil || r.StatusCode != 200 || pv.Subject != "Merci Edem" ||
				!strings.Contains(pv.HTML, "<strong>Edem</strong>") || !strings.Contains(pv.Text, "/t/") || pv.Recipient.Email != "edem@example.tg" {
				t.Fatalf("preview: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", one+"/preview", tok, ""); r.StatusCode != 200 || !strings.Contains(r.body, "kafui@example.tg") {
				t.Fatalf("preview of the first: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", one+"/preview", tok, `{"contact_id":`+itoa(other[0].ContactID)+`}`); r.StatusCode != 404 {
				t.Fatalf("preview for someone else's registrant: %d %s", r.StatusCode, r.body)
			}
			for i := range 2 {
				r = c.api("POST", one+"/send", tok, `{}`)
				if err := json.Unmarshal([]byte(r.body), &camp); err != nil || r.StatusCode != 200 || camp.Status != "sent" ||
					camp.Recipients != 2 || camp.Queued != 2 {
					t.Fatalf("send #%d: %d %s", i+1, r.StatusCode, r.body)
				}
				if got := e.campOutbox("campaign"); len(got) != 2 {
					t.Fatalf("send #%d: %d messages", i+1, len(got))
				}
			}
			if r := c.api("GET", one, tok, ""); r.StatusCode != 200 || !strings.Contains(r.body, `"queued":2`) {
				t.Fatalf("get: %d %s", r.StatusCode, r.body)
			}
			later := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
			r = c.api("POST", list, tok, `{"segment":"waitlisted","subject":"x","body":"y","scheduled_at":"`+later+`"}`)
			if r.StatusCode != 201 || !strings.Contains(r.body, `"status":"scheduled"`) {
				t.Fatalf("scheduled: %d %s", r.StatusCode, r.body)
			}
		})
	}
}
