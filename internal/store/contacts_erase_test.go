package store_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/i18n"
	"relais/internal/mail"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
	"relais/templates"
)

// eraseApp is the application over a fresh store, its clock fixed, as the erasure's
// traces are left by the application's own flows.
func eraseApp(t *testing.T, driver string) (*app.App, *store.Store) {
	t.Helper()
	st := storetest.Open(t, driver)
	cfg := config.Defaults()
	cfg.PasswordMemoryKiB = 1024
	a := app.New(st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	if a.Mail, err = mail.NewRenderer(templates.FS, b); err != nil {
		t.Fatal(err)
	}
	a.I18n = b
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	a.Now = func() time.Time { return now }
	st.Now = a.Now
	return a, st
}

func eraseEvent(t *testing.T, a *app.App, title string, mode model.RegistrationMode) *model.Event {
	t.Helper()
	start := a.Now().Add(30 * 24 * time.Hour)
	ev := &model.Event{Title: title, StartsAt: start, EndsAt: start.Add(3 * time.Hour), Capacity: 10,
		RegistrationMode: mode, Status: model.EventPublished}
	if err := a.SaveEvent(context.Background(), app.Actor{Name: "test"}, ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// eraseRowsMentioning returns, for each table, the rows in which one of the needles
// appears (case aside) in any column.
func eraseRowsMentioning(t *testing.T, st *store.Store, needles []string, tables ...string) []string {
	t.Helper()
	var found []string
	for _, table := range tables {
		var rows []map[string]any
		if err := st.DB().Table(table).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			for col, v := range row {
				var s string
				switch v := v.(type) {
				case []byte:
					s = string(v)
				case nil:
					continue
				default:
					s = fmt.Sprint(v)
				}
				for _, n := range needles {
					if strings.Contains(strings.ToLower(s), n) {
						found = append(found, fmt.Sprintf("%s.%s (id %v): %q", table, col, row["id"], n))
					}
				}
			}
		}
	}
	return found
}

// TestEraseContactLeavesNoTrace: a blogger invited twice (accepting once, declining
// once with a reason), rejected at a third event with a reason that names them, whose
// coverage was added, who was sent the SMTP test under another spelling of their
// address, and for whom an organizer sent himself campaign tests (one showing only the ticket's link): once erased, neither
// their name nor their address nor their phone is in any row of the audit log, the
// outbox, the registrations or the coverage, nor among the audit log's actors. The
// entries themselves stay, and another blogger's campaign test is untouched.
func TestEraseContactLeavesNoTrace(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, st := eraseApp(t, driver)
			ctx := context.Background()
			staff := app.Actor{Name: "Afi"}
			org := &model.User{ID: 1, Name: "Afi", Email: "afi@ministere.example.tg"}
			yawo := &model.Contact{FirstName: "Yawo", LastName: "Kpodar", Email: "yawo.kpodar@example.tg",
				Phone: "+22890112233", Lang: "fr", UnsubscribeToken: app.NewToken()}
			kossi := &model.Contact{FirstName: "Kossi", LastName: "Agbeko", Email: "kossi@example.tg", Lang: "fr",
				UnsubscribeToken: app.NewToken()}
			for _, c := range []*model.Contact{yawo, kossi} {
				if err := st.CreateContact(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			invited := eraseEvent(t, a, "Forum numérique", model.ModeInviteOnly)
			declined := eraseEvent(t, a, "Atelier données", model.ModeInviteOnly)
			approval := eraseEvent(t, a, "Conférence presse", model.ModeApproval)

			rep, err := a.Invite(ctx, staff, invited.ID, []int64{yawo.ID, kossi.ID}, "")
			if err != nil || len(rep.Created) != 2 {
				t.Fatalf("invite: %+v %v", rep, err)
			}
			for i, c := range []*model.Contact{yawo, kossi} {
				in := app.RegistrationInput{ContactInput: app.ContactInput{FirstName: c.FirstName, LastName: c.LastName,
					Email: c.Email}, Consent: true, Lang: "fr"}
				if _, err := a.AcceptInvitation(ctx, rep.Created[i].Token, in); err != nil {
					t.Fatalf("accept: %v", err)
				}
			}
			rep2, err := a.Invite(ctx, staff, declined.ID, []int64{yawo.ID}, "Yawo, on compte sur vous")
			if err != nil || len(rep2.Created) != 1 {
				t.Fatalf("invite: %+v %v", rep2, err)
			}
			if _, err := a.Decline(ctx, rep2.Created[0].Token, "Yawo Kpodar est en reportage"); err != nil {
				t.Fatal(err)
			}
			res, err := a.Register(ctx, approval.ID, app.RegistrationInput{ContactInput: app.ContactInput{
				FirstName: "Yawo", LastName: "Kpodar", Email: yawo.Email, Phone: yawo.Phone}, Consent: true, Lang: "fr"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.RejectRegistration(ctx, staff, res.Registration.ID, "Yawo Kpodar n'est pas accrédité"); err != nil {
				t.Fatal(err)
			}
			var invitedReg int64
			if regs, err := st.ListRegistrationsForContact(ctx, yawo.ID); err == nil {
				for _, r := range regs {
					if r.EventID == invited.ID {
						invitedReg = r.ID
					}
				}
			}
			if _, err := a.AddCoverage(ctx, staff, invited.ID, app.CoverageInput{RegistrationID: invitedReg,
				ContactID: yawo.ID, URL: "https://yawo-kpodar.example.tg/forum", Title: "Le forum vu par Yawo Kpodar"}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.QueueTestMail(ctx, "Yawo.Kpodar@Example.tg"); err != nil {
				t.Fatal(err)
			}
			camp, err := a.CreateCampaign(ctx, staff, invited.ID, app.CampaignInput{Segment: model.SegRegistered,
				Subject: "Merci {first_name} {last_name}", Body: "Votre billet : {ticket_url}"})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []*model.Contact{yawo, kossi} {
				if err := a.SendCampaignTest(ctx, staff, camp, org, c.ID); err != nil {
					t.Fatal(err)
				}
			}
			// A test that shows only the ticket's link is personal too.
			link, err := a.CreateCampaign(ctx, staff, invited.ID, app.CampaignInput{Segment: model.SegRegistered,
				Subject: "Votre billet", Body: "Lien : {ticket_url}"})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.SendCampaignTest(ctx, staff, link, org, yawo.ID); err != nil {
				t.Fatal(err)
			}

			needles := []string{"yawo", "kpodar", "90112233"}
			tables := []string{"audit_entries", "messages", "message_bodies", "registrations", "coverages"}
			if found := eraseRowsMentioning(t, st, needles, tables...); len(found) < 8 {
				t.Fatalf("the scenario should leave the name around before erasure, found only %v", found)
			}
			if _, err := a.EraseContact(ctx, staff, yawo.ID); err != nil {
				t.Fatal(err)
			}

			if found := eraseRowsMentioning(t, st, needles, tables...); len(found) > 0 {
				t.Errorf("after erasure:\n%s", strings.Join(found, "\n"))
			}
			actors, err := st.ListAuditActors(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, ac := range actors {
				if strings.Contains(strings.ToLower(ac.ActorName), "yawo") {
					t.Errorf("audit actor %q", ac.ActorName)
				}
			}
			entries, _, err := st.ListAuditEntries(ctx, store.AuditFilter{ActorName: store.ErasedName})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, e := range entries {
				got[e.Action] = true
			}
			if !got["invitation.accept"] || !got["invitation.decline"] {
				t.Errorf("the invitee's answers should stay in the log, under %q: %v", store.ErasedName, got)
			}
			var subjects []string
			if err := st.DB().Model(&model.Message{}).Where("idempotency_key LIKE 'camptest:%'").
				Order("id").Pluck("subject", &subjects).Error; err != nil {
				t.Fatal(err)
			}
			if len(subjects) != 3 || subjects[0] != "" || !strings.Contains(subjects[1], "Kossi Agbeko") || subjects[2] != "" {
				t.Errorf("campaign tests: %q", subjects)
			}
			var covs []model.Coverage
			if err := st.DB().Where("contact_id = ?", yawo.ID).Find(&covs).Error; err != nil {
				t.Fatal(err)
			}
			if len(covs) != 1 || covs[0].Platform != "blog" || covs[0].CheckStatus != model.CheckSkipped {
				t.Errorf("coverage should stay counted, never fetched again: %+v", covs)
			}
		})
	}
}
