package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/mail"
	"relais/internal/mail/mailtest"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// invContact puts a contact in the directory, as an import or an organizer would.
func invContact(t *testing.T, a *app.App, first, email, lang string, tags ...string) *model.Contact {
	t.Helper()
	c := &model.Contact{FirstName: first, LastName: "Test", Email: email, Lang: lang, UnsubscribeToken: app.NewToken(), Tags: tags}
	if err := a.Store.CreateContact(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// invMessages returns the outbox messages of a kind to an address.
func invMessages(t *testing.T, a *app.App, kind, to string) []model.Message {
	t.Helper()
	msgs, _, err := a.Store.ListMessages(context.Background(), store.MessageFilter{Query: to, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []model.Message
	for _, m := range msgs {
		if m.Kind == kind && m.ToEmail == to && m.Status != model.MessageCancelled {
			out = append(out, m)
		}
	}
	return out
}

// invTextPart reads a raw message and returns its headers and its plain-text part, decoded.
func invTextPart(t *testing.T, raw []byte) (*netmail.Message, string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	var text string
	var walk func(ct, cte string, body io.Reader)
	walk = func(ct, cte string, body io.Reader) {
		mt, params, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					return
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
		if mt == "text/plain" && text == "" {
			if strings.EqualFold(cte, "quoted-printable") {
				body = quotedprintable.NewReader(body)
			}
			b, _ := io.ReadAll(body)
			text = string(b)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return msg, text
}

// TestInviteQueuesOneEmailEachWithUnsubscribeHeaders: inviting a tag writes one
// invitation and one email per invitable contact, in the contact's language, with the
// List-Unsubscribe headers of RFC 2369 and RFC 8058 as delivered over SMTP; unsubscribed
// and erased contacts are skipped, and inviting again is refused.
func TestInviteQueuesOneEmailEachWithUnsubscribeHeaders(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			ctx := context.Background()
			ev := regEvent(t, a, 0, model.ModeOpen)
			ev.PressContactName, ev.PressContactEmail = "Afi Mensah", "presse@example.tg"
			ev.VenueName, ev.Summary = "Ministère, Lomé", "Les services publics en ligne."
			if err := a.SaveEvent(ctx, app.Actor{Name: "test"}, ev); err != nil {
				t.Fatal(err)
			}
			kafui := invContact(t, a, "Kafui", "kafui@example.tg", "fr", "tech")
			john := invContact(t, a, "John", "john@example.org", "en", "tech")
			gone := invContact(t, a, "Ama", "ama@example.tg", "fr", "tech")
			erased := invContact(t, a, "Edem", "edem@example.tg", "fr", "tech")
			now := a.Now()
			if _, err := a.Store.MarkContactUnsubscribed(ctx, gone.ID, now); err != nil {
				t.Fatal(err)
			}
			erased.ErasedAt = &now
			if err := a.Store.UpdateContact(ctx, erased); err != nil {
				t.Fatal(err)
			}
			ids, err := a.Store.TaggedContactIDs(ctx, "TECH")
			if err != nil || len(ids) != 3 { // the erased contact is not listed
				t.Fatalf("tagged %v %v", ids, err)
			}
			rep, err := a.Invite(ctx, app.Actor{Name: "test"}, ev.ID, append(ids, erased.ID, 999999), "Nous comptons sur vous.\nÀ bientôt !")
			if err != nil {
				t.Fatal(err)
			}
			reasons := map[int64]string{}
			for _, s := range rep.Skipped {
				reasons[s.ContactID] = s.Reason
			}
			if len(rep.Created) != 2 || reasons[gone.ID] != app.SkipUnsubscribed || reasons[erased.ID] != app.SkipErased || reasons[999999] != app.SkipNotFound {
				t.Fatalf("report %+v", rep)
			}
			for _, inv := range rep.Created {
				if inv.Status != store.InvitationSent || inv.SentAt == nil || !inv.SkipApproval || len(inv.Token) < 32 {
					t.Fatalf("invitation %+v", inv)
				}
				stored, _ := a.Store.FindInvitation(ctx, inv.ID)
				if stored.Status != store.InvitationSent || stored.SentAt == nil {
					t.Fatalf("stored %+v", stored)
				}
			}
			for _, c := range []*model.Contact{kafui, john} {
				if n := len(invMessages(t, a, "invitation", c.Email)); n != 1 {
					t.Fatalf("%s: %d invitation emails", c.Email, n)
				}
			}
			if n := len(invMessages(t, a, "invitation", gone.Email)) + len(invMessages(t, a, "invitation", erased.Email)); n != 0 {
				t.Fatalf("%d emails to skipped contacts", n)
			}
			// Inviting again: refused for each, nothing queued.
			again, err := a.Invite(ctx, app.Actor{Name: "test"}, ev.ID, []int64{kafui.ID, john.ID}, "")
			if err != nil || len(again.Created) != 0 || !again.AllAlreadyInvited() {
				t.Fatalf("again %+v %v", again, err)
			}
			if n := len(invMessages(t, a, "invitation", kafui.Email)); n != 1 {
				t.Fatalf("after inviting again: %d emails", n)
			}
			// Delivered over SMTP: the headers survive and the links are in the text.
			srv := mailtest.Start(t)
			sender, err := mail.NewSender(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer sender.Close()
			if _, err := mail.NewWorker(a.Store, sender, mail.WorkerOptions{}).RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, r := range srv.Received() {
				msg, text := invTextPart(t, r.Data)
				to := r.To[0]
				c, inv := kafui, rep.Created[0]
				if to == john.Email {
					c = john
				}
				for _, x := range rep.Created {
					if x.ContactID == c.ID {
						inv = x
					}
				}
				got[to] = true
				unsub := a.Config.BaseURL + "/u/" + c.UnsubscribeToken
				if lu := msg.Header.Get("List-Unsubscribe"); !strings.HasPrefix(lu, "<"+unsub+">, <mailto:") || !strings.HasSuffix(lu, "?subject=unsubscribe>") {
					t.Errorf("%s List-Unsubscribe %q", to, lu)
				}
				if lup := msg.Header.Get("List-Unsubscribe-Post"); lup != "List-Unsubscribe=One-Click" {
					t.Errorf("%s List-Unsubscribe-Post %q", to, lup)
				}
				subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
				wantSubject := "Invitation : " + ev.Title
				if c == john {
					wantSubject = "Invitation: " + ev.Title
				}
				if subject != wantSubject {
					t.Errorf("%s subject %q", to, subject)
				}
				for _, want := range []string{a.Config.BaseURL + "/i/" + inv.Token, unsub, "Nous comptons sur vous.", "Ministère, Lomé",
					"Les services publics en ligne.", "Afi Mensah"} {
					if !strings.Contains(text, want) {
						t.Errorf("%s: text lacks %q:\n%s", to, want, text)
					}
				}
			}
			if len(srv.Received()) != 2 || !got[kafui.Email] || !got[john.Email] {
				t.Fatalf("delivered to %v", got)
			}
		})
	}
}

// TestInvitationAnswersRemindersAndRevocation: accepting confirms even in approval mode
// and on an invite-only session; declining keeps the reason; non-responders are reminded
// once and not before the delay; a revoked invitation stops working.
func TestInvitationAnswersRemindersAndRevocation(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, now := regApp(t, driver)
			ctx := context.Background()
			actor := app.Actor{Name: "test"}
			for _, mode := range []model.RegistrationMode{model.ModeApproval, model.ModeInviteOnly} {
				ev := regEvent(t, a, 10, mode)
				var cs []*model.Contact
				for i := range 4 {
					cs = append(cs, invContact(t, a, fmt.Sprintf("Blogueur%d", i), fmt.Sprintf("b%d-%s@example.tg", i, strings.ReplaceAll(string(mode), "_", "-")), "fr"))
				}
				rep, err := a.Invite(ctx, actor, ev.ID, []int64{cs[0].ID, cs[1].ID, cs[2].ID, cs[3].ID}, "")
				if err != nil || len(rep.Created) != 4 {
					t.Fatalf("invite: %+v %v", rep, err)
				}
				tok := func(i int) string { return rep.Created[i].Token }
				// The public form: invite-only refuses without an invitation.
				if mode == model.ModeInviteOnly {
					in := person(100)
					if _, err := a.Register(ctx, ev.ID, in); model.ErrorMessage(err) != "register.invite_only" {
						t.Fatalf("public registration on invite-only: %v", err)
					}
				}
				// Accept: confirmed, source invitation, whatever address the form says.
				in := app.RegistrationInput{ContactInput: app.ContactInput{FirstName: "Kafui", LastName: "Adjo", Email: "someone.else@example.tg"},
					Consent: true, Lang: "fr"}
				res, err := a.AcceptInvitation(ctx, tok(0), in)
				if err != nil {
					t.Fatalf("%s accept: %v", mode, err)
				}
				r := res.Registration
				if r.Status != model.RegConfirmed || r.Source != model.SourceInvitation || r.ContactID != cs[0].ID || r.InvitationID == nil || *r.InvitationID != rep.Created[0].ID {
					t.Fatalf("%s registration %+v", mode, r)
				}
				if inv, _ := a.Store.FindInvitation(ctx, rep.Created[0].ID); inv.Status != store.InvitationAccepted || inv.RespondedAt == nil {
					t.Fatalf("accepted invitation %+v", inv)
				}
				if _, err := a.Decline(ctx, tok(0), "finalement non"); model.ErrorCode(err) != model.EConflict {
					t.Fatalf("decline after accepting: %v", err)
				}
				// Decline with a reason; a too long reason is a field error.
				if _, err := a.Decline(ctx, tok(1), strings.Repeat("x", 1001)); model.ErrorCode(err) != model.EInvalid {
					t.Fatalf("long reason: %v", err)
				}
				v, err := a.Decline(ctx, tok(1), "En reportage à Kara ce jour-là.")
				if err != nil || v.Invitation.Status != store.InvitationDeclined {
					t.Fatalf("decline: %+v %v", v, err)
				}
				if inv, _ := a.Store.FindInvitation(ctx, rep.Created[1].ID); inv.Status != store.InvitationDeclined || inv.DeclineReason != "En reportage à Kara ce jour-là." || inv.RespondedAt == nil {
					t.Fatalf("declined invitation %+v", inv)
				}
				// Revoke: the link stops working, and registering with it is refused.
				if err := a.Revoke(ctx, actor, ev.ID, rep.Created[3].ID); err != nil {
					t.Fatal(err)
				}
				if _, err := a.Invitation(ctx, tok(3)); model.ErrorCode(err) != model.ENotFound {
					t.Fatalf("revoked invitation: %v", err)
				}
				if n := len(invMessages(t, a, "invitation", cs[3].Email)); n != 0 {
					t.Fatalf("the queued invitation of a revoked invitation still goes: %d", n)
				}
				if _, err := a.AcceptInvitation(ctx, tok(3), in); model.ErrorCode(err) != model.ENotFound {
					t.Fatalf("accept a revoked invitation: %v", err)
				}
				if err := a.Revoke(ctx, actor, ev.ID, rep.Created[0].ID); model.ErrorCode(err) != model.EConflict {
					t.Fatalf("revoke an accepted invitation: %v", err)
				}
				// Remind: nobody before the delay; then the one non-responder, once.
				if n, err := a.Remind(ctx, actor, ev.ID); err != nil || n != 0 {
					t.Fatalf("remind too early: %d %v", n, err)
				}
				*now = now.Add(a.Config.InviteRemindAfter + time.Minute)
				if n, err := a.Remind(ctx, actor, ev.ID); err != nil || n != 1 {
					t.Fatalf("remind: %d %v", n, err)
				}
				if n, err := a.Remind(ctx, actor, ev.ID); err != nil || n != 0 {
					t.Fatalf("remind twice: %d %v", n, err)
				}
				for i, c := range cs {
					want := 0
					if i == 2 {
						want = 1
					}
					if n := len(invMessages(t, a, "invitation_reminder", c.Email)); n != want {
						t.Fatalf("%s contact %d: %d reminders", mode, i, n)
					}
				}
				if inv, _ := a.Store.FindInvitation(ctx, rep.Created[2].ID); inv.RemindedAt == nil {
					t.Fatalf("reminded invitation %+v", inv)
				}
			}
		})
	}
}

// TestUnsubscribedContactsGetNoOutreach: after unsubscribing, a contact is skipped by
// invitations and reminders, their queued invitation is cancelled, and the emails of
// their own registration still go.
func TestUnsubscribedContactsGetNoOutreach(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, now := regApp(t, driver)
			ctx := context.Background()
			ev := regEvent(t, a, 0, model.ModeOpen)
			other := regEvent(t, a, 0, model.ModeOpen)
			c := invContact(t, a, "Ama", "ama@example.tg", "fr")
			if _, err := a.Invite(ctx, app.Actor{}, ev.ID, []int64{c.ID}, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Unsubscribe(ctx, "short"); model.ErrorCode(err) != model.ENotFound {
				t.Fatalf("bad token: %v", err)
			}
			got, err := a.Unsubscribe(ctx, c.UnsubscribeToken)
			if err != nil || got.UnsubscribedAt == nil {
				t.Fatalf("unsubscribe: %+v %v", got, err)
			}
			first := *got.UnsubscribedAt
			*now = now.Add(time.Hour)
			if again, err := a.Unsubscribe(ctx, c.UnsubscribeToken); err != nil || !again.UnsubscribedAt.Equal(first) {
				t.Fatalf("unsubscribe twice: %+v %v", again, err)
			}
			if n := len(invMessages(t, a, "invitation", c.Email)); n != 0 {
				t.Fatalf("queued invitation not cancelled: %d", n)
			}
			rep, err := a.Invite(ctx, app.Actor{}, other.ID, []int64{c.ID}, "")
			if err != nil || len(rep.Created) != 0 || rep.Skipped[0].Reason != app.SkipUnsubscribed {
				t.Fatalf("invite unsubscribed: %+v %v", rep, err)
			}
			*now = now.Add(a.Config.InviteRemindAfter + time.Hour)
			if n, err := a.Remind(ctx, app.Actor{}, ev.ID); err != nil || n != 0 {
				t.Fatalf("remind unsubscribed: %d %v", n, err)
			}
			in := person(1)
			in.Email = c.Email
			if _, err := a.Register(ctx, other.ID, in); err != nil {
				t.Fatal(err)
			}
			if n := len(invMessages(t, a, "registration_confirmed", c.Email)); n != 1 {
				t.Fatalf("ticket email of an unsubscribed contact: %d", n)
			}
		})
	}
}

// TestDemoInvitationsInEveryState: the demo's upcoming session has invitations in every
// state, and loading the demo again changes none of them.
func TestDemoInvitationsInEveryState(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			ctx := context.Background()
			if _, err := a.LoadDemo(ctx); err != nil {
				t.Fatal(err)
			}
			ev, err := a.Store.FindEventBySlug(ctx, "blogueurs-services-publics-en-ligne")
			if err != nil {
				t.Fatal(err)
			}
			counts, err := a.Store.CountInvitations(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range store.InvitationStatuses {
				if counts[st] == 0 {
					t.Errorf("no %s invitation in the demo: %v", st, counts)
				}
			}
			rows, _ := a.Store.ListInvitations(ctx, ev.ID, store.InvitationAccepted)
			for _, r := range rows {
				reg, err := a.Store.FindRegistrationFor(ctx, ev.ID, r.ContactID)
				if err != nil || reg.Source != model.SourceInvitation || reg.Status != model.RegConfirmed {
					t.Errorf("accepted invitation without its registration: %+v %v", reg, err)
				}
			}
			if _, err := a.LoadDemo(ctx); err != nil {
				t.Fatal(err)
			}
			again, _ := a.Store.CountInvitations(ctx, ev.ID)
			for st, n := range counts {
				if again[st] != n {
					t.Fatalf("second load changed the invitations: %v → %v", counts, again)
				}
			}
		})
	}
}

// TestWalkInsWithoutEmailAreNotInvited: a walk-in who left no address has a placeholder
// one in the directory; inviting them (by tag, by history) skips them, saying why.
func TestWalkInsWithoutEmailAreNotInvited(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			ctx := context.Background()
			ev := regEvent(t, a, 0, model.ModeOpen)
			kafui := invContact(t, a, "Kafui", "kafui@example.tg", "fr", "tech")
			walkIn := invContact(t, a, "Kossi", "walkin-1a2b3c@"+app.WalkInEmailDomain, "fr", "tech")
			rep, err := a.Invite(ctx, app.Actor{Name: "test"}, ev.ID, []int64{kafui.ID, walkIn.ID}, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Created) != 1 || len(rep.Skipped) != 1 || rep.Skipped[0].Reason != app.SkipNoEmail {
				t.Fatalf("report: %d created, skipped %+v", len(rep.Created), rep.Skipped)
			}
			msgs, _, err := a.Store.ListMessages(ctx, store.MessageFilter{Query: app.WalkInEmailDomain, Limit: 10})
			if err != nil || len(msgs) != 0 {
				t.Fatalf("%d messages to the placeholder (%v)", len(msgs), err)
			}
		})
	}
}
