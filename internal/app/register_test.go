package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
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

// regApp is an App on a fresh database of the driver, with a clock the test controls.
func regApp(t *testing.T, driver string) (*app.App, *time.Time) {
	t.Helper()
	st := storetest.Open(t, driver)
	cfg := config.Defaults()
	cfg.PasswordMemoryKiB = 1024 // argon2id at its lowest cost: tests hash many passwords
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
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	a.Now = func() time.Time { return now }
	st.Now = a.Now
	return a, &now
}

func regEvent(t *testing.T, a *app.App, capacity int, mode model.RegistrationMode) *model.Event {
	t.Helper()
	start := a.Now().Add(30 * 24 * time.Hour)
	ev := &model.Event{Title: fmt.Sprintf("Session %d", time.Now().UnixNano()), StartsAt: start, EndsAt: start.Add(3 * time.Hour),
		Capacity: capacity, RegistrationMode: mode, Status: model.EventPublished}
	if err := a.SaveEvent(context.Background(), app.Actor{Name: "test"}, ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func person(i int) app.RegistrationInput {
	return app.RegistrationInput{ContactInput: app.ContactInput{FirstName: "Blogueur", LastName: fmt.Sprint(i),
		Email: fmt.Sprintf("blogueur%d@example.tg", i)}, Consent: true, Lang: "fr"}
}

func countMessages(t *testing.T, a *app.App, kind, to string) int {
	t.Helper()
	msgs, _, err := a.Store.ListMessages(context.Background(), store.MessageFilter{Query: to, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Kind == kind && m.ToEmail == to {
			n++
		}
	}
	return n
}

// TestCapacityHoldsUnderConcurrency: 200 people register at once for 20 seats.
func TestCapacityHoldsUnderConcurrency(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 20, model.ModeOpen)
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for i := 0; i < 200; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					if _, err := a.Register(context.Background(), ev.ID, person(i)); err != nil {
						errs <- err
					}
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			counts, err := a.Store.CountRegistrations(context.Background(), ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if counts[model.RegConfirmed] != 20 || counts[model.RegWaitlisted] != 180 {
				t.Fatalf("counts %v, want 20 confirmed and 180 waitlisted", counts)
			}
			// Each person got exactly one email matching their status.
			if n := countMessages(t, a, "registration_confirmed", "blogueur0@example.tg") + countMessages(t, a, "registration_waitlisted", "blogueur0@example.tg"); n != 1 {
				t.Fatalf("blogueur0 got %d emails", n)
			}
			total, err := a.Store.CountMessagesByStatus(context.Background(), &ev.ID)
			if err != nil || total[model.MessageQueued] != 200 {
				t.Fatalf("queued messages %v %v", total, err)
			}
		})
	}
}

// An event without a capacity takes no lock: the same person sending the form many
// times at once still gets one registration, one confirmation and no error.
func TestUnlimitedEventSamePersonAtOnce(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 0, model.ModeOpen)
			var wg sync.WaitGroup
			errs := make(chan error, 40)
			dups := make(chan bool, 40)
			for i := 0; i < 40; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					p := person(i % 2) // two people, twenty times each
					res, err := a.Register(context.Background(), ev.ID, p)
					if err != nil {
						errs <- err
						return
					}
					dups <- res.Duplicate
				}(i)
			}
			wg.Wait()
			close(errs)
			close(dups)
			for err := range errs {
				t.Fatal(err)
			}
			fresh := 0
			for d := range dups {
				if !d {
					fresh++
				}
			}
			counts, err := a.Store.CountRegistrations(context.Background(), ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if counts[model.RegConfirmed] != 2 || fresh != 2 {
				t.Fatalf("counts %v, %d answered as new, want 2 and 2", counts, fresh)
			}
			for i := 0; i < 2; i++ {
				if n := countMessages(t, a, "registration_confirmed", fmt.Sprintf("blogueur%d@example.tg", i)); n != 1 {
					t.Fatalf("blogueur%d got %d confirmations", i, n)
				}
			}
		})
	}
}

func TestCancelPromotesExactlyOne(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 2, model.ModeOpen)
			var regs []*model.Registration
			for i := 0; i < 5; i++ {
				res, err := a.Register(ctx, ev.ID, person(i))
				if err != nil {
					t.Fatal(err)
				}
				regs = append(regs, res.Registration)
			}
			if regs[1].Status != model.RegConfirmed || regs[2].Status != model.RegWaitlisted {
				t.Fatalf("statuses %s %s", regs[1].Status, regs[2].Status)
			}
			if _, err := a.CancelRegistration(ctx, app.Actor{Name: "holder"}, regs[0].ID); err != nil {
				t.Fatal(err)
			}
			counts, _ := a.Store.CountRegistrations(ctx, ev.ID)
			if counts[model.RegConfirmed] != 2 || counts[model.RegWaitlisted] != 2 || counts[model.RegCancelled] != 1 {
				t.Fatalf("after cancel: %v", counts)
			}
			first, _ := a.Store.FindRegistration(ctx, regs[2].ID)
			if first.Status != model.RegConfirmed {
				t.Fatalf("the first waitlisted was not promoted: %s", first.Status)
			}
			if n := countMessages(t, a, "registration_promoted", "blogueur2@example.tg"); n != 1 {
				t.Fatalf("promoted emails: %d", n)
			}
			if n := countMessages(t, a, "registration_cancelled", "blogueur0@example.tg"); n != 1 {
				t.Fatalf("cancelled emails: %d", n)
			}
			pos, _ := a.Store.WaitlistPosition(ctx, mustReg(t, a, regs[4].ID))
			if pos != 2 {
				t.Fatalf("position of the last: %d", pos)
			}
			// Cancelling twice changes nothing more.
			if _, err := a.CancelRegistration(ctx, app.Actor{Name: "holder"}, regs[0].ID); err != nil {
				t.Fatal(err)
			}
			// Registering again after a cancellation re-activates the same row.
			res, err := a.Register(ctx, ev.ID, person(0))
			if err != nil || res.Duplicate || res.Registration.ID != regs[0].ID || res.Registration.Status != model.RegWaitlisted {
				t.Fatalf("re-register: %+v %v", res, err)
			}
		})
	}
}

func mustReg(t *testing.T, a *app.App, id int64) *model.Registration {
	r, err := a.Store.FindRegistration(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDuplicateRevealsNothingAndMailsTheTicket(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 0, model.ModeOpen)
			p := person(1)
			first, err := a.Register(ctx, ev.ID, p)
			if err != nil {
				t.Fatal(err)
			}
			p.Email = "  BLOGUEUR1@Example.TG "
			again, err := a.Register(ctx, ev.ID, p)
			if err != nil || !again.Duplicate || again.Registration.ID != first.Registration.ID {
				t.Fatalf("duplicate: %+v %v", again, err)
			}
			counts, _ := a.Store.CountRegistrations(ctx, ev.ID)
			if counts[model.RegConfirmed] != 1 {
				t.Fatalf("counts %v", counts)
			}
			if n := countMessages(t, a, "registration_already_registered", "blogueur1@example.tg"); n != 1 {
				t.Fatalf("already-registered emails: %d", n)
			}
		})
	}
}

func TestRegistrationRules(t *testing.T) {
	ctx := context.Background()
	a, now := regApp(t, "sqlite")
	// Window.
	ev := regEvent(t, a, 0, model.ModeOpen)
	opens, closes := now.Add(time.Hour), now.Add(48*time.Hour)
	ev.RegistrationOpensAt, ev.RegistrationClosesAt = &opens, &closes
	if err := a.SaveEvent(ctx, app.Actor{}, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Register(ctx, ev.ID, person(1)); model.ErrorMessage(err) != "register.not_yet_open" {
		t.Fatalf("before opening: %v", err)
	}
	if got := a.RegistrationState(ev); got != "not_yet_open" {
		t.Fatalf("state %q", got)
	}
	later := now.Add(49 * time.Hour)
	a.Now = func() time.Time { return later }
	if _, err := a.Register(ctx, ev.ID, person(1)); model.ErrorMessage(err) != "register.closed" {
		t.Fatalf("after closing: %v", err)
	}
	// Staff may still add someone.
	staff := person(2)
	staff.Staff, staff.Consent = true, false
	if res, err := a.Register(ctx, ev.ID, staff); err != nil || res.Registration.Status != model.RegConfirmed {
		t.Fatalf("staff: %v", err)
	}
	a.Now = func() time.Time { return *now }
	// Invite only.
	inv := regEvent(t, a, 0, model.ModeInviteOnly)
	if _, err := a.Register(ctx, inv.ID, person(3)); model.ErrorCode(err) != model.EForbidden {
		t.Fatalf("invite only: %v", err)
	}
	// Approval.
	appr := regEvent(t, a, 1, model.ModeApproval)
	res, err := a.Register(ctx, appr.ID, person(4))
	if err != nil || res.Registration.Status != model.RegPending {
		t.Fatalf("approval: %+v %v", res, err)
	}
	res2, _ := a.Register(ctx, appr.ID, person(5))
	if r, err := a.ApproveRegistration(ctx, app.Actor{}, res.Registration.ID, false); err != nil || r.Status != model.RegConfirmed {
		t.Fatalf("approve: %v %v", r, err)
	}
	// The seat is taken: approving the second puts it on the waiting list.
	if r, err := a.ApproveRegistration(ctx, app.Actor{}, res2.Registration.ID, false); err != nil || r.Status != model.RegWaitlisted {
		t.Fatalf("approve when full: %v %v", r, err)
	}
	if r, err := a.RejectRegistration(ctx, app.Actor{}, res2.Registration.ID, "Places réservées à la presse locale"); err != nil || r.Status != model.RegRejected {
		t.Fatalf("reject: %v %v", r, err)
	}
	// Bad input: field errors, nothing recorded.
	bad := person(6)
	bad.Email, bad.Phone, bad.BlogURL, bad.Consent = "pas-une-adresse", "12", "http://", false
	_, err = a.Register(ctx, ev.ID, bad)
	var me *model.Error
	if e, ok := err.(*model.Error); ok {
		me = e
	}
	if me == nil || me.Fields["email"] == "" || me.Fields["phone"] == "" || me.Fields["blog_url"] == "" || me.Fields["consent"] == "" {
		t.Fatalf("bad input: %+v", err)
	}
	// Honeypot.
	hp := person(7)
	hp.Honeypot = "http://spam"
	if _, err := a.Register(ctx, ev.ID, hp); err == nil {
		t.Fatal("honeypot accepted")
	}
}

func TestPhoneAndContactNormalised(t *testing.T) {
	ctx := context.Background()
	a, _ := regApp(t, "sqlite")
	ev := regEvent(t, a, 0, model.ModeOpen)
	for i, phone := range []string{"90 12 34 56", "+228 90 12 34 56", "00228 90123456"} {
		p := person(10 + i)
		p.Phone, p.BlogURL, p.Audience = phone, "monblog.tg", "12k"
		p.Channels = []model.ContactChannel{{Platform: "facebook", Handle: "monblog"}}
		res, err := a.Register(ctx, ev.ID, p)
		if err != nil {
			t.Fatalf("%s: %v", phone, err)
		}
		c, _ := a.Store.FindContact(ctx, res.Registration.ContactID)
		if c.Phone != "+22890123456" || c.BlogURL != "https://monblog.tg" || c.Audience != 12000 || len(c.Channels) != 1 {
			t.Fatalf("%s: contact %+v", phone, c)
		}
	}
}

func TestCommonPasswordsRefused(t *testing.T) {
	for _, pw := range []string{"azertyuiop", "Motdepasse2026", "aaaaaaaaaaaa", "0123456789", "Soleil123!", "qwertyuiopas"} {
		if app.ValidatePassword(pw) != "error.password_common" {
			t.Errorf("%q accepted", pw)
		}
	}
	for _, pw := range []string{"la pirogue de Kossi", "correct horse battery"} {
		if msg := app.ValidatePassword(pw); msg != "" {
			t.Errorf("%q refused: %s", pw, msg)
		}
	}
}

// Two people drawing the same short reference at an event: the second gets another one.
func TestRegisterReferenceClash(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 0, model.ModeOpen)
			draws := []string{"AAAAAA", "AAAAAA", "AAAAAA", "CCCCCC"}
			defer app.SetNewReference(func() string { r := draws[0]; draws = draws[1:]; return r })()
			ctx := context.Background()
			first, err := a.Register(ctx, ev.ID, person(1))
			if err != nil {
				t.Fatal(err)
			}
			second, err := a.Register(ctx, ev.ID, person(2))
			if err != nil {
				t.Fatal(err)
			}
			if first.Registration.Reference != "AAAAAA" || second.Registration.Reference != "CCCCCC" {
				t.Fatalf("references %q and %q", first.Registration.Reference, second.Registration.Reference)
			}
			msgs, _, err := a.Store.ListMessages(ctx, store.MessageFilter{Query: "blogueur2@example.tg", Limit: 10})
			if err != nil || len(msgs) != 1 {
				t.Fatalf("%d messages for the second person (%v)", len(msgs), err)
			}
			m, err := a.Store.FindMessage(ctx, msgs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			// The email was rendered before the clash: it must give the reference kept.
			if !strings.Contains(m.TextBody, "CCC-CCC") || strings.Contains(m.TextBody, "AAA-AAA") {
				t.Fatalf("confirmation gives the wrong reference:\n%s", m.TextBody)
			}
		})
	}
}

// takeTurns takes n registration turns, as n registrations being written would, and
// returns the functions that give them back.
func takeTurns(t *testing.T, a *app.App, n int) []func() {
	t.Helper()
	var held []func()
	for range n {
		release, ok := a.TakeRegistrationTurn()
		if !ok {
			t.Fatal("no turn free")
		}
		held = append(held, release)
	}
	return held
}

// registerWithoutTurn checks that a registration whose turn does not come gives up when
// its request ends, asking to try again. (RegisterFor: Register's reads before the turn
// could outlast the request on a slow machine.)
func registerWithoutTurn(t *testing.T, a *app.App, ev *model.Event, in app.RegistrationInput) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := a.RegisterFor(ctx, ev, nil, in); model.ErrorCode(err) != model.EUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("registration with every turn taken: %v (want unavailable: try again)", err)
	}
}

// registerWaiting starts a registration and checks that it waits for its turn; its
// outcome comes on the channel once it has one.
func registerWaiting(t *testing.T, a *app.App, ev *model.Event, in app.RegistrationInput) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := a.Register(context.Background(), ev.ID, in)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("registered without waiting for a turn: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	return done
}

// While the mail worker is behind, fewer registrations take their turn at once, the
// fewer the later the mail: turns taken while it is late weigh more, and a registration
// arriving while it is very late waits for more of them to end.
func TestRegistrationsGiveWayToLateMail(t *testing.T) {
	a, _ := regApp(t, "sqlite")
	ev := regEvent(t, a, 0, model.ModeOpen)
	var lag atomic.Int64
	a.MailLag = func() time.Duration { return time.Duration(lag.Load()) }
	limit := func(d time.Duration) int { lag.Store(int64(d)); return a.RegistrationTurnLimit() }
	onTime, late, veryLate := limit(app.MailLate), limit(app.MailLate+time.Millisecond), limit(app.MailVeryLate+time.Millisecond)
	if !(onTime > late && late > veryLate && veryLate >= 1) {
		t.Fatalf("registrations at once: %d with the mail on time, %d when late, %d when very late", onTime, late, veryLate)
	}
	lag.Store(int64(app.MailLate + time.Millisecond))
	held := takeTurns(t, a, late)
	if release, ok := a.TakeRegistrationTurn(); ok {
		release()
		t.Fatalf("more than %d turns at once while the mail is late", late)
	}
	registerWithoutTurn(t, a, ev, person(1))
	// The mail on time again: a turn given back makes room for several.
	lag.Store(0)
	held[0]()
	held = held[1:]
	if _, err := a.Register(context.Background(), ev.ID, person(2)); err != nil {
		t.Fatalf("mail on time again: %v", err)
	}
	// Very late: a registration waits for more turns to end.
	lag.Store(int64(app.MailVeryLate + time.Second))
	done := registerWaiting(t, a, ev, person(3))
	for _, release := range held {
		release()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !a.RegistrationTurnsAllFree() {
		t.Fatal("a turn is still taken after every registration ended")
	}
	for i, want := range []int{0, 1, 1} {
		if n := countMessages(t, a, "registration_confirmed", fmt.Sprintf("blogueur%d@example.tg", i+1)); n != want {
			t.Fatalf("confirmations to blogueur%d: %d, want %d", i+1, n, want)
		}
	}
}

// On SQLite, registrations that arrive together are written in one transaction. Each
// sees the ones before it (the same address twice makes one registration and a
// reminder; the last seat goes to one of two), and one refused inside the transaction
// leaves nothing behind and takes nothing from the others: the transaction commits.
func TestRegistrationsSharingATransaction(t *testing.T) {
	a, _ := regApp(t, "sqlite")
	ctx := context.Background()
	ev := regEvent(t, a, 0, model.ModeOpen)
	small := regEvent(t, a, 1, model.ModeOpen)
	invited := &model.Contact{Email: "invitee@example.tg", FirstName: "Afi", LastName: "Invitée", Lang: "fr", UnsubscribeToken: app.NewToken()}
	if err := a.Store.CreateContact(ctx, invited); err != nil {
		t.Fatal(err)
	}
	inv := &model.Invitation{EventID: ev.ID, ContactID: invited.ID, Token: app.NewToken(), Status: "sent"}
	if err := a.Store.CreateInvitation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	refused := person(2) // someone else using the invitation: refused once the contact is written
	refused.InvitationToken = inv.Token
	type reg struct {
		event int64
		in    app.RegistrationInput
	}
	regs := []reg{{ev.ID, person(1)}, {ev.ID, person(1)}, {ev.ID, refused}, {ev.ID, person(3)}, {small.ID, person(4)}, {small.ID, person(5)}}
	flush := a.HoldRegistrationWrites()
	results := make([]*app.RegisterResult, len(regs))
	errs := make([]error, len(regs))
	var wg sync.WaitGroup
	for i, r := range regs {
		wg.Go(func() { results[i], errs[i] = a.Register(ctx, r.event, r.in) })
	}
	if n, err := flush(len(regs)); n != len(regs) || err != nil {
		t.Fatalf("one transaction wrote %d of %d registrations: %v", n, len(regs), err)
	}
	wg.Wait()
	for i, err := range errs {
		if i != 2 && err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	var fe *model.Error
	if !errors.As(errs[2], &fe) || fe.Fields["email"] != "error.invitation_email" {
		t.Fatalf("invitation used by another address: %v", errs[2])
	}
	if results[0].Duplicate == results[1].Duplicate || results[0].Registration.ID != results[1].Registration.ID {
		t.Fatalf("the same address twice: %+v and %+v", results[0], results[1])
	}
	if results[3].Duplicate || results[3].Registration.Status != model.RegConfirmed {
		t.Fatalf("the last one: %+v", results[3])
	}
	if s4, s5 := results[4].Registration.Status, results[5].Registration.Status; s4 == s5 ||
		(s4 != model.RegConfirmed && s4 != model.RegWaitlisted) || (s5 != model.RegConfirmed && s5 != model.RegWaitlisted) {
		t.Fatalf("two people for the last seat: %s and %s, want one confirmed and one waitlisted", s4, s5)
	}
	if list, _, err := a.Store.ListRegistrations(ctx, store.RegistrationFilter{EventID: ev.ID}); err != nil || len(list) != 2 {
		t.Fatalf("%d registrations (%v), want 2", len(list), err)
	}
	if _, err := a.Store.FindContactByEmail(ctx, "blogueur2@example.tg"); model.ErrorCode(err) != model.ENotFound {
		t.Fatalf("the refused registration left its contact behind: %v", err)
	}
	for to, want := range map[string][2]int{"blogueur1@example.tg": {1, 1}, "blogueur2@example.tg": {0, 0}, "blogueur3@example.tg": {1, 0}} {
		if c, r := countMessages(t, a, "registration_confirmed", to), countMessages(t, a, "registration_already_registered", to); c != want[0] || r != want[1] {
			t.Fatalf("to %s: %d confirmations and %d reminders, want %v", to, c, r, want)
		}
	}
}

// A burst of registrations takes turns: with every turn taken, a registration waits,
// and one whose request ends while waiting writes nothing and asks to try again; a
// turn given back lets the next one through, which gives it back in turn.
func TestRegistrationsTakeTurns(t *testing.T) {
	a, _ := regApp(t, "sqlite")
	ev := regEvent(t, a, 0, model.ModeOpen)
	held := takeTurns(t, a, a.RegistrationTurnLimit())
	registerWithoutTurn(t, a, ev, person(1))
	if counts, err := a.Store.CountRegistrations(context.Background(), ev.ID); err != nil || len(counts) != 0 {
		t.Fatalf("a registration that never got its turn wrote %v (%v)", counts, err)
	}
	done := registerWaiting(t, a, ev, person(2))
	held[0]()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, release := range held[1:] {
		release()
	}
	if !a.RegistrationTurnsAllFree() {
		t.Fatal("a turn is still taken after every registration ended")
	}
	if n := countMessages(t, a, "registration_confirmed", "blogueur2@example.tg"); n != 1 {
		t.Fatalf("confirmations after its turn: %d", n)
	}
}
