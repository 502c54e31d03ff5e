package app

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/semaphore"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/ticket"
)

// RegistrationInput is a registration form, from a blogger, an invitation, the door or staff.
type RegistrationInput struct {
	ContactInput
	Answers  map[int64][]string // question id → answer(s)
	Consent  bool
	Honeypot string
	Lang     string
	Source   model.RegistrationSource
	// InvitationToken, when set, must be a live invitation of this event for this email.
	InvitationToken string
	// Staff marks a registration made by an organizer (or the door): the window and the
	// invite-only mode do not apply and no consent box is ticked by the person.
	Staff bool
	// SkipApproval confirms directly even in approval mode (invitations, staff).
	SkipApproval bool
	// OverrideCapacity confirms even when the event is full (staff only).
	OverrideCapacity bool
}

// RegisterResult says what happened, so the page can answer without revealing whether
// the address was already registered.
type RegisterResult struct {
	Registration *model.Registration
	// Duplicate is true when the address already had an active registration: nothing was
	// created, and a reminder with the ticket link was emailed to the address.
	Duplicate bool
	// Known is true when the address was in the directory already and nothing proves the
	// form came from its owner (no invitation, no staff): the ticket, whose page shows
	// and edits the contact's details, goes to the address only, by email.
	Known bool
}

// Register records a registration in one transaction: find or create the contact,
// refuse a duplicate, decide confirmed / waitlisted / pending from the mode and the
// capacity (inside the transaction, so capacity holds whatever the concurrency), and
// queue the email. The email is sent later by the outbox worker.
func (a *App) Register(ctx context.Context, eventID int64, in RegistrationInput) (*RegisterResult, error) {
	ev, err := a.Store.FindEventByID(ctx, eventID)
	if err != nil {
		return nil, err
	}
	questions, err := a.Store.ListQuestions(ctx, eventID)
	if err != nil {
		return nil, err
	}
	return a.RegisterFor(ctx, ev, questions, in)
}

// RegisterFor is Register for an event and its questions that the caller has just read
// from the database (the public form reads them to bind its answers): two round trips
// fewer per registration.
func (a *App) RegisterFor(ctx context.Context, ev *model.Event, questions []model.Question, in RegistrationInput) (*RegisterResult, error) {
	if strings.TrimSpace(in.Honeypot) != "" {
		return nil, model.Errorf(model.EBadRequest, "error.bad_request")
	}
	in.Lang = supportedLang(in.Lang)
	eventID := ev.ID
	fields := map[string]string{}
	in.ContactInput.validate(fields)
	answers := validateAnswers(questions, in.Answers, fields)
	if !in.Consent && !in.Staff {
		fields["consent"] = "error.consent"
	}
	if len(fields) > 0 {
		return nil, model.FieldErrors(fields)
	}
	var inv *model.Invitation
	var err error
	if in.InvitationToken != "" {
		if inv, err = a.Store.FindInvitationByToken(ctx, in.InvitationToken); err != nil || inv.EventID != eventID || inv.Status == "revoked" {
			return nil, model.Errorf(model.EForbidden, "error.invitation_invalid")
		}
		in.SkipApproval = true
		in.Source = model.SourceInvitation
	}
	if !in.Staff {
		if err := a.registrationOpen(ev, inv != nil); err != nil {
			return nil, err
		}
	}
	if in.Source == "" {
		in.Source = model.SourceOnline
	}
	release, err := a.registrationTurn(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	now := a.Now()
	res := &RegisterResult{}
	var mail Email
	// The single SQLite writer is the bottleneck of a registration burst: everything that
	// can be done before the transaction is. The codes are drawn, and the confirmation
	// email is rendered for the status the person will most likely get; inside the
	// transaction it is used as is when the guess holds, else rendered again.
	fresh := &model.Registration{EventID: eventID, TicketCode: ticket.NewCode(), Reference: newReference(),
		ManageToken: a.Token(), Source: in.Source, Lang: in.Lang}
	guess, err := a.decideStatus(ctx, a.Store, ev, in.SkipApproval || in.Staff, in.OverrideCapacity && in.Staff)
	if err != nil {
		return nil, err
	}
	preContact := &model.Contact{Email: in.Email, FirstName: in.FirstName, LastName: in.LastName}
	prerendered, err := a.registrationMessage(ctx, string(guess), ev, preContact, fresh, "")
	preReference := fresh.Reference // a clash inside the transaction draws another
	if err != nil {
		return nil, err
	}
	// An event with a capacity takes its decisions one at a time (its row is locked on
	// PostgreSQL); without one there is nothing to decide, and registrations for it run
	// side by side. Two of them racing for one address meet on a unique index: the loser
	// runs again and finds the winner's row.
	lockSeats := ev.Capacity > 0
	// Whether the person is new decides how the contact is written: a newcomer is
	// inserted at once, someone known is read and updated. The insert itself finds out
	// (ON CONFLICT DO NOTHING): no look-up before for a newcomer, and for someone known
	// the insert that finds them replaces it, inside the transaction (on PostgreSQL it
	// uses up an id of the contacts' sequence).
	const likelyNew = true
	// On SQLite the registration's writes are queued with those of concurrent ones and
	// written in one transaction (registrationTx): a request that has left must not undo
	// them halfway (an interrupted statement rolls the whole transaction back).
	txCtx := ctx
	if a.Store.Driver == "sqlite" {
		txCtx = context.WithoutCancel(ctx)
	}
	txFn := func(tx *store.Store) error {
		ctx := txCtx
		// It may run more than once: the loser of a race on a unique index runs again, and
		// on SQLite a transaction shared with other registrations that failed as a whole
		// runs each of them again alone.
		*res, mail = RegisterResult{}, Email{}
		fresh.ID, fresh.ContactID, fresh.Reference = 0, 0, preReference
		// The contact first: it needs no lock, and the event's lock is then held for as
		// few statements as possible.
		proven := in.Staff || inv != nil
		c, created, err := a.registrantContact(ctx, tx, &in.ContactInput, in.Lang, !in.Staff, now, likelyNew, proven)
		if err != nil {
			return err
		}
		res.Known = !created && !proven
		if inv != nil && inv.ContactID != c.ID {
			// An invitation is personal: it works for the invited address only.
			return model.FieldErrors(map[string]string{"email": "error.invitation_email"})
		}
		ev := ev // read before the transaction: enough when there are no seats to count
		if lockSeats {
			if ev, err = tx.LockEvent(ctx, eventID); err != nil {
				return err
			}
		}
		r := fresh
		err = model.ErrNotFound // a contact created just now has no registration
		if !created {
			r, err = tx.FindRegistrationFor(ctx, eventID, c.ID)
		}
		switch {
		case err == nil && r.Active():
			res.Duplicate, res.Registration = true, r
			mail = a.registrationEmail("already_registered", ev, c, r, fmt.Sprintf("reg:%d:dup:%d", r.ID, now.UnixNano()))
			_, err = a.queueEmail(ctx, tx, mail)
			return err
		case err == nil:
			// Cancelled or rejected before: the same row comes back to life.
		case model.ErrorCode(err) == model.ENotFound:
			r = fresh
			r.ContactID = c.ID
		default:
			return err
		}
		r.Source, r.Lang, r.Answers = in.Source, in.Lang, answers
		r.CancelledAt, r.RejectReason, r.WaitlistedAt, r.ConfirmedAt = nil, "", nil, nil
		if inv != nil {
			r.InvitationID = &inv.ID
		}
		status, err := a.decideStatus(ctx, tx, ev, in.SkipApproval || in.Staff, in.OverrideCapacity && in.Staff)
		if err != nil {
			return err
		}
		a.setStatus(r, status, now)
		if r.ID == 0 {
			err = a.createRegistration(ctx, tx, r)
		} else {
			err = tx.SaveRegistration(ctx, r)
		}
		if err != nil {
			return err
		}
		if inv != nil {
			if err := tx.MarkInvitationAnswered(ctx, inv.ID, "accepted", "", now); err != nil {
				return err
			}
		}
		res.Registration = r
		key := fmt.Sprintf("reg:%d:%s:%d", r.ID, status, now.UnixNano())
		if status == guess && r == fresh && r.Reference == preReference && c.FirstName == in.FirstName && c.LastName == in.LastName {
			prerendered.IdempotencyKey, prerendered.EventID, prerendered.ContactID = key, &ev.ID, &c.ID
			_, err = tx.EnqueueMessage(ctx, prerendered)
			return err
		}
		_, err = a.queueEmail(ctx, tx, a.registrationEmail(string(status), ev, c, r, key))
		return err
	}
	err = a.registrationTx(ctx, fresh.TicketCode, txFn)
	if me, ok := err.(*model.Error); ok && me.Code == model.EConflict && me.Message == "error.conflict" {
		*res, mail = RegisterResult{}, Email{}
		fresh.ID, fresh.ContactID = 0, 0
		err = a.registrationTx(ctx, fresh.TicketCode, txFn)
	}
	if err != nil {
		return nil, err
	}
	a.kick()
	return res, nil
}

// registrationTx runs fn, a registration's writes, in a transaction. On SQLite, where
// one connection writes, it is queued with the concurrent registrations' and one
// transaction writes them all, each in a savepoint of its own whose error is its own
// answer (see writeQueue): a burst costs a commit per few registrations rather than
// one each, and the write connection is not handed from request to request. fn may
// run more than once and must set all it reports afresh; key tells concurrent calls
// apart.
func (a *App) registrationTx(ctx context.Context, key string, fn func(tx *store.Store) error) error {
	if a.Store.Driver != "sqlite" {
		return a.Store.Tx(ctx, fn)
	}
	w := &queuedScan{run: func(_ context.Context, tx *store.Store, _ *store.ScanStatements) error { return fn(tx) },
		nonce: key, savepoint: true}
	a.regWrites.wait(a, w)
	return w.err
}

// createRegistration inserts r, drawing a new short reference in the rare case that
// the one drawn is taken at this event.
func (a *App) createRegistration(ctx context.Context, tx *store.Store, r *model.Registration) error {
	if tx.Driver == "sqlite" {
		// One statement fewer on the single writer: insert, and on the rare clash of the
		// unique (event, reference) index draw again. A failed INSERT leaves a SQLite
		// transaction usable.
		for i := 0; ; i++ {
			err := tx.CreateRegistration(ctx, r)
			if model.ErrorCode(err) != model.EConflict || i > 10 {
				return err
			}
			r.Reference = newReference()
		}
	}
	// On PostgreSQL a failed INSERT would abort the transaction: the insert steps aside
	// on a taken reference instead (ON CONFLICT DO NOTHING), one round trip in all.
	for i := 0; ; i++ {
		if created, err := tx.CreateRegistrationUnlessReferenceTaken(ctx, r); err != nil || created {
			return err
		} else if i > 10 {
			return fmt.Errorf("app: no free reference")
		}
		r.Reference = newReference()
	}
}

// decideStatus applies the mode and the capacity. It must run inside the transaction
// that holds the event's lock.
func (a *App) decideStatus(ctx context.Context, tx *store.Store, ev *model.Event, skipApproval, override bool) (model.RegistrationStatus, error) {
	if ev.RegistrationMode == model.ModeApproval && !skipApproval {
		return model.RegPending, nil
	}
	if ev.Capacity == 0 || override {
		return model.RegConfirmed, nil
	}
	n, err := tx.CountConfirmed(ctx, ev.ID)
	if err != nil {
		return "", err
	}
	if n < int64(ev.Capacity) {
		return model.RegConfirmed, nil
	}
	return model.RegWaitlisted, nil
}

func (a *App) setStatus(r *model.Registration, status model.RegistrationStatus, now time.Time) {
	r.Status = status
	switch status {
	case model.RegConfirmed:
		r.ConfirmedAt = &now
	case model.RegWaitlisted:
		r.WaitlistedAt = &now
	case model.RegCancelled:
		r.CancelledAt = &now
	}
}

// registrationOpen checks the status, the window and the mode of an event for the public.
func (a *App) registrationOpen(ev *model.Event, invited bool) error {
	now := a.Now()
	switch {
	case ev.Status != model.EventPublished:
		return model.Errorf(model.EConflict, "register.closed_status")
	case !ev.EndsAt.After(now):
		return model.Errorf(model.EConflict, "register.closed_past")
	case ev.RegistrationOpensAt != nil && now.Before(*ev.RegistrationOpensAt):
		return model.Errorf(model.EConflict, "register.not_yet_open")
	case ev.RegistrationClosesAt != nil && !now.Before(*ev.RegistrationClosesAt):
		return model.Errorf(model.EConflict, "register.closed")
	case ev.RegistrationMode == model.ModeInviteOnly && !invited:
		return model.Errorf(model.EForbidden, "register.invite_only")
	}
	return nil
}

// RegistrationState tells the public page what to show: "open", "not_yet_open",
// "closed", "invite_only", "past" or "unavailable".
func (a *App) RegistrationState(ev *model.Event) string {
	err := a.registrationOpen(ev, false)
	if err == nil {
		return "open"
	}
	return strings.TrimPrefix(strings.TrimPrefix(model.ErrorMessage(err), "register."), "closed_")
}

// upsertContact finds the contact by normalised email and fills in what the person told
// (new, non-empty values win); registrations grow the directory by themselves.
func (a *App) upsertContact(ctx context.Context, tx *store.Store, in *ContactInput, lang string, consent bool, now time.Time) (*model.Contact, error) {
	return a.upsertContactAs(ctx, tx, in, lang, consent, now, true)
}

// upsertContactAs is upsertContact; without proof that the input comes from the
// address's owner (a public form), it only fills what the contact lacks: anyone may
// type an address, and must not rewrite the directory's record of its owner.
func (a *App) upsertContactAs(ctx context.Context, tx *store.Store, in *ContactInput, lang string, consent bool, now time.Time, owner bool) (*model.Contact, error) {
	c, err := tx.FindContactByEmail(ctx, in.Email)
	if model.ErrorCode(err) == model.ENotFound {
		c = &model.Contact{Email: in.Email, UnsubscribeToken: a.Token(), Lang: lang}
	} else if err != nil {
		return nil, err
	} else if c, err = tx.FindContact(ctx, c.ID); err != nil {
		return nil, err
	}
	fillContact(c, in, lang, consent, now, owner || c.ID == 0)
	if c.ID == 0 {
		err = tx.CreateContact(ctx, c)
	} else {
		err = tx.UpdateContact(ctx, c)
	}
	return c, err
}

// registrantContact is upsertContact for a registration: when the address was unknown a
// moment before (likelyNew, read outside the transaction), the contact is inserted in one
// statement if it is still new, and created says so (the person has no registration yet).
// owner says whether the input is known to come from the address's owner (upsertContactAs).
func (a *App) registrantContact(ctx context.Context, tx *store.Store, in *ContactInput, lang string, consent bool, now time.Time, likelyNew, owner bool) (c *model.Contact, created bool, err error) {
	if likelyNew {
		c = &model.Contact{Email: in.Email, UnsubscribeToken: a.Token(), Lang: lang}
		fillContact(c, in, lang, consent, now, true)
		if created, err = tx.CreateContactIfNew(ctx, c); err != nil || created {
			return c, created, err
		}
	}
	c, err = a.upsertContactAs(ctx, tx, in, lang, consent, now, owner)
	return c, false, err
}

// fillContact writes what the person told into c: new, non-empty values win, or with
// overwrite false only fill what c lacks.
func fillContact(c *model.Contact, in *ContactInput, lang string, consent bool, now time.Time, overwrite bool) {
	set := func(dst *string, v string) {
		if v != "" && (overwrite || *dst == "") {
			*dst = v
		}
	}
	set(&c.FirstName, in.FirstName)
	set(&c.LastName, in.LastName)
	set(&c.Phone, in.Phone)
	set(&c.Outlet, in.Outlet)
	set(&c.BlogURL, in.BlogURL)
	set(&c.City, in.City)
	set(&c.Lang, lang)
	if n, err := strconv.Atoi(in.Audience); err == nil && n > 0 && (overwrite || c.Audience == 0) {
		c.Audience = n
	}
	if consent {
		c.ConsentAt, c.ConsentSource = &now, "registration_form"
	}
	for _, ch := range in.Channels {
		replaced := false
		for i := range c.Channels {
			if c.Channels[i].Platform == ch.Platform {
				if overwrite {
					c.Channels[i].Handle, c.Channels[i].URL = ch.Handle, ch.URL
				}
				replaced = true
			}
		}
		if !replaced {
			c.Channels = append(c.Channels, ch)
		}
	}
}

// replaceContactDetails writes into c the details a contact edited themselves (the
// ticket page). Unlike fillContact, the person owns the record: a field they emptied is
// emptied. The form shows one handle per platform, the contact's last one (the directory
// may hold more), and none for the blog, which its blog_url field stands for: an emptied
// platform loses its channels, a new handle replaces the one shown, the rest is kept.
func replaceContactDetails(c *model.Contact, in *ContactInput, lang string) {
	c.FirstName, c.LastName = in.FirstName, in.LastName
	c.Phone, c.Outlet, c.BlogURL, c.City = in.Phone, in.Outlet, in.BlogURL, in.City
	c.Audience = 0
	if n, err := strconv.Atoi(in.Audience); err == nil && n > 0 {
		c.Audience = n
	}
	if lang != "" {
		c.Lang = lang
	}
	posted := map[string]model.ContactChannel{}
	for _, ch := range in.Channels {
		posted[ch.Platform] = ch
	}
	var kept []model.ContactChannel
	for _, p := range model.Platforms {
		var have []model.ContactChannel
		for _, ch := range c.Channels {
			if ch.Platform == p {
				have = append(have, ch)
			}
		}
		ch, ok := posted[p]
		switch {
		case !ok && p == "blog":
			// Not on the form: kept as it is.
		case !ok:
			have = nil // emptied
		case !slices.ContainsFunc(have, func(h model.ContactChannel) bool { return h.Handle == ch.Handle }):
			if len(have) == 0 {
				have = append(have, ch)
			} else {
				have[len(have)-1].Handle, have[len(have)-1].URL = ch.Handle, ch.URL
			}
		}
		kept = append(kept, have...)
	}
	for _, ch := range c.Channels {
		if !model.ValidPlatform(ch.Platform) {
			kept = append(kept, ch) // not on the form either
		}
	}
	c.Channels = kept
}

func supportedLang(l string) string {
	if l == "en" {
		return "en"
	}
	return "fr"
}

// validateAnswers checks the answers to an event's questions and returns them as JSON.
func validateAnswers(qs []model.Question, given map[int64][]string, f map[string]string) string {
	out := map[string]any{}
	for _, q := range qs {
		field := fmt.Sprintf("q%d", q.ID)
		var vals []string
		clean := oneLineText
		if q.Kind == model.QLongText {
			clean = multiLineText
		}
		for _, v := range given[q.ID] {
			if v = strings.TrimSpace(clean(v)); v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			if q.Required {
				f[field] = "error.required"
			}
			continue
		}
		opts := map[string]bool{}
		for _, o := range strings.Split(q.Options, "\n") {
			opts[strings.TrimSpace(o)] = true
		}
		v := vals[0]
		switch q.Kind {
		case model.QText, model.QLongText:
			max := 300
			if q.Kind == model.QLongText {
				max = 3000
			}
			if utf8.RuneCountInString(v) > max {
				f[field] = "error.too_long"
			}
			out[itoa(int(q.ID))] = v
		case model.QChoice:
			if !opts[v] {
				f[field] = "error.choice"
			}
			out[itoa(int(q.ID))] = v
		case model.QMultiChoice:
			for _, x := range vals {
				if !opts[x] {
					f[field] = "error.choice"
				}
			}
			out[itoa(int(q.ID))] = vals
		case model.QYesNo:
			if v != "yes" && v != "no" {
				f[field] = "error.choice"
			}
			out[itoa(int(q.ID))] = v
		case model.QURL:
			if u, ok := NormalizeURL(v); !ok {
				f[field] = "error.url_any"
			} else {
				out[itoa(int(q.ID))] = u
			}
		case model.QNumber:
			if _, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64); err != nil || len(v) > 30 {
				f[field] = "error.number_any"
			}
			out[itoa(int(q.ID))] = v
		case model.QPhone:
			if p, ok := NormalizePhone(v); !ok {
				f[field] = "error.phone"
			} else {
				out[itoa(int(q.ID))] = p
			}
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// newReference draws a registration's short reference; tests replace it to force a clash.
var newReference = ticket.NewReference

// regSlotWait bounds how long a registration waits for its turn.
const regSlotWait = 15 * time.Second

// turns lets registrations through first come, first served, fewer at once while the
// mail worker is behind: a weighted semaphore of size units, of which a registration
// takes size/n, n being how many may go at once as it arrives (registrationLimits).
// Turns taken while the mail was late keep their weight until they end.
type turns struct {
	sem            *semaphore.Weighted
	size           int64 // as many registrations at once with the mail on time
	late, veryLate int64 // as many past mailLate, past mailVeryLate
	lag            func() time.Duration
}

// newTurns returns the registrations' turns on the driver's database, given how far
// behind the mail worker is (lag).
//   - On SQLite, eight per processor (at least 8): enough to keep them busy while others
//     wait for the single writer, and to give its write queue a few to write in each
//     transaction. On PostgreSQL, which writes them side by side, two per processor (at
//     least 4): more made them no faster, only later (a bench, the eighth session).
//   - The mail worker more than mailLate behind: two per processor (at least 4; on
//     PostgreSQL, no fewer than always).
//   - More than mailVeryLate behind: one per processor (at least 2), so that the
//     confirmations catch up whatever the machine.
//
// Without these, a burst of registrations outruns the mail worker for as long as it
// lasts: on the development machine (a bench, the eighth session) the last confirmation
// of a 30 s burst went 1.9 s after it, and 1.1 s with them, registrations no slower.
// Lower limits (1 s and 1.5 s) kept the emails closer still, but the registrations'
// slowest answers were slower (docs/performance.md).
func newTurns(driver string, lag func() time.Duration) *turns {
	procs := int64(runtime.GOMAXPROCS(0))
	size := max(8, 8*procs)
	if driver != "sqlite" {
		size = max(4, 2*procs)
	}
	return &turns{sem: semaphore.NewWeighted(size), size: size, lag: lag,
		late: min(size, max(4, 2*procs)), veryLate: min(size, max(2, procs))}
}

// weight is what a registration arriving now takes of the size.
func (t *turns) weight() int64 {
	n := t.size
	switch late := t.lag(); {
	case late > mailVeryLate:
		n = t.veryLate
	case late > mailLate:
		n = t.late
	}
	return (t.size + n - 1) / n
}

// How far behind the mail worker may be before fewer registrations are written at once
// (registrationLimit).
const (
	mailLate     = 2 * time.Second
	mailVeryLate = 3 * time.Second
)

// mailLag is MailLag, 0 without one.
func (a *App) mailLag() time.Duration {
	if a.MailLag == nil {
		return 0
	}
	return a.MailLag()
}

// registrationTurn waits for a registration's turn and returns the function that ends
// it. A burst of registrations takes turns: the ones beyond the limit wait here, asleep,
// instead of all competing for the processor with the mail worker, which then fell
// seconds behind. While the worker is behind, fewer take their turn at once (see
// newTurns), until the confirmations catch up.
func (a *App) registrationTurn(ctx context.Context) (release func(), err error) {
	w := a.regTurns.weight()
	wait, cancel := context.WithTimeout(ctx, regSlotWait)
	defer cancel()
	if err := a.regTurns.sem.Acquire(wait, w); err != nil {
		if ctx.Err() != nil {
			// The request ended (the person left): nothing was written.
			return nil, &model.Error{Code: model.EUnavailable, Message: "error.unavailable", Err: ctx.Err()}
		}
		// Far more than a burst's wait: the person is asked to try again shortly.
		return nil, &model.Error{Code: model.EUnavailable, Message: "error.unavailable"}
	}
	return func() { a.regTurns.sem.Release(w) }, nil
}
