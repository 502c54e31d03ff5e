package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"relais/internal/model"
	"relais/internal/ticket"
)

// regFastCase is the email of kind for a made-up registration of c at ev.
func regFastCase(a *App, ev *model.Event, c *model.Contact, kind, lang, token string) (Email, *model.Registration) {
	r := &model.Registration{ID: c.ID, EventID: ev.ID, ContactID: c.ID, TicketCode: ticket.NewCode(), Reference: newReference(),
		ManageToken: token, Lang: lang, Status: model.RegConfirmed, Source: model.SourceOnline, RejectReason: "Complet, désolé & <merci>"}
	return a.registrationEmail(kind, ev, c, r, fmt.Sprintf("reg:%d:%s", c.ID, kind)), r
}

// Every registration email written from markers is the one the templates render, for
// names of every kind, both languages and every kind of email; plain names are written
// from markers, the others rendered.
func TestRegistrationEmailsFromMarkersAreTheRenderedOnes(t *testing.T) {
	a, ev := campFastApp(t)
	ctx := context.Background()
	var fast, slow int
	stored := map[int64]bool{}
	for i, r := range campFastRecipients() {
		c := &model.Contact{ID: r.ContactID, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName}
		for _, kind := range []string{"confirmed", "waitlisted", "pending", "promoted", "cancelled", "already_registered", "rejected"} {
			lang := []string{"fr", "en"}[i%2]
			token := r.UnsubscribeToken // tokens with '_' and '-' in every place
			em, reg := regFastCase(a, ev, c, kind, lang, token)
			got, err := a.registrationMessage(ctx, em, kind, ev, c, reg)
			if err != nil {
				t.Fatal(err)
			}
			want, err := a.buildMessage(ctx, em)
			if err != nil {
				t.Fatal(err)
			}
			if !campFastSame(got, want) {
				html, text, _ := got.Bodies()
				t.Fatalf("%s email for %q %q (%s) differs from the rendered one:\nsubject %q / %q\nto %q / %q\n--- html\n%s\n--- want\n%s\n--- text\n%s\n--- want\n%s",
					kind, c.FirstName, c.LastName, lang, got.Subject, want.Subject, got.ToName, want.ToName, html, want.HTMLBody, text, want.TextBody)
			}
			if len(got.Attachments) != len(em.Attachments) {
				t.Fatalf("%s email: %d attachments, want %d", kind, len(got.Attachments), len(em.Attachments))
			}
			if got.BodyTemplate != nil {
				fast++
				stored[got.BodyTemplate.ID] = true
			} else {
				slow++
			}
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
		m, err := a.registrationMessage(ctx, em, "confirmed", ev, c, reg)
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
	if m, err := a.registrationMessage(ctx, em, "confirmed", ev, c, reg); err != nil || m.BodyTemplate == nil {
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
	m, err := a.registrationMessage(ctx, em, "confirmed", ev, c, reg)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := a.buildMessage(ctx, em)
	if m.BodyTemplate != nil || !campFastSame(m, want) {
		t.Fatal("the altered rendering was used")
	}
	em, reg = regFastCase(a, ev, c, "confirmed", "fr", NewToken())
	if m, _ := a.registrationMessage(ctx, em, "confirmed", ev, c, reg); m.BodyTemplate != nil {
		t.Error("the email is still written from markers after a difference")
	}
}
