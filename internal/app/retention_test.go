package app_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// retStats is what an event's report counts; retention must leave all of it unchanged.
type retStats struct {
	Funnel        app.Funnel
	NoShows       int64
	Rate          float64
	Registrations map[string]int64
	Invitations   map[string]int64
	PerDay        []app.DayCount
	ByTime        []app.SlotCount
	Doors         []store.DoorScans
}

func retReport(t *testing.T, a *app.App, ev *model.Event) retStats {
	t.Helper()
	r, err := a.EventReport(context.Background(), ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	return retStats{r.Funnel, r.NoShows, r.AttendanceRate, r.Registrations, r.Invitations, r.RegistrationsPerDay, r.AdmissionsByTime, r.Doors}
}

// retSnapshot is every row retention may touch, to show that a second run changes nothing.
func retSnapshot(t *testing.T, a *app.App) string {
	t.Helper()
	var out []any
	for _, table := range []string{"contacts", "registrations", "invitations", "contact_channels", "contact_tags"} {
		rows, err := a.Store.SQLDB().Query("SELECT * FROM " + table + " ORDER BY 1")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, table, vals)
		}
		rows.Close()
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// Personal data of an event that ended 25 months ago are anonymised, those of one that
// ended 23 months ago are not; the events' figures stay; a second run changes nothing.
func TestAnonymiseExpired(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, clk := campApp(t, driver)
			// Rows' created_at and updated_at come from the real clock: start from it.
			clk.Set(store.Now())
			start := clk.Now().Add(24 * time.Hour)
			old := campEvent(t, a, start)
			recent := campEvent(t, a, start.AddDate(0, 2, 0))
			q := &model.Question{EventID: old.ID, Label: "Votre sujet préféré", Kind: model.QText}
			if err := a.SaveQuestion(ctx, app.Actor{Name: "test"}, q); err != nil {
				t.Fatal(err)
			}
			rq := &model.Question{EventID: recent.ID, Label: "Votre sujet", Kind: model.QText}
			if err := a.SaveQuestion(ctx, app.Actor{Name: "test"}, rq); err != nil {
				t.Fatal(err)
			}
			register := func(ev *model.Event, qid int64, first, email, answer string) *model.Registration {
				t.Helper()
				res, err := a.Register(ctx, ev.ID, app.RegistrationInput{ContactInput: app.ContactInput{
					FirstName: first, LastName: "Mensah", Email: email, Phone: "90 12 34 56", Outlet: "Blog de " + first,
					BlogURL: first + ".example.tg", City: "Lomé", Audience: "12000",
					Channels: []model.ContactChannel{{Platform: "facebook", Handle: "@" + first}}},
					Answers: map[int64][]string{qid: {answer}}, Consent: true, Lang: "fr"})
				if err != nil {
					t.Fatal(err)
				}
				return res.Registration
			}
			// Ama came to the old session only; Kofi to both; Afi to the recent one only;
			// Yao registered for the old one and is invited to the recent one.
			amaReg := register(old, q.ID, "Ama", "ama@example.tg", "La fibre optique")
			kofiOld := register(old, q.ID, "Kofi", "kofi@example.tg", "Le mobile money")
			kofiRecent := register(recent, rq.ID, "Kofi", "kofi@example.tg", "Les données")
			afiReg := register(recent, rq.ID, "Afi", "afi@example.tg", "La cybersécurité")
			yaoReg := register(old, q.ID, "Yao", "yao@example.tg", "La 5G")
			if _, err := a.CancelRegistration(ctx, app.Actor{Name: "test"}, yaoReg.ID); err != nil {
				t.Fatal(err)
			}
			if ok, err := a.Store.AdmitRegistration(ctx, amaReg.ID, start.Add(time.Hour), "Entrée principale", "tel-1"); err != nil || !ok {
				t.Fatalf("admit: %v %v", ok, err)
			}
			ama, _ := a.Store.FindContact(ctx, amaReg.ContactID)
			ama.Notes, ama.Tags = "A écrit sur la fibre en 2026", []string{"tech", "Lomé"}
			if err := a.Store.UpdateContact(ctx, ama); err != nil {
				t.Fatal(err)
			}
			now := clk.Now()
			for _, inv := range []*model.Invitation{
				{EventID: old.ID, ContactID: ama.ID, Token: app.NewToken(), Status: store.InvitationAccepted, Note: "Chère Ama, votre article…", SentAt: &now},
				{EventID: recent.ID, ContactID: yaoReg.ContactID, Token: app.NewToken(), Status: store.InvitationSent, Note: "Cher Yao", SentAt: &now},
			} {
				if err := a.Store.CreateInvitation(ctx, inv); err != nil {
					t.Fatal(err)
				}
			}
			before := map[int64]retStats{old.ID: retReport(t, a, old), recent.ID: retReport(t, a, recent)}

			// Nothing is due until the old session is 24 months past; 0 keeps for ever.
			clk.Set(old.EndsAt.AddDate(0, 23, 0))
			if n, err := a.AnonymiseExpired(ctx); err != nil || n != 0 {
				t.Fatalf("23 months after: %d, %v", n, err)
			}
			clk.Set(old.EndsAt.AddDate(0, 25, 0))
			a.Config.RetentionMonths = 0
			if n, err := a.AnonymiseExpired(ctx); err != nil || n != 0 {
				t.Fatalf("retention off: %d, %v", n, err)
			}
			a.Config.RetentionMonths = 24

			n, err := a.AnonymiseExpired(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Three answers and one note of the old session, and Ama.
			if n != 5 {
				t.Errorf("changed %d, want 5", n)
			}
			for id, want := range before {
				ev := old
				if id == recent.ID {
					ev = recent
				}
				if got := retReport(t, a, ev); !reflect.DeepEqual(got, want) {
					t.Errorf("event %d's figures changed:\n%+v\n%+v", id, want, got)
				}
			}

			// Ama is anonymised; her registration keeps what the figures need.
			c, err := a.Store.FindContact(ctx, ama.ID)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name() != "Anonyme" || c.Email != store.AnonymisedEmail(ama.ID) || c.ErasedAt == nil ||
				c.Phone != "" || c.Outlet != "" || c.BlogURL != "" || c.City != "" || c.Notes != "" || c.Audience != 0 ||
				len(c.Channels) != 0 || len(c.Tags) != 0 || c.ConsentAt != nil {
				t.Errorf("Ama not anonymised: %+v", c)
			}
			if !strings.HasSuffix(c.Email, "@erased.invalid") || !strings.HasPrefix(c.Email, "anon-") {
				t.Errorf("address %s", c.Email)
			}
			r, _ := a.Store.FindRegistration(ctx, amaReg.ID)
			if r.Status != model.RegConfirmed || r.Source != model.SourceOnline || r.CheckedInAt == nil || r.Answers != "{}" ||
				r.TicketCode != amaReg.TicketCode {
				t.Errorf("Ama's registration: %+v", r)
			}
			msgs, err := a.Store.ListMessagesForContact(ctx, ama.ID, 0)
			if err != nil || len(msgs) == 0 {
				t.Fatalf("Ama's messages: %v %v", msgs, err)
			}
			for _, m := range msgs {
				if m.ToEmail != c.Email || m.ToName != "Anonyme" {
					t.Errorf("message %d still addressed to %s %s", m.ID, m.ToName, m.ToEmail)
				}
			}
			inv, _ := a.Store.FindInvitationFor(ctx, old.ID, ama.ID)
			if inv.Note != "" || inv.Status != store.InvitationAccepted {
				t.Errorf("old invitation: %+v", inv)
			}

			// Kofi and Yao have something in the recent session: they keep their card;
			// their old answers go, their recent ones stay. Afi is not touched.
			for _, reg := range []*model.Registration{kofiOld, yaoReg} {
				r, _ := a.Store.FindRegistration(ctx, reg.ID)
				if r.Answers != "{}" || r.Status != reg.Status && reg != yaoReg {
					t.Errorf("old registration %d: %+v", reg.ID, r)
				}
			}
			for _, reg := range []*model.Registration{kofiRecent, afiReg} {
				r, _ := a.Store.FindRegistration(ctx, reg.ID)
				if r.Answers == "{}" {
					t.Errorf("recent registration %d lost its answers", reg.ID)
				}
				c, _ := a.Store.FindContact(ctx, reg.ContactID)
				if c.ErasedAt != nil || c.FirstName == "Anonyme" || c.Phone == "" || len(c.Channels) != 1 {
					t.Errorf("contact %d changed: %+v", c.ID, c)
				}
			}
			if c, _ := a.Store.FindContact(ctx, yaoReg.ContactID); c.ErasedAt != nil || c.Email != "yao@example.tg" {
				t.Errorf("Yao, invited to the recent session, anonymised: %+v", c)
			}
			if inv, _ := a.Store.FindInvitationFor(ctx, recent.ID, yaoReg.ContactID); inv.Note != "Cher Yao" {
				t.Errorf("recent invitation: %+v", inv)
			}

			entries, _, err := a.Store.ListAuditEntries(ctx, store.AuditFilter{ActorName: "retention", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			actions := map[string]int64{}
			for _, e := range entries {
				actions[e.Action+":"+itoa64(e.ObjectID)]++
			}
			if len(entries) != 2 || actions["retention.clear_event:"+itoa64(old.ID)] != 1 || actions["contact.anonymise:"+itoa64(ama.ID)] != 1 {
				t.Errorf("audit: %v", actions)
			}

			// Running again changes nothing more, in figures or in rows.
			snap := retSnapshot(t, a)
			if n, err := a.AnonymiseExpired(ctx); err != nil || n != 0 {
				t.Fatalf("second run: %d, %v", n, err)
			}
			if retSnapshot(t, a) != snap {
				t.Error("the second run changed rows")
			}
			if _, total, _ := a.Store.ListAuditEntries(ctx, store.AuditFilter{ActorName: "retention", Limit: 1}); total != 2 {
				t.Errorf("the second run wrote %d audit entries", total-2)
			}

			// Two more months: the recent session is past retention too, and Kofi, Yao
			// and Afi go the same way.
			clk.Set(recent.EndsAt.AddDate(0, 24, 1))
			if n, err := a.AnonymiseExpired(ctx); err != nil || n != 6 {
				t.Errorf("later run: %d, %v (want 2 answers, 1 note, 3 contacts)", n, err)
			}
			if got := retReport(t, a, recent); !reflect.DeepEqual(got, before[recent.ID]) {
				t.Errorf("recent event's figures changed")
			}
		})
	}
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }
