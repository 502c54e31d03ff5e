package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/i18n"
	"relais/internal/mail"
	"relais/internal/mail/mailtest"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
	"relais/templates"
)

// campClock is the clock of the app and its store, moved by hand.
type campClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *campClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *campClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC()
	c.mu.Unlock()
}
func (c *campClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// campApp is an App on a fresh database of the driver with a clock the test moves.
func campApp(t testing.TB, driver string) (*app.App, *campClock) {
	t.Helper()
	st := storetest.Open(t, driver)
	cfg := config.Defaults()
	cfg.PasswordMemoryKiB = 1024 // argon2id at its lowest cost: tests hash many passwords
	cfg.BaseURL = "https://relais.example.tg"
	cfg.SecretKey = strings.Repeat("k", 32)
	a := app.New(st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	r, err := mail.NewRenderer(templates.FS, b)
	if err != nil {
		t.Fatal(err)
	}
	a.Mail, a.I18n = r, b
	clk := &campClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	a.Now, st.Now = clk.Now, clk.Now
	return a, clk
}

// campEvent is a published session in Lomé (UTC+0) at start, 3 hours long.
func campEvent(t testing.TB, a *app.App, start time.Time) *model.Event {
	t.Helper()
	ev := &model.Event{Title: "Les blogueurs et la fibre", StartsAt: start, EndsAt: start.Add(3 * time.Hour),
		Timezone: "Africa/Lome", RegistrationMode: model.ModeOpen, Status: model.EventPublished,
		VenueName: "Ministère", VenueAddress: "Lomé", PressContactName: "Afi Amouzou", PressContactEmail: "presse@example.tg"}
	if err := a.SaveEvent(context.Background(), app.Actor{Name: "test"}, ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// campContact adds a contact named after key (key@example.tg).
func campContact(t testing.TB, a *app.App, key, lang string, edit ...func(*model.Contact)) *model.Contact {
	t.Helper()
	c := &model.Contact{Email: key + "@example.tg", FirstName: key, LastName: "Test", Lang: lang, UnsubscribeToken: app.NewToken()}
	for _, f := range edit {
		f(c)
	}
	if err := a.Store.CreateContact(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// campRegister writes a registration in a status directly (confirmed at at); checked
// in at at when admitted.
func campRegister(t testing.TB, a *app.App, ev *model.Event, c *model.Contact, st model.RegistrationStatus, admitted bool, at time.Time) *model.Registration {
	t.Helper()
	tok := app.NewToken()
	r := &model.Registration{EventID: ev.ID, ContactID: c.ID, Status: st, Source: model.SourceOnline, Lang: c.Lang,
		Answers: "{}", TicketCode: app.NewToken(), Reference: strings.ToUpper(tok[:8]), ManageToken: app.NewToken()}
	if st == model.RegConfirmed {
		r.ConfirmedAt = &at
	}
	if admitted {
		r.CheckedInAt, r.CheckedInBy = &at, "Entrée principale"
	}
	if err := a.Store.CreateRegistration(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func campInvite(t testing.TB, a *app.App, ev *model.Event, c *model.Contact, status string, at time.Time) {
	t.Helper()
	inv := &model.Invitation{EventID: ev.ID, ContactID: c.ID, Token: app.NewToken(), Status: status, SentAt: &at}
	if status == store.InvitationAccepted || status == store.InvitationDeclined {
		inv.RespondedAt = &at
	}
	if err := a.Store.CreateInvitation(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
}

// campEmails returns the sorted addresses of a segment's recipients.
func campEmails(t *testing.T, a *app.App, ev *model.Event, seg model.Segment) []string {
	t.Helper()
	rs, err := a.Store.SegmentRecipients(context.Background(), ev.ID, seg, store.RecipientFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, r := range rs {
		out = append(out, strings.TrimSuffix(r.Email, "@example.tg"))
	}
	sort.Strings(out)
	return out
}

// TestCampaignSegmentsSelectExactlyTheRightPeople builds an event with registrations in
// every status, admissions, invitations in every state, an unsubscribed and an erased
// contact, and a second event sharing contacts.
func TestCampaignSegmentsSelectExactlyTheRightPeople(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			ev := campEvent(t, a, clk.Now().Add(-48*time.Hour))
			other := campEvent(t, a, clk.Now().Add(10*24*time.Hour))
			at := ev.StartsAt
			unsub := func(c *model.Contact) { now := at; c.UnsubscribedAt = &now }
			erased := func(c *model.Contact) { now := at; c.ErasedAt, c.UnsubscribedAt = &now, &now }
			c := map[string]*model.Contact{}
			for _, k := range []string{"came1", "came2", "noshow", "waiting", "pending", "cancelled", "rejected",
				"invpending", "invsent", "invdeclined", "invaccepted", "invrevoked", "invregistered", "declinedthenreg"} {
				c[k] = campContact(t, a, k, "fr")
			}
			c["unsub"] = campContact(t, a, "unsub", "fr", unsub)
			c["unsubinv"] = campContact(t, a, "unsubinv", "fr", unsub)
			c["erased"] = campContact(t, a, "erased", "fr", erased)
			campRegister(t, a, ev, c["came1"], model.RegConfirmed, true, at)
			campRegister(t, a, ev, c["came2"], model.RegConfirmed, true, at)
			campRegister(t, a, ev, c["noshow"], model.RegConfirmed, false, at)
			campRegister(t, a, ev, c["waiting"], model.RegWaitlisted, false, at)
			campRegister(t, a, ev, c["pending"], model.RegPending, false, at)
			campRegister(t, a, ev, c["cancelled"], model.RegCancelled, false, at)
			campRegister(t, a, ev, c["rejected"], model.RegRejected, false, at)
			campRegister(t, a, ev, c["unsub"], model.RegConfirmed, true, at)
			campRegister(t, a, ev, c["erased"], model.RegConfirmed, false, at)
			campInvite(t, a, ev, c["invpending"], store.InvitationPending, at)
			campInvite(t, a, ev, c["invsent"], store.InvitationSent, at)
			campInvite(t, a, ev, c["invdeclined"], store.InvitationDeclined, at)
			campInvite(t, a, ev, c["invaccepted"], store.InvitationAccepted, at)
			campRegister(t, a, ev, c["invaccepted"], model.RegConfirmed, true, at)
			campInvite(t, a, ev, c["invrevoked"], store.InvitationRevoked, at)
			campInvite(t, a, ev, c["invregistered"], store.InvitationSent, at) // registered through the public form
			campRegister(t, a, ev, c["invregistered"], model.RegConfirmed, false, at)
			campInvite(t, a, ev, c["declinedthenreg"], store.InvitationDeclined, at)
			campRegister(t, a, ev, c["declinedthenreg"], model.RegWaitlisted, false, at)
			campInvite(t, a, ev, c["unsubinv"], store.InvitationSent, at)
			// The other event: none of this counts for ev.
			campRegister(t, a, other, c["waiting"], model.RegConfirmed, true, at)
			campRegister(t, a, other, c["cancelled"], model.RegConfirmed, false, at)
			campInvite(t, a, other, c["came1"], store.InvitationSent, at)
			campInvite(t, a, other, c["noshow"], store.InvitationDeclined, at)

			want := map[model.Segment][]string{
				model.SegAttended:       {"came1", "came2", "invaccepted"},
				model.SegNoShow:         {"invregistered", "noshow"},
				model.SegRegistered:     {"came1", "came2", "invaccepted", "invregistered", "noshow"},
				model.SegWaitlisted:     {"declinedthenreg", "waiting"},
				model.SegInvitedNoReply: {"invpending", "invsent"},
				model.SegDeclined:       {"invdeclined"},
			}
			counts, err := a.Store.CountSegments(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, seg := range model.Segments {
				got := campEmails(t, a, ev, seg)
				if !slices.Equal(got, want[seg]) {
					t.Errorf("%s: %v, want %v", seg, got, want[seg])
				}
				if counts[seg] != int64(len(want[seg])) {
					t.Errorf("%s: counted %d, want %d", seg, counts[seg], len(want[seg]))
				}
			}
			// The recipients carry what the placeholders need.
			rs, _ := a.Store.SegmentRecipients(ctx, ev.ID, model.SegInvitedNoReply, store.RecipientFilter{})
			if rs[0].InvitationToken == nil || rs[0].ManageToken != nil {
				t.Errorf("an invitee's recipient: %+v", rs[0])
			}
			rs, _ = a.Store.SegmentRecipients(ctx, ev.ID, model.SegAttended, store.RecipientFilter{})
			if rs[0].ManageToken == nil || rs[0].RegistrationID == nil {
				t.Errorf("an attendee's recipient: %+v", rs[0])
			}
		})
	}
}

// campMailer delivers the outbox to an in-process SMTP server.
type campMailer struct {
	srv *mailtest.Server
	s   mail.Sender
}

func campStartMailer(t testing.TB) *campMailer {
	t.Helper()
	srv := mailtest.Start(t)
	s, err := mail.NewSender(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &campMailer{srv: srv, s: s}
}

// worker is a fresh outbox worker (a new process) on st.
func (m *campMailer) worker(st *store.Store, batch int) *mail.Worker {
	return mail.NewWorker(st, m.s, mail.WorkerOptions{Batch: batch, Backoff: func(int) time.Duration { return 0 }})
}

// drain runs a worker until nothing is due and returns how many it sent.
func (m *campMailer) drain(t testing.TB, w *mail.Worker) int {
	t.Helper()
	total := 0
	for {
		n, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// perRecipient counts the messages the server received for each address.
func (m *campMailer) perRecipient() map[string]int {
	out := map[string]int{}
	for _, r := range m.srv.Received() {
		for _, to := range r.To {
			out[to]++
		}
	}
	return out
}

// TestCampaignInterruptedSendsEachMessageOnce: the queuing stops after its first batch
// (the process shuts down), a second click changes nothing while the first process'
// lease runs, the worker is stopped halfway (one batch claimed and never finished), and
// everything resumes: each attendee gets the follow-up exactly once.
func TestCampaignInterruptedSendsEachMessageOnce(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			ev := campEvent(t, a, clk.Now().Add(-24*time.Hour))
			const attendees = 540 // more than one batch of queuing (500)
			campAttendees(t, a, ev, attendees)
			noshow := campContact(t, a, "absent", "fr")
			campRegister(t, a, ev, noshow, model.RegConfirmed, false, ev.StartsAt)
			org := app.Actor{Name: "Afi"}
			camp, err := a.CreateCampaign(ctx, org, ev.ID, app.CampaignInput{Segment: model.SegAttended,
				Subject: "Merci {first_name} !", Body: "Bonjour {first_name},\n\nMerci d’être venu·e à **{event_title}**. Vos publications : {coverage_url}"})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.ScheduleCampaign(ctx, org, camp.ID, clk.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			// Not yet due: the scheduler leaves it.
			if err := a.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if p := campProgress(t, a, camp.ID); p.Status != model.CampaignScheduled || p.Queued != 0 {
				t.Fatalf("before its time: %+v", p)
			}
			// Its time comes; the instance is stopped after the first batch is committed.
			clk.Add(time.Hour)
			tickCtx, stop := context.WithCancel(ctx)
			a.Kick = stop
			if err := a.Tick(tickCtx); err != nil {
				t.Fatal(err)
			}
			a.Kick = nil
			p := campProgress(t, a, camp.ID)
			if p.Status != model.CampaignSending || p.Recipients != 500 {
				t.Fatalf("after the interrupted tick: %+v", p)
			}
			// The worker sends part of it, then a worker claims a batch and dies with it.
			m := campStartMailer(t)
			if n, err := m.worker(a.Store, 200).RunOnce(ctx); err != nil || n != 200 {
				t.Fatalf("first worker: %d %v", n, err)
			}
			if claimed, err := a.Store.ClaimMessages(ctx, 100, 5*time.Minute); err != nil || len(claimed) != 100 {
				t.Fatalf("dying worker: %d %v", len(claimed), err)
			}
			// A second click while the first instance's lease runs: nothing new.
			if p, err := a.SendCampaign(ctx, org, camp.ID); err != nil || p.Recipients != 500 || p.Status != model.CampaignSending {
				t.Fatalf("second click during the lease: %+v %v", p, err)
			}
			// The lease runs out: the next click resumes where the first stopped.
			clk.Add(3 * time.Minute)
			p, err = a.SendCampaign(ctx, org, camp.ID)
			if err != nil || p.Status != model.CampaignSent || p.Recipients != attendees {
				t.Fatalf("resumed: %+v %v", p, err)
			}
			// Clicking again, or the scheduler coming by, adds nothing.
			if p, err := a.SendCampaign(ctx, org, camp.ID); err != nil || p.Recipients != attendees {
				t.Fatalf("third click: %+v %v", p, err)
			}
			if err := a.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			// A new worker process: the dead worker's batch comes back once its lease ends.
			w := m.worker(a.Store, 150)
			m.drain(t, w)
			clk.Add(6 * time.Minute)
			m.drain(t, w)
			got := m.perRecipient()
			if len(got) != attendees {
				t.Fatalf("%d recipients reached, want %d", len(got), attendees)
			}
			for addr, n := range got {
				if n != 1 {
					t.Errorf("%s got %d messages", addr, n)
				}
			}
			if got["absent@example.tg"] != 0 {
				t.Error("a no-show got the attendees' follow-up")
			}
			p = campProgress(t, a, camp.ID)
			if p.Sent != attendees || p.Queued != 0 || p.Failed != 0 || !p.Done() || p.Percent() != 100 {
				t.Fatalf("final progress: %+v", p)
			}
			// One message, read as the blogger reads it.
			mm := rmParse(t, m.srv.Messages()[0])
			if !strings.HasPrefix(mm.Subject, "Merci b") || !strings.Contains(mm.HTML, "<strong>Les blogueurs et la fibre</strong>") ||
				!strings.Contains(mm.Text, "#couverture") || !strings.Contains(mm.HTML, "https://relais.example.tg/u/") {
				t.Errorf("message: %q\n%s\n%s", mm.Subject, mm.Text, mm.HTML)
			}
			if !strings.Contains(string(mm.Raw), "List-Unsubscribe: <https://relais.example.tg/u/") ||
				!strings.Contains(string(mm.Raw), "List-Unsubscribe-Post: List-Unsubscribe=One-Click") {
				t.Errorf("no unsubscribe headers:\n%s", mm.Raw[:min(len(mm.Raw), 2000)])
			}
		})
	}
}

// campAttendees registers n admitted attendees b000, b001…, half in French, half in
// English, in one transaction (fast on PostgreSQL).
func campAttendees(t testing.TB, a *app.App, ev *model.Event, n int) {
	t.Helper()
	ctx := context.Background()
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		for i := range n {
			c := &model.Contact{Email: fmt.Sprintf("b%03d@example.tg", i), FirstName: fmt.Sprintf("b%03d", i), LastName: "Test",
				Lang: []string{"fr", "en"}[i%2], UnsubscribeToken: app.NewToken()}
			if err := tx.CreateContact(ctx, c); err != nil {
				return err
			}
			at := ev.StartsAt
			r := &model.Registration{EventID: ev.ID, ContactID: c.ID, Status: model.RegConfirmed, Source: model.SourceOnline,
				Lang: c.Lang, Answers: "{}", TicketCode: app.NewToken(), Reference: fmt.Sprintf("R%05d", i),
				ManageToken: app.NewToken(), ConfirmedAt: &at, CheckedInAt: &at}
			if err := tx.CreateRegistration(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func campProgress(t *testing.T, a *app.App, id int64) *app.CampaignProgress {
	t.Helper()
	c, err := a.Store.FindCampaign(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.CampaignProgress(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCampaignSkipsUnsubscribedAndAttachesThePressKit: an unsubscribed contact gets
// nothing; the press kit is attached; a test goes to the organizer only, marked, not
// counted; an unknown placeholder is refused before anything is queued.
func TestCampaignSkipsUnsubscribedAndAttachesThePressKit(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			ev := campEvent(t, a, clk.Now().Add(-24*time.Hour))
			org := &model.User{ID: 1, Name: "Afi", Email: "afi@ministere.example.tg"}
			actor := app.Actor{Name: "Afi"}
			ama := campContact(t, a, "ama", "en")
			campRegister(t, a, ev, ama, model.RegConfirmed, false, ev.StartsAt)
			gone := campContact(t, a, "gone", "fr", func(c *model.Contact) { now := ev.StartsAt; c.UnsubscribedAt = &now })
			campRegister(t, a, ev, gone, model.RegConfirmed, false, ev.StartsAt)
			pdf := append([]byte("%PDF-1.4\n"), make([]byte, 2048)...)
			if _, err := a.AddDocument(ctx, actor, ev.ID, "dossier-presse.pdf", pdf, 10<<20); err != nil {
				t.Fatal(err)
			}
			_, err := a.CreateCampaign(ctx, actor, ev.ID, app.CampaignInput{Segment: model.SegNoShow,
				Subject: "Vous nous avez manqué, {prenom}", Body: "Bonjour {prénom}, {first_name}"})
			if me, ok := err.(*model.Error); !ok || me.Code != model.EInvalid || me.Args["Names"] != "{prenom}, {prénom}" ||
				me.Fields["subject"] == "" || me.Fields["body"] == "" {
				t.Fatalf("unknown placeholders: %#v", err)
			}
			camp, err := a.CreateCampaign(ctx, actor, ev.ID, app.CampaignInput{Segment: model.SegNoShow,
				Subject: "Vous nous avez manqué, {first_name}", Body: "Voici le dossier de presse de {event_title}.",
				AttachPressKit: true})
			if err != nil {
				t.Fatal(err)
			}
			preview, err := a.PreviewCampaign(ctx, camp, 0)
			if err != nil || preview.Recipient == nil || preview.Recipient.ContactID != ama.ID || preview.Subject != "Vous nous avez manqué, ama" ||
				!strings.Contains(preview.HTML, `<html lang="en">`) || !strings.Contains(preview.HTML, "dossier-presse.pdf") {
				t.Fatalf("preview: %+v %v", preview, err)
			}
			if _, err := a.PreviewCampaign(ctx, camp, gone.ID); model.ErrorCode(err) != model.ENotFound {
				t.Fatalf("preview for someone outside the segment: %v", err)
			}
			if err := a.SendCampaignTest(ctx, actor, camp, org, 0); err != nil {
				t.Fatal(err)
			}
			p, err := a.SendCampaign(ctx, actor, camp.ID)
			if err != nil || p.Recipients != 1 {
				t.Fatalf("send: %+v %v", p, err)
			}
			m := campStartMailer(t)
			m.drain(t, m.worker(a.Store, 50))
			got := m.perRecipient()
			if got["ama@example.tg"] != 1 || got["gone@example.tg"] != 0 || got["afi@ministere.example.tg"] != 1 || len(got) != 2 {
				t.Fatalf("received: %v", got)
			}
			for _, raw := range m.srv.Messages() {
				mm := rmParse(t, raw)
				pdfs := mm.file("application/pdf")
				if len(pdfs) != 1 || pdfs[0].Filename != "dossier-presse.pdf" || len(pdfs[0].Body) != len(pdf) {
					t.Errorf("%s: press kit %+v", mm.To, len(pdfs))
				}
				isTest := mm.To[0] == "afi@ministere.example.tg"
				if isTest != strings.HasPrefix(mm.Subject, "[TEST] ") {
					t.Errorf("%s: subject %q", mm.To, mm.Subject)
				}
				if isTest && (strings.Contains(mm.HTML, "/u/") || strings.Contains(string(mm.Raw), "List-Unsubscribe")) {
					t.Error("the test carries the recipient's unsubscribe link")
				}
			}
			if p := campProgress(t, a, camp.ID); p.Sent != 1 || p.Recipients != 1 {
				t.Fatalf("the test was counted: %+v", p)
			}
			// Sent: no more changes.
			if _, err := a.UpdateCampaign(ctx, actor, camp.ID, app.CampaignInput{Segment: model.SegNoShow, Subject: "x", Body: "y"}); model.ErrorCode(err) != model.EConflict {
				t.Fatalf("edit after sending: %v", err)
			}
		})
	}
}

// campReminders lists the reminders queued, as "address offset" lines, sorted.
func campReminders(t *testing.T, a *app.App) []string {
	t.Helper()
	msgs, _, err := a.Store.ListMessages(context.Background(), store.MessageFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Kind == "event_reminder" {
			parts := strings.Split(m.IdempotencyKey, ":")
			out = append(out, strings.TrimSuffix(m.ToEmail, "@example.tg")+" "+parts[3]+" "+m.Lang)
		}
	}
	sort.Strings(out)
	return out
}

// TestRemindersFireOnceAtTheRightTimes moves the clock across both default reminders
// ("24h" and "morning" at 07:00 in Lomé) and ticks several times, twice at once.
func TestRemindersFireOnceAtTheRightTimes(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			start := time.Date(2026, 12, 10, 10, 0, 0, 0, time.UTC) // 10:00 in Lomé
			ev := campEvent(t, a, start)
			early := clk.Now()
			campRegister(t, a, ev, campContact(t, a, "kafui", "fr"), model.RegConfirmed, false, early)
			campRegister(t, a, ev, campContact(t, a, "edem", "en"), model.RegConfirmed, false, early)
			campRegister(t, a, ev, campContact(t, a, "annule", "fr"), model.RegCancelled, false, early)
			campRegister(t, a, ev, campContact(t, a, "attente", "fr"), model.RegWaitlisted, false, early)
			campRegister(t, a, ev, campContact(t, a, "demande", "fr"), model.RegPending, false, early)
			campRegister(t, a, ev, campContact(t, a, "efface", "fr", func(c *model.Contact) { c.ErasedAt = &early }), model.RegConfirmed, false, early)
			// Another session without reminders.
			quiet := campEvent(t, a, start)
			if err := a.SetReminderOffsets(ctx, app.Actor{Name: "t"}, quiet.ID, ""); err != nil {
				t.Fatal(err)
			}
			campRegister(t, a, quiet, campContact(t, a, "silence", "fr"), model.RegConfirmed, false, early)
			tick := func(n int) {
				t.Helper()
				var wg sync.WaitGroup
				errs := make(chan error, n)
				for range n {
					wg.Go(func() { errs <- a.Tick(ctx) })
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			expect := func(when string, want ...string) {
				t.Helper()
				if got := campReminders(t, a); !slices.Equal(got, want) {
					t.Fatalf("%s: %q, want %q", when, got, want)
				}
			}
			clk.Set(start.Add(-25 * time.Hour))
			tick(1)
			expect("25 hours before")
			clk.Set(start.Add(-24*time.Hour + time.Minute))
			tick(2) // two instances at once
			tick(1)
			expect("the day before", "edem 24h en", "kafui 24h fr")
			// Registered after the first reminder was due: only the morning one.
			clk.Set(start.Add(-20 * time.Hour))
			late := campRegister(t, a, ev, campContact(t, a, "tardif", "fr"), model.RegConfirmed, false, clk.Now())
			tick(1)
			expect("the evening before", "edem 24h en", "kafui 24h fr")
			clk.Set(time.Date(2026, 12, 10, 6, 59, 0, 0, time.UTC))
			tick(1)
			expect("06:59 on the day", "edem 24h en", "kafui 24h fr")
			clk.Set(time.Date(2026, 12, 10, 7, 0, 30, 0, time.UTC))
			tick(2)
			tick(1)
			expect("the morning", "edem 24h en", "edem morning en", "kafui 24h fr", "kafui morning fr", "tardif morning fr")
			// Cancelled meanwhile, or the session under way: nothing more.
			if _, err := a.CancelRegistration(ctx, app.Actor{Name: "t"}, late.ID); err != nil {
				t.Fatal(err)
			}
			clk.Set(start.Add(time.Minute))
			tick(1)
			expect("after the start", "edem 24h en", "edem morning en", "kafui 24h fr", "kafui morning fr", "tardif morning fr")
			// The reminders reach people as the blogger reads them, in their language.
			m := campStartMailer(t)
			m.drain(t, m.worker(a.Store, 50))
			subjects := map[string]string{}
			for _, raw := range m.srv.Messages() {
				mm := rmParse(t, raw)
				if strings.Contains(mm.Subject, "Rappel") || strings.Contains(mm.Subject, "Reminder") {
					subjects[mm.To[0]+" "+mm.Subject] = mm.Text
					if len(mm.file("image/png")) != 1 {
						t.Errorf("%s: no QR code", mm.Subject)
					}
				}
			}
			for _, want := range []string{"kafui@example.tg Rappel : c’est demain – Les blogueurs et la fibre",
				"edem@example.tg Reminder: it’s tomorrow – Les blogueurs et la fibre",
				"edem@example.tg Reminder: it’s today – Les blogueurs et la fibre"} {
				if _, ok := subjects[strings.ReplaceAll(want, " :", "\u00a0:")]; !ok {
					t.Errorf("missing %q in %q", want, slices.Sorted(maps.Keys(subjects)))
				}
			}
		})
	}
}

// TestCancellationAndChangeNotices: cancelling tells everyone confirmed, waitlisted or
// pending once; a cancellation left unannounced by a crash is announced by the
// scheduler; a change of date notifies on request only, once per new date.
func TestCancellationAndChangeNotices(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			actor := app.Actor{Name: "Afi"}
			ev := campEvent(t, a, clk.Now().Add(10*24*time.Hour))
			now := clk.Now()
			for k, st := range map[string]model.RegistrationStatus{"conf": model.RegConfirmed, "wait": model.RegWaitlisted,
				"pend": model.RegPending, "canc": model.RegCancelled, "rej": model.RegRejected} {
				campRegister(t, a, ev, campContact(t, a, k, "fr"), st, false, now)
			}
			notices := func(kind string) []string {
				t.Helper()
				msgs, _, err := a.Store.ListMessages(ctx, store.MessageFilter{Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, m := range msgs {
					if m.Kind == kind {
						out = append(out, strings.TrimSuffix(m.ToEmail, "@example.tg"))
					}
				}
				sort.Strings(out)
				return out
			}
			// A change of date, asked for: confirmed and waitlisted; the same save again: nothing.
			moved := *ev
			moved.StartsAt, moved.EndsAt = ev.StartsAt.Add(24*time.Hour), ev.EndsAt.Add(24*time.Hour)
			if n, err := a.SaveEventAndNotify(ctx, actor, &moved, true); err != nil || n != 2 {
				t.Fatalf("change notice: %d %v", n, err)
			}
			again := moved
			if n, err := a.SaveEventAndNotify(ctx, actor, &again, true); err != nil || n != 0 {
				t.Fatalf("same again: %d %v", n, err)
			}
			venue := moved
			venue.VenueName = "Maison des médias"
			if n, err := a.SaveEventAndNotify(ctx, actor, &venue, false); err != nil || n != 0 {
				t.Fatalf("not asked: %d %v", n, err)
			}
			if got := notices("event_changed"); !slices.Equal(got, []string{"conf", "wait"}) {
				t.Fatalf("change notices: %v", got)
			}
			// Cancelled: confirmed, waitlisted and pending, once.
			if _, err := a.SetEventStatus(ctx, actor, ev.ID, model.EventCancelled); err != nil {
				t.Fatal(err)
			}
			if err := a.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if got := notices("event_cancelled"); !slices.Equal(got, []string{"conf", "pend", "wait"}) {
				t.Fatalf("cancellation notices: %v", got)
			}
			// Another session cancelled by a process that died before the notices: the
			// scheduler sends them, once.
			ev2 := campEvent(t, a, clk.Now().Add(5*24*time.Hour))
			campRegister(t, a, ev2, campContact(t, a, "autre", "en"), model.RegConfirmed, false, now)
			ev2.Status = model.EventCancelled
			if err := a.Store.UpdateEvent(ctx, ev2); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := a.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := notices("event_cancelled"); !slices.Equal(got, []string{"autre", "conf", "pend", "wait"}) {
				t.Fatalf("after the scheduler: %v", got)
			}
			m := campStartMailer(t)
			m.drain(t, m.worker(a.Store, 50))
			for _, raw := range m.srv.Messages() {
				mm := rmParse(t, raw)
				switch {
				case mm.To[0] == "autre@example.tg":
					if !strings.HasPrefix(mm.Subject, "Session cancelled") {
						t.Errorf("english cancellation: %q", mm.Subject)
					}
				case strings.HasPrefix(mm.Subject, "Changement"):
					if !strings.Contains(mm.Text, "Au lieu de") || (mm.To[0] == "conf@example.tg") != (len(mm.file("text/calendar")) == 1) {
						t.Errorf("change notice to %s: %s", mm.To, mm.Text)
					}
				}
			}
		})
	}
}

func TestReminderOffsetsParse(t *testing.T) {
	for in, want := range map[string]string{
		"24h,morning": "24h,morning", " matin ; 1d ": "24h,morning", "2h, 3d, 90m": "72h,2h,90m",
		"": "", "none": "", "24h,24h,1d": "24h", "morning,72h": "72h,morning",
	} {
		offs, err := app.ParseReminderOffsets(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := app.FormatReminderOffsets(offs); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"demain", "5m", "40d", "-2h", "1h,2h,3h,4h,5h,6h"} {
		if _, err := app.ParseReminderOffsets(bad); model.ErrorCode(err) != model.EInvalid {
			t.Errorf("%q accepted", bad)
		}
	}
	lome := &model.Event{StartsAt: time.Date(2026, 12, 10, 6, 30, 0, 0, time.UTC), Timezone: "Africa/Lome"}
	offs, _ := app.ParseReminderOffsets("morning")
	if _, ok := offs[0].DueAt(lome); ok {
		t.Error("a session at 06:30 has a morning reminder at 07:00")
	}
	paris := &model.Event{StartsAt: time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC), Timezone: "Europe/Paris"}
	if at, ok := offs[0].DueAt(paris); !ok || !at.Equal(time.Date(2026, 6, 10, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("07:00 in Paris in summer: %v", at)
	}
}

// TestDemoHasAdmissionsAndASentFollowUp: the 2017 session of the demo has 24 attendees
// and a follow-up queued to each of them, once however often the demo is loaded.
func TestDemoHasAdmissionsAndASentFollowUp(t *testing.T) {
	a, _ := campApp(t, "sqlite")
	ctx := context.Background()
	for range 2 {
		if _, err := a.LoadDemo(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := a.Store.FindEventBySlug(ctx, "blogosphere-reseau-e-gouvernement-2017")
	if err != nil {
		t.Fatal(err)
	}
	counts, err := a.Store.CountSegments(ctx, ev.ID)
	if err != nil || counts[model.SegAttended] != 24 || counts[model.SegNoShow] != 6 {
		t.Fatalf("segments: %v %v", counts, err)
	}
	camps, err := a.Store.ListCampaigns(ctx, ev.ID)
	if err != nil || len(camps) != 1 {
		t.Fatalf("campaigns: %d %v", len(camps), err)
	}
	p := campProgress(t, a, camps[0].ID)
	if p.Status != model.CampaignSent || p.Recipients != 24 {
		t.Fatalf("follow-up: %+v", p)
	}
	msgs, _, err := a.Store.ListMessages(ctx, store.MessageFilter{EventID: &ev.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.CampaignID != nil {
			full, _ := a.Store.FindMessage(ctx, m.ID)
			if !strings.Contains(full.HTMLBody, "#couverture\">signaler mes publications</a>") || !strings.HasPrefix(m.Subject, "Merci pour votre participation, ") {
				t.Fatalf("follow-up message %q:\n%s", m.Subject, full.HTMLBody)
			}
			break
		}
	}
}
