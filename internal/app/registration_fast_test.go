package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/ticket"
)

// regFastCase is the email of kind for a made-up registration of c at ev.
func regFastCase(a *App, ev *model.Event, c *model.Contact, kind, lang, token string) (Email, *model.Registration) {
	r := &model.Registration{ID: c.ID, EventID: ev.ID, ContactID: c.ID, TicketCode: ticket.NewCode(), Reference: newReference(),
		ManageToken: token, Lang: lang, Status: model.RegConfirmed, Source: model.SourceOnline}
	if kind == "rejected" {
		r.RejectReason = "Complet, désolé & <merci>"
	}
	return a.registrationEmail(kind, ev, c, r, fmt.Sprintf("reg:%d:%s", c.ID, kind)), r
}

// regFastCheck writes the email of kind for c at ev through registrationMessage and
// fails unless it is the ordinary rendering; it returns the email and the message.
func regFastCheck(t *testing.T, a *App, ev *model.Event, c *model.Contact, kind, lang, token string) (Email, *model.Message) {
	t.Helper()
	ctx := context.Background()
	em, reg := regFastCase(a, ev, c, kind, lang, token)
	got, err := a.registrationMessage(ctx, kind, ev, c, reg, em.Key)
	if err != nil {
		t.Fatal(err)
	}
	want, err := a.buildMessage(ctx, em)
	if err != nil {
		t.Fatal(err)
	}
	if !campFastSame(got, want) {
		html, text, _ := got.Bodies()
		t.Fatalf("%s email (%s) for %q %q at %q differs from the rendered one:\nsubject %q / %q\nto %q / %q\n--- html\n%s\n--- want\n%s\n--- text\n%s\n--- want\n%s",
			kind, lang, c.FirstName, c.LastName, ev.Title, got.Subject, want.Subject, got.ToName, want.ToName, html, want.HTMLBody, text, want.TextBody)
	}
	return em, got
}

// Every registration email written from markers is the one the templates render, for
// names of every kind, both languages and every kind of email; plain names are written
// from markers, the others rendered.
func TestRegistrationEmailsFromMarkersAreTheRenderedOnes(t *testing.T) {
	a, ev := campFastApp(t)
	var fast, slow int
	stored := map[int64]bool{}
	tokens := []string{"AbCdEf012345-xyz", "Ab_cd-9", "plain09", "x_Y_z", "_Ab", "Ab_", "a-_b", "ab-", "-ab", NewToken()}
	for i, r := range campFastRecipients() {
		c := &model.Contact{ID: r.ContactID, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName}
		for j, kind := range []string{"confirmed", "waitlisted", "pending", "promoted", "cancelled", "already_registered", "rejected"} {
			lang := []string{"fr", "en"}[i%2]
			token := tokens[(i+j)%len(tokens)] // '_' and '-' in every place
			em, got := regFastCheck(t, a, ev, c, kind, lang, token)
			if len(got.Attachments) != len(em.Attachments) {
				t.Fatalf("%s email: %d attachments, want %d", kind, len(got.Attachments), len(em.Attachments))
			}
			if got.BodyTemplate != nil {
				fast++
				stored[got.BodyTemplate.ID] = true
			} else {
				slow++
			}
			// A rejection carries its free-text reason (regFastCase): rendered the ordinary way.
			plain := campFastNameOK(c.FirstName, true) && campFastNameOK(c.LastName, true)
			if wantFast := plain && kind != "rejected"; wantFast != (got.BodyTemplate != nil) {
				t.Errorf("%s email for %q %q: written from markers %v, want %v", kind, c.FirstName, c.LastName, !wantFast, wantFast)
			}
		}
	}
	t.Logf("%d written from markers, %d rendered", fast, slow)
	// One stored rendering per email (kind, language), not one per message.
	if n := len(stored); n != 12 { // 6 kinds (a rejection is always rendered) in 2 languages
		t.Errorf("%d body templates stored, want 12", n)
	}
}

// A change to the event or to the settings makes a new rendering: the next email
// carries the new title, press contact and sender.
func TestRegistrationEmailFromMarkersFollowsChanges(t *testing.T) {
	a, ev := campFastApp(t)
	ctx := context.Background()
	c := &model.Contact{ID: 1, Email: "ama@example.tg", FirstName: "Ama", LastName: "Mensah"}
	write := func() *model.Message {
		t.Helper()
		em, reg := regFastCase(a, ev, c, "confirmed", "fr", NewToken())
		m, err := a.registrationMessage(ctx, "confirmed", ev, c, reg, em.Key)
		if err != nil {
			t.Fatal(err)
		}
		if m.BodyTemplate == nil {
			t.Fatal("not written from markers")
		}
		return m
	}
	write()
	ev.Title, ev.PressContactName = "Fibre : la séance est reportée", "Kossi Agbeko"
	if err := a.SaveEvent(ctx, Actor{Name: "test"}, ev); err != nil {
		t.Fatal(err)
	}
	html, text, err := write().Bodies()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"la séance est reportée", "Kossi Agbeko"} {
		if !strings.Contains(html, want) || !strings.Contains(text, want) {
			t.Errorf("after the change, the email lacks %q:\n%s", want, text)
		}
	}
	st, err := a.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.SenderName = "Ministère de l'Économie numérique"
	if err := a.SaveSettings(ctx, Actor{Name: "test"}, st); err != nil {
		t.Fatal(err)
	}
	if m := write(); m.FromName != st.SenderName {
		t.Errorf("sender %q after the settings changed, want %q", m.FromName, st.SenderName)
	}
}

// A rendering that went wrong is caught by the comparison with the ordinary one: that
// message is the rendered one, and so are the next ones.
func TestRegistrationEmailFromMarkersCheckedAgainstRendering(t *testing.T) {
	a, ev := campFastApp(t)
	ctx := context.Background()
	c := &model.Contact{ID: 1, Email: "ama@example.tg", FirstName: "Ama", LastName: "Mensah"}
	em, reg := regFastCase(a, ev, c, "confirmed", "fr", NewToken())
	if m, err := a.registrationMessage(ctx, "confirmed", ev, c, reg, em.Key); err != nil || m.BodyTemplate == nil {
		t.Fatalf("first message not written from markers (err %v)", err)
	}
	id := regFastID{event: ev.ID, lang: "fr", kind: "confirmed", qr: true}
	e := a.regFast.m[id]
	if e == nil || e.t == nil {
		t.Fatal("no rendering kept")
	}
	e.t.body.HTMLBody = "<!-- altered -->" + e.t.body.HTMLBody // as if the rendering had gone wrong
	e.uses = campFastCheckEvery                                // the next one is compared
	em, reg = regFastCase(a, ev, c, "confirmed", "fr", NewToken())
	m, err := a.registrationMessage(ctx, "confirmed", ev, c, reg, em.Key)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := a.buildMessage(ctx, em)
	if m.BodyTemplate != nil || !campFastSame(m, want) {
		t.Fatal("the altered rendering was used")
	}
	em, reg = regFastCase(a, ev, c, "confirmed", "fr", NewToken())
	if m, _ := a.registrationMessage(ctx, "confirmed", ev, c, reg, em.Key); m.BodyTemplate != nil {
		t.Error("the email is still written from markers after a difference")
	}
}

// Through RegisterFor and the outbox: people registering one after the other, all but the
// first written from the rendering kept (the first is compared with the ordinary one),
// each get their own name, reference and ticket link, read back from the database.
func TestRegistrationsQueueTheirOwnEmails(t *testing.T) {
	a, ev := campFastApp(t)
	ctx := context.Background()
	a.Now = func() time.Time { return ev.StartsAt.Add(-24 * time.Hour) }
	names := [][2]string{{"Ama", "Mensah"}, {"Kofi", "Agbeko"}, {"Jean-Pierre", "O'Brien"}, {"Zoë", "d’Almeida"}, {"Afi", "Tsogbe"}}
	for i, n := range names {
		res, err := a.RegisterFor(ctx, ev, nil, RegistrationInput{ContactInput: ContactInput{FirstName: n[0], LastName: n[1],
			Email: fmt.Sprintf("p%d@example.tg", i)}, Consent: true, Lang: "fr"})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Registration
		msgs, _, err := a.Store.ListMessages(ctx, store.MessageFilter{EventID: &ev.ID, Query: fmt.Sprintf("p%d@example.tg", i)})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("messages of %s: %d (%v)", n[0], len(msgs), err)
		}
		m, err := a.Store.FindMessage(ctx, msgs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.Store.FindContact(ctx, r.ContactID)
		if err != nil {
			t.Fatal(err)
		}
		want, err := a.buildMessage(ctx, a.registrationEmail("confirmed", ev, c, r, m.IdempotencyKey))
		if err != nil {
			t.Fatal(err)
		}
		if m.HTMLBody != want.HTMLBody || m.TextBody != want.TextBody || m.Subject != want.Subject || m.ToName != want.ToName {
			t.Fatalf("the email queued for %s is not the one rendered for them:\n%s\n--- want\n%s", n[0], m.TextBody, want.TextBody)
		}
		for _, v := range []string{n[0], ticket.FormatReference(r.Reference), "/t/" + r.ManageToken} {
			if !strings.Contains(m.TextBody, v) {
				t.Errorf("the email queued for %s lacks %q", n[0], v)
			}
		}
		if len(m.Attachments) != 2 {
			t.Errorf("the email queued for %s has %d attachments, want the QR code and the calendar file", n[0], len(m.Attachments))
		}
	}
	id := regFastID{event: ev.ID, lang: "fr", kind: "confirmed", qr: true}
	e := a.regFast.m[id]
	if e == nil || e.t == nil || e.uses != len(names) {
		t.Fatalf("the confirmations were not written from one rendering: %+v", e)
	}
	// After a restart (new markers), the same email finds its bodies stored.
	stored := e.t.body.ID
	a.regFast = regFastCache{}
	if _, err := a.RegisterFor(ctx, ev, nil, RegistrationInput{ContactInput: ContactInput{FirstName: "Yao", LastName: "Dzidzienyo",
		Email: "yao@example.tg"}, Consent: true, Lang: "fr"}); err != nil {
		t.Fatal(err)
	}
	if e := a.regFast.m[id]; e == nil || e.t == nil || e.t.body.ID != stored {
		t.Errorf("after a restart the confirmation's bodies were stored again (template %v, want %d)", e, stored)
	}
}

// FuzzRegistrationFast: whatever the event's title and venue and the person's names and
// token, a registration email written from a rendering kept (not the first, which is
// compared with the ordinary rendering) is the rendered one, or the person gets the
// ordinary rendering.
func FuzzRegistrationFast(f *testing.F) {
	f.Add("Les blogueurs & la <fibre>", "Ministère", "Jean-Pierre", "O'Brien", "Ab_c-9", uint8(0), true)
	f.Add("Qz{first_name} « 2017 »", "Lomé, Togo", "Zoë", "d’Almeida", "_-x", uint8(3), false)
	f.Add("<b>Fibre</b>", "", "Kofi K. Annan", "Test", "plain09", uint8(4), true)
	a, ev := campFastApp(f)
	kinds := []string{"confirmed", "waitlisted", "pending", "promoted", "cancelled", "already_registered"}
	f.Fuzz(func(t *testing.T, title, venue, first, last, token string, kind uint8, fr bool) {
		e := *ev
		e.Title, e.VenueName = title, venue
		k, lang := kinds[int(kind)%len(kinds)], "en"
		if fr {
			lang = "fr"
		}
		for i, c := range []*model.Contact{{ID: 1, Email: "ama@example.tg", FirstName: "Ama", LastName: "Mensah"},
			{ID: 2, Email: "p@example.tg", FirstName: first, LastName: last}} {
			tok := token
			if i == 0 {
				tok = "Ab0"
			}
			regFastCheck(t, a, &e, c, k, lang, tok)
		}
	})
}

// A rendering whose bodies cannot be stored leaves that person's email to the ordinary
// rendering, and the next person's email is written from a rendering made again.
func TestRegistrationEmailFromMarkersFallsBackWhenNotStored(t *testing.T) {
	a, ev := campFastApp(t)
	c := &model.Contact{ID: 1, Email: "ama@example.tg", FirstName: "Ama", LastName: "Mensah"}
	em, reg := regFastCase(a, ev, c, "confirmed", "fr", NewToken())
	if _, err := a.Settings(context.Background()); err != nil { // kept: only the write below fails
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel() // storing the bodies fails
	m, err := a.registrationMessage(cancelled, "confirmed", ev, c, reg, em.Key)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := a.buildMessage(context.Background(), em)
	if m.BodyTemplate != nil || !campFastSame(m, want) {
		t.Fatal("the email is not the ordinary rendering")
	}
	em, reg = regFastCase(a, ev, c, "confirmed", "fr", NewToken())
	if m, err := a.registrationMessage(context.Background(), "confirmed", ev, c, reg, em.Key); err != nil || m.BodyTemplate == nil {
		t.Fatalf("the next email is not written from markers (err %v)", err)
	}
}
