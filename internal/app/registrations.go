package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"relais/internal/i18n"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/ticket"
)

// TicketURL is the holder's personal page.
func (a *App) TicketURL(r *model.Registration) string {
	return strings.TrimRight(a.Config.BaseURL, "/") + "/t/" + r.ManageToken
}

// EventICS returns the calendar file of an event.
func (a *App) EventICS(ev *model.Event) ([]byte, error) {
	in := a.icsEvent(ev)
	a.ics.mu.Lock()
	e, ok := a.ics.m[ev.ID]
	a.ics.mu.Unlock()
	if ok && e.in == in {
		return e.data, nil
	}
	data, err := ticket.ICS(in)
	if err != nil {
		return nil, err
	}
	a.ics.mu.Lock()
	if a.ics.m == nil || len(a.ics.m) >= icsCacheMax {
		a.ics.m = map[int64]icsEntry{}
	}
	a.ics.m[ev.ID] = icsEntry{in: in, data: data}
	a.ics.mu.Unlock()
	return data, nil
}

// icsCache keeps each event's calendar file, every confirmation email carries it. An
// entry is used only for the very fields it was written from: no change can be missed.
// The bytes are shared: attachments are only read.
type icsCache struct {
	mu sync.Mutex
	m  map[int64]icsEntry
}

type icsEntry struct {
	in   ticket.ICSEvent
	data []byte
}

// icsCacheMax bounds the events kept; past it, the cache starts over.
const icsCacheMax = 256

func (a *App) icsEvent(ev *model.Event) ticket.ICSEvent {
	loc := strings.TrimSpace(strings.Join([]string{ev.VenueName, ev.VenueAddress}, ", "))
	return ticket.ICSEvent{UID: fmt.Sprintf("event-%d@relais", ev.ID), Title: ev.Title, Description: ev.Summary,
		Location: strings.Trim(loc, ", "), URL: strings.TrimRight(a.Config.BaseURL, "/") + "/e/" + ev.Slug,
		OrganizerName: ev.PressContactName, OrganizerEmail: ev.PressContactEmail,
		Start: ev.StartsAt, End: ev.EndsAt, Created: ev.UpdatedAt}
}

// GoogleCalendarURL returns the "add to Google Calendar" link of an event.
func (a *App) GoogleCalendarURL(ev *model.Event) string {
	return ticket.GoogleCalendarURL(a.icsEvent(ev))
}

// registrationEmail builds the email of a registration event (kind: confirmed,
// waitlisted, pending, rejected, promoted, cancelled, already_registered). Emails that
// give a seat carry the QR code inline and the calendar file.
func (a *App) registrationEmail(kind string, ev *model.Event, c *model.Contact, r *model.Registration, key string) Email {
	loc := ev.Location()
	lang := supportedLang(r.Lang)
	data := map[string]any{
		"Event": ev, "Contact": c, "Name": c.Name(), "FirstName": c.FirstName, "Registration": r,
		"TicketURL": a.TicketURL(r), "EventURL": strings.TrimRight(a.Config.BaseURL, "/") + "/e/" + ev.Slug,
		"When": i18n.Range(ev.StartsAt, ev.EndsAt, loc, lang), "Reference": ticket.FormatReference(r.Reference),
		"Venue": strings.Trim(ev.VenueName+", "+ev.VenueAddress, ", "), "RejectReason": r.RejectReason,
	}
	if ev.PressContactName != "" {
		data["PressContact"] = map[string]string{"Name": ev.PressContactName, "Email": ev.PressContactEmail, "Phone": ev.PressContactPhone}
	}
	em := Email{Kind: "registration_" + kind, Lang: lang, ToEmail: c.Email, ToName: c.Name(), Key: key, Data: data,
		EventID: &ev.ID, ContactID: &c.ID}
	if kind == "confirmed" || kind == "promoted" {
		if png, err := ticket.QRPNG(r.TicketCode, 320); err == nil {
			em.Attachments = append(em.Attachments, model.Attachment{Filename: "billet-qr.png", ContentType: "image/png",
				ContentID: "qr@relais", Inline: true, Data: png})
			data["QR"] = true
		}
		if ics, err := a.EventICS(ev); err == nil {
			em.Attachments = append(em.Attachments, model.Attachment{Filename: ev.Slug + ".ics",
				ContentType: "text/calendar; charset=utf-8; method=PUBLISH", Data: ics})
		}
	}
	return em
}

// changeStatus moves a registration to a new status inside a transaction on the
// event, promoting the first waitlisted person when a seat is freed, and queues the
// emails of both.
func (a *App) changeStatus(ctx context.Context, actor Actor, regID int64, to model.RegistrationStatus, reason string, override bool) (*model.Registration, error) {
	now := a.Now()
	var out *model.Registration
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		r, err := tx.FindRegistration(ctx, regID)
		if err != nil {
			return err
		}
		ev, err := tx.LockEvent(ctx, r.EventID)
		if err != nil {
			return err
		}
		if r, err = tx.FindRegistration(ctx, regID); err != nil { // re-read under the lock
			return err
		}
		from := r.Status
		if from == to {
			out = r
			return nil
		}
		kind := string(to)
		switch to {
		case model.RegCancelled:
			if !r.Active() {
				return model.Errorf(model.EConflict, "error.registration_state")
			}
			a.setStatus(r, to, now)
		case model.RegRejected:
			if from != model.RegPending && from != model.RegWaitlisted {
				return model.Errorf(model.EConflict, "error.registration_state")
			}
			r.Status, r.RejectReason = to, strings.TrimSpace(reason)
		case model.RegConfirmed:
			// Approval (pending) or a manual promotion (waitlisted): capacity still applies
			// unless the organizer overrides it.
			if from != model.RegPending && from != model.RegWaitlisted && from != model.RegCancelled && from != model.RegRejected {
				return model.Errorf(model.EConflict, "error.registration_state")
			}
			st, err := a.decideStatus(ctx, tx, ev, true, override)
			if err != nil {
				return err
			}
			if st != model.RegConfirmed {
				if from == model.RegWaitlisted {
					return model.Errorf(model.EConflict, "error.event_full")
				}
				st = model.RegWaitlisted
			}
			a.setStatus(r, st, now)
			kind = map[model.RegistrationStatus]string{model.RegConfirmed: "confirmed", model.RegWaitlisted: "waitlisted"}[st]
			if from == model.RegWaitlisted {
				kind = "promoted"
			}
		default:
			return model.Errorf(model.EBadRequest, "error.registration_state")
		}
		if err := tx.SaveRegistration(ctx, r); err != nil {
			return err
		}
		c, err := tx.FindContact(ctx, r.ContactID)
		if err != nil {
			return err
		}
		if _, err := a.queueEmail(ctx, tx, a.registrationEmail(kind, ev, c, r, fmt.Sprintf("reg:%d:%s:%d", r.ID, kind, now.UnixNano()))); err != nil {
			return err
		}
		a.audit(ctx, tx, actor, "registration."+string(to), "registration", r.ID, &ev.ID, string(from)+" → "+string(r.Status))
		if r.Status != model.RegConfirmed {
			// A reminder queued while they were confirmed must not follow the news.
			if _, err := tx.CancelQueuedEventMail(ctx, ev.ID, &r.ContactID, reminderKinds); err != nil {
				return err
			}
		}
		if from == model.RegConfirmed && to != model.RegConfirmed {
			if err := a.promote(ctx, tx, ev, now); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.kick()
	return out, nil
}

// promote gives free seats to the longest-waiting people, in the caller's transaction,
// which holds the event's lock (store.LockEvent). A cancelled or archived event, or one
// that has ended, gives none: the "place libérée" email carries a ticket (QR code and
// calendar file) for a session that will not take place, or is over. A draft still
// does: it is an event being edited, whose registrations stand.
func (a *App) promote(ctx context.Context, tx *store.Store, ev *model.Event, now time.Time) error {
	if ev.Status == model.EventCancelled || ev.Status == model.EventArchived || !ev.EndsAt.After(now) {
		return nil
	}
	var free int64 // when there is a capacity (an override may have exceeded it)
	if ev.Capacity > 0 {
		n, err := tx.CountConfirmed(ctx, ev.ID)
		if err != nil {
			return err
		}
		free = int64(ev.Capacity) - n
	}
	for i := int64(0); ev.Capacity == 0 || i < free; i++ {
		w, err := tx.FirstWaitlisted(ctx, ev.ID)
		if model.ErrorCode(err) == model.ENotFound {
			return nil
		} else if err != nil {
			return err
		}
		a.setStatus(w, model.RegConfirmed, now)
		if err := tx.SaveRegistration(ctx, w); err != nil {
			return err
		}
		c, err := tx.FindContact(ctx, w.ContactID)
		if err != nil {
			return err
		}
		if _, err := a.queueEmail(ctx, tx, a.registrationEmail("promoted", ev, c, w, fmt.Sprintf("reg:%d:promoted:%d", w.ID, now.UnixNano()))); err != nil {
			return err
		}
	}
	return nil
}

// CancelRegistration cancels a registration (by its holder or an organizer); the seat
// goes to the first person waiting, in the same transaction.
func (a *App) CancelRegistration(ctx context.Context, actor Actor, regID int64) (*model.Registration, error) {
	return a.changeStatus(ctx, actor, regID, model.RegCancelled, "", false)
}

// ApproveRegistration confirms a pending (or waitlisted) registration if a seat is free
// (or when override is set); a pending one with no seat goes to the waitlist.
func (a *App) ApproveRegistration(ctx context.Context, actor Actor, regID int64, override bool) (*model.Registration, error) {
	return a.changeStatus(ctx, actor, regID, model.RegConfirmed, "", override)
}

// RejectRegistration refuses a pending or waitlisted registration with an optional reason.
func (a *App) RejectRegistration(ctx context.Context, actor Actor, regID int64, reason string) (*model.Registration, error) {
	if len([]rune(reason)) > 1000 {
		return nil, model.FieldErrors(map[string]string{"reason": "error.too_long"})
	}
	return a.changeStatus(ctx, actor, regID, model.RegRejected, reason, false)
}

// ResendTicket emails the current state of a registration again.
func (a *App) ResendTicket(ctx context.Context, actor Actor, regID int64) error {
	r, err := a.Store.FindRegistration(ctx, regID)
	if err != nil {
		return err
	}
	ev, err := a.Store.FindEventByID(ctx, r.EventID)
	if err != nil {
		return err
	}
	c, err := a.Store.FindContact(ctx, r.ContactID)
	if err != nil {
		return err
	}
	kind := string(r.Status)
	if _, err := a.queueEmail(ctx, a.Store, a.registrationEmail(kind, ev, c, r, fmt.Sprintf("reg:%d:resend:%d", r.ID, a.Now().UnixNano()))); err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "registration.resend", "registration", r.ID, &ev.ID, "")
	a.kick()
	return nil
}

// UpdateRegistrant changes a registrant's own details from their ticket page. The email
// address cannot change there (it identifies the person); answers are re-validated.
func (a *App) UpdateRegistrant(ctx context.Context, r *model.Registration, in RegistrationInput) error {
	c, err := a.Store.FindContact(ctx, r.ContactID)
	if err != nil {
		return err
	}
	in.Email = c.Email
	questions, err := a.Store.ListQuestions(ctx, r.EventID)
	if err != nil {
		return err
	}
	fields := map[string]string{}
	in.ContactInput.validate(fields)
	answers := validateAnswers(questions, in.Answers, fields)
	if len(fields) > 0 {
		return model.FieldErrors(fields)
	}
	lang := ""
	if in.Lang != "" {
		lang = supportedLang(in.Lang)
	}
	// Only the columns the form changes are written: r was read at the start of the
	// request, and its status or check-in may have changed since (a promotion, a
	// cancellation, the door), which must not be written back.
	return a.Store.Tx(ctx, func(tx *store.Store) error {
		// The holder owns the contact (the ticket link reached them at its address, or
		// they created it): their edit replaces its details, emptied ones included, where
		// upsertContact would keep the old values.
		c, err := tx.FindContact(ctx, r.ContactID)
		if err != nil {
			return err
		}
		replaceContactDetails(c, &in.ContactInput, supportedLang(in.Lang))
		if err := tx.UpdateContact(ctx, c); err != nil {
			return err
		}
		if err := tx.UpdateRegistrationDetails(ctx, r.ID, answers, lang); err != nil {
			return err
		}
		fresh, err := tx.FindRegistration(ctx, r.ID)
		if err != nil {
			return err
		}
		*r = *fresh
		return nil
	})
}

// QuestionInput is an organizer's custom question.
func validateQuestion(q *model.Question) *model.Error {
	f := map[string]string{}
	q.Label, q.Help = strings.TrimSpace(q.Label), strings.TrimSpace(q.Help)
	if q.Label == "" {
		f["label"] = "error.required"
	} else if len([]rune(q.Label)) > 300 {
		f["label"] = "error.too_long"
	}
	if len([]rune(q.Help)) > 500 {
		f["help"] = "error.too_long"
	}
	valid := false
	for _, k := range model.QuestionKinds {
		valid = valid || k == q.Kind
	}
	if !valid {
		f["kind"] = "error.choice"
	}
	var opts []string
	for _, o := range strings.Split(strings.ReplaceAll(q.Options, "\r\n", "\n"), "\n") {
		if o = strings.TrimSpace(o); o != "" {
			opts = append(opts, o)
		}
	}
	q.Options = strings.Join(opts, "\n")
	if (q.Kind == model.QChoice || q.Kind == model.QMultiChoice) && len(opts) < 2 {
		f["options"] = "error.options"
	} else if len(q.Options) > 5000 {
		f["options"] = "error.too_long"
	}
	if len(f) > 0 {
		return model.FieldErrors(f)
	}
	return nil
}

// SaveQuestion adds (ID 0) or updates a custom question.
func (a *App) SaveQuestion(ctx context.Context, actor Actor, q *model.Question) error {
	if err := validateQuestion(q); err != nil {
		return err
	}
	var err error
	if q.ID == 0 {
		err = a.Store.AddQuestion(ctx, q)
	} else {
		err = a.Store.UpdateQuestion(ctx, q)
	}
	if err == nil {
		a.audit(ctx, a.Store, actor, "question.save", "question", q.ID, &q.EventID, q.Label)
	}
	return err
}
