package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// apiReg is the part of a registration's JSON the tests read.
type apiReg struct {
	ID         int64          `json:"id"`
	EventID    int64          `json:"event_id"`
	Status     string         `json:"status"`
	Source     string         `json:"source"`
	Reference  string         `json:"reference"`
	TicketCode string         `json:"ticket_code"`
	FirstName  string         `json:"first_name"`
	LastName   string         `json:"last_name"`
	Email      string         `json:"email"`
	Outlet     string         `json:"outlet"`
	Answers    map[string]any `json:"answers"`
}

func decodeReg(t *testing.T, r *resp) apiReg {
	t.Helper()
	var out apiReg
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	return out
}

func TestAPIRegistrations(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.regEvent("Session API", 2, model.ModeApproval)
			q := &model.Question{EventID: ev.ID, Label: "Thèmes", Kind: model.QMultiChoice, Options: "Big data\nSécurité", Required: true}
			if err := e.app.SaveQuestion(ctx, app.Actor{Name: "test"}, q); err != nil {
				t.Fatal(err)
			}
			c := e.client()
			org, door := e.token(model.RoleOrganizer), e.token(model.RoleDoor)
			list := "/api/v1/events/" + itoa(ev.ID) + "/registrations"
			body := func(first, email string, extra string) string {
				return fmt.Sprintf(`{"first_name":%q,"last_name":"Mensah","email":%q,"phone":"90 12 34 56","outlet":"Lomé Tech",
					"audience":12000,"channels":[{"platform":"facebook","handle":"@%s"}],"answers":{"%d":["Big data","Sécurité"]}%s}`,
					first, email, strings.ToLower(first), q.ID, extra)
			}

			// Who may do what.
			if r := c.api("GET", list, "", ""); r.StatusCode != 401 || errorCode(t, r) != "unauthorized" {
				t.Fatalf("anonymous: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", list, door, body("Door", "door@example.tg", "")); r.StatusCode != 403 || errorCode(t, r) != "forbidden" {
				t.Fatalf("door POST: %d %s", r.StatusCode, r.body)
			}

			// POST: confirmed while seats remain (no approval for staff), then waitlisted, then the override.
			var regs []apiReg
			for i, want := range []string{"confirmed", "confirmed", "waitlisted"} {
				r := c.api("POST", list, org, body(fmt.Sprintf("Afi%c", 'a'+i), fmt.Sprintf("afi%d@example.tg", i), ""))
				if r.StatusCode != 201 {
					t.Fatalf("create %d: %d %s", i, r.StatusCode, r.body)
				}
				reg := decodeReg(t, r)
				if reg.Status != want || reg.Source != "staff" || reg.EventID != ev.ID || len(reg.TicketCode) < 20 || len(reg.Reference) != 6 ||
					reg.LastName != "Mensah" || reg.Email != fmt.Sprintf("afi%d@example.tg", i) || reg.Outlet != "Lomé Tech" {
					t.Fatalf("created %d: %+v", i, reg)
				}
				if v, ok := reg.Answers[itoa(q.ID)].([]any); !ok || len(v) != 2 {
					t.Fatalf("answers: %v", reg.Answers)
				}
				regs = append(regs, reg)
			}
			r := c.api("POST", list, org, body("Ekoué", "ekoue@example.tg", `,"override_capacity":true,"language":"en"`))
			if r.StatusCode != 201 || decodeReg(t, r).Status != "confirmed" {
				t.Fatalf("override: %d %s", r.StatusCode, r.body)
			}
			if kinds := e.messagesTo(ev, "afi2@example.tg"); !hasKind(kinds, "registration_waitlisted") {
				t.Fatalf("waitlist email: %v", kinds)
			}

			// Bad input: 422 with the fields; an unknown field, 400; the same address, 409.
			r = c.api("POST", list, org, `{"first_name":"Sans","last_name":"Adresse","phone":"12","answers":{}}`)
			if r.StatusCode != 422 || errorCode(t, r) != "invalid" || !strings.Contains(r.body, `"email"`) || !strings.Contains(r.body, `"phone"`) ||
				!strings.Contains(r.body, `"q`+itoa(q.ID)+`"`) || !strings.Contains(r.body, "Ce champ est obligatoire.") {
				t.Fatalf("bad input: %d %s", r.StatusCode, r.body)
			}
			r = c.api("POST", list, org, `{"first_name":"Kossi","last_name":"A","email":"kossi@example.tg","answers":{"999999":"x","`+itoa(q.ID)+`":["Big data"]}}`)
			if r.StatusCode != 422 || !strings.Contains(r.body, `"answers"`) {
				t.Fatalf("unknown question: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", list, org, `{"first_name":"X","nope":1}`); r.StatusCode != 400 || errorCode(t, r) != "bad_request" {
				t.Fatalf("unknown field: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", list, org, body("Afi", "AFI0@example.tg", "")); r.StatusCode != 409 || errorCode(t, r) != "conflict" {
				t.Fatalf("duplicate: %d %s", r.StatusCode, r.body)
			}

			// GET: the list with a status filter and pages; door tokens may read.
			var page struct {
				Registrations []apiReg `json:"registrations"`
				Page          int      `json:"page"`
				PerPage       int      `json:"per_page"`
				Total         int      `json:"total"`
			}
			r = c.api("GET", list+"?status=waitlisted", door, "")
			if r.StatusCode != 200 {
				t.Fatalf("door list: %d %s", r.StatusCode, r.body)
			}
			json.Unmarshal([]byte(r.body), &page)
			if page.Total != 1 || len(page.Registrations) != 1 || page.Registrations[0].ID != regs[2].ID || page.Registrations[0].TicketCode == "" {
				t.Fatalf("waitlisted: %s", r.body)
			}
			r = c.api("GET", list+"?per_page=3&page=2", org, "")
			page.Registrations = nil
			json.Unmarshal([]byte(r.body), &page)
			if r.StatusCode != 200 || page.Total != 4 || page.Page != 2 || page.PerPage != 3 || len(page.Registrations) != 1 {
				t.Fatalf("page 2: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("GET", list+"?status=maybe", org, ""); r.StatusCode != 422 {
				t.Fatalf("bad status filter: %d", r.StatusCode)
			}
			one := "/api/v1/registrations/" + itoa(regs[0].ID)
			r = c.api("GET", one, door, "")
			if got := decodeReg(t, r); r.StatusCode != 200 || got.TicketCode != regs[0].TicketCode || got.Reference != regs[0].Reference || got.FirstName != "Afia" {
				t.Fatalf("get: %d %s", r.StatusCode, r.body)
			}

			// PATCH: door tokens may not; cancelling promotes the first waitlisted person.
			if r := c.api("PATCH", one, door, `{"status":"cancelled"}`); r.StatusCode != 403 {
				t.Fatalf("door PATCH: %d", r.StatusCode)
			}
			if r := c.api("PATCH", one, org, `{"status":"waitlisted"}`); r.StatusCode != 422 || errorCode(t, r) != "invalid" {
				t.Fatalf("bad status: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("PATCH", one, org, `{"status":"rejected"}`); r.StatusCode != 409 || errorCode(t, r) != "conflict" {
				t.Fatalf("reject a confirmed registration: %d %s", r.StatusCode, r.body)
			}
			r = c.api("PATCH", one, org, `{"status":"cancelled"}`)
			if r.StatusCode != 200 || decodeReg(t, r).Status != "cancelled" {
				t.Fatalf("cancel: %d %s", r.StatusCode, r.body)
			}
			// The override took the freed seat: 3 confirmed for 2 seats, so nobody is promoted yet.
			if got := e.registration(regs[2].ID).Status; got != model.RegWaitlisted {
				t.Fatalf("promoted over capacity: %s", got)
			}
			r = c.api("PATCH", "/api/v1/registrations/"+itoa(regs[1].ID), org, `{"status":"cancelled"}`)
			if r.StatusCode != 200 {
				t.Fatalf("cancel 2: %d %s", r.StatusCode, r.body)
			}
			if got := e.registration(regs[2].ID).Status; got != model.RegConfirmed {
				t.Fatalf("not promoted after a seat was freed: %s", got)
			}
			if kinds := e.messagesTo(ev, "afi2@example.tg"); !hasKind(kinds, "registration_promoted") {
				t.Fatalf("promotion email: %v", kinds)
			}
			// Reject a pending one with a reason; confirm back with the override.
			pending := e.seed(ev, seed{First: "Pending", Last: "Person", Email: "pending@example.tg", Status: model.RegPending})
			r = c.api("PATCH", "/api/v1/registrations/"+itoa(pending.ID), org, `{"status":"rejected","reason":"Salle trop petite."}`)
			if r.StatusCode != 200 || !strings.Contains(r.body, `"reject_reason":"Salle trop petite."`) {
				t.Fatalf("reject: %d %s", r.StatusCode, r.body)
			}
			r = c.api("PATCH", "/api/v1/registrations/"+itoa(pending.ID), org, `{"status":"confirmed","override_capacity":true}`)
			if r.StatusCode != 200 || decodeReg(t, r).Status != "confirmed" {
				t.Fatalf("confirm with override: %d %s", r.StatusCode, r.body)
			}

			// Unknown ids: 404 with the error shape.
			for _, p := range []string{"/api/v1/registrations/999999", "/api/v1/events/999999/registrations"} {
				if r := c.api("GET", p, org, ""); r.StatusCode != 404 || errorCode(t, r) != "not_found" {
					t.Fatalf("%s: %d %s", p, r.StatusCode, r.body)
				}
			}
			if r := c.api("PATCH", "/api/v1/registrations/999999", org, `{"status":"cancelled"}`); r.StatusCode != 404 || errorCode(t, r) != "not_found" {
				t.Fatalf("PATCH unknown: %d %s", r.StatusCode, r.body)
			}
		})
	}
}

// TestAPIRegistrationTakesTheSessionLanguage: without "language", a registration added
// through the API gets its emails in the session's language, as from the organizer's form.
func TestAPIRegistrationTakesTheSessionLanguage(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	ev := e.regEvent("English session", 0, model.ModeOpen)
	ev.Lang = "en"
	if err := e.app.SaveEvent(ctx, app.Actor{Name: "test"}, ev); err != nil {
		t.Fatal(err)
	}
	r := e.client().api("POST", "/api/v1/events/"+itoa(ev.ID)+"/registrations", e.token(model.RoleOrganizer),
		`{"first_name":"John","last_name":"Doe","email":"john@example.org"}`)
	if r.StatusCode != 201 {
		t.Fatalf("create: %d %s", r.StatusCode, r.body)
	}
	reg, err := e.app.Store.FindRegistration(ctx, decodeReg(t, r).ID)
	if err != nil || reg.Lang != "en" {
		t.Fatalf("language %q (%v), want en", reg.Lang, err)
	}
}
