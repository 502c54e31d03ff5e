package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"relais/internal/i18n"
	"relais/internal/model"
	"relais/internal/store"
)

// Notices to registrants when an event moves (date, time or venue: on the organizer's
// request) or is cancelled (always). Each registration gets one message per change,
// keyed change:<event>:<registration>:<changeKey> or cancel:<event>:<registration>;
// what a crash left unqueued is queued by the next save (change) or by the scheduler
// (cancellation), and nothing is queued twice.

// noticeBatch is how many notices are queued per transaction.
const noticeBatch = 200

var (
	changeStatuses = []model.RegistrationStatus{model.RegConfirmed, model.RegWaitlisted}
	cancelStatuses = []model.RegistrationStatus{model.RegConfirmed, model.RegWaitlisted, model.RegPending}
)

// EventMoved reports whether the date, time or venue of an event differ between two versions.
func EventMoved(before, after *model.Event) bool {
	return !before.StartsAt.Equal(after.StartsAt) || !before.EndsAt.Equal(after.EndsAt) ||
		before.Timezone != after.Timezone || strings.TrimSpace(before.VenueName) != strings.TrimSpace(after.VenueName) ||
		strings.TrimSpace(before.VenueAddress) != strings.TrimSpace(after.VenueAddress)
}

// changeKey names one change of an event's date and venue, for the notices' keys: the
// version replaced (with the time it was saved) and the new one. The new version alone
// would not do: after a move from A to B and back to A, moving to B again is a change
// the registrants must hear of, and its key must not be the first move's.
func changeKey(before, after *model.Event) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%d|%s|%s", before.UpdatedAt.UnixMicro(), placeAndTime(before), placeAndTime(after))))
	return hex.EncodeToString(h[:8])
}

// placeAndTime is what a change notice is about: an event's date and venue.
func placeAndTime(ev *model.Event) string {
	return fmt.Sprintf("%d|%d|%s|%s|%s", ev.StartsAt.Unix(), ev.EndsAt.Unix(), ev.Timezone,
		strings.TrimSpace(ev.VenueName), strings.TrimSpace(ev.VenueAddress))
}

// NotifiableRegistrants counts who a change notice would reach: the confirmed and
// waitlisted registrants of a published event. The event form offers the notice only then.
func (a *App) NotifiableRegistrants(ctx context.Context, ev *model.Event) (int64, error) {
	if ev.ID == 0 || ev.Status != model.EventPublished {
		return 0, nil
	}
	return a.Store.CountActiveRegistrations(ctx, ev.ID, changeStatuses)
}

// SaveEventAndNotify saves an event (SaveEvent) and, when notify is set and the date,
// time or venue of a published event changed, queues a change notice to each confirmed
// or waitlisted registrant, in their language. It returns how many were queued.
func (a *App) SaveEventAndNotify(ctx context.Context, actor Actor, e *model.Event, notify bool) (int, error) {
	var before *model.Event
	if e.ID != 0 && notify {
		var err error
		if before, err = a.Store.FindEventByID(ctx, e.ID); err != nil {
			return 0, err
		}
	}
	if err := a.SaveEvent(ctx, actor, e); err != nil {
		return 0, err
	}
	if before == nil || e.Status != model.EventPublished || !EventMoved(before, e) {
		return 0, nil
	}
	n, err := a.queueChangeNotices(ctx, before, e)
	if n > 0 {
		a.audit(ctx, a.Store, actor, "event.notify_change", "event", e.ID, &e.ID, fmt.Sprintf("%d notified", n))
		a.kick()
	}
	return n, err
}

func (a *App) queueChangeNotices(ctx context.Context, before, ev *model.Event) (int, error) {
	prefix, suffix := fmt.Sprintf("change:%d:", ev.ID), ":"+changeKey(before, ev)
	total := 0
	for {
		regs, err := a.Store.RegistrationsWithoutMessage(ctx, store.MissingMessageFilter{EventID: ev.ID, Kind: "event_changed",
			Statuses: changeStatuses, KeyPrefix: prefix, KeySuffix: suffix, Limit: noticeBatch})
		if err != nil || len(regs) == 0 {
			return total, err
		}
		n, err := a.queueRegistrationNotices(ctx, ev, regs, func(c *model.Contact, r *model.Registration) Email {
			return a.changeNoticeEmail(before, ev, c, r, prefix+fmt.Sprint(r.ID)+suffix)
		})
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// changeNoticeEmail tells a registrant the new date or venue; a confirmed one gets the
// updated calendar file.
func (a *App) changeNoticeEmail(before, ev *model.Event, c *model.Contact, r *model.Registration, key string) Email {
	em := a.registrationEmail(string(r.Status), ev, c, r, key)
	em.Kind = "event_changed"
	var files []model.Attachment
	for _, at := range em.Attachments {
		if !at.Inline {
			files = append(files, at)
		}
	}
	em.Attachments = files
	lang := em.Lang
	if !before.StartsAt.Equal(ev.StartsAt) || !before.EndsAt.Equal(ev.EndsAt) || before.Timezone != ev.Timezone {
		em.Data["OldWhen"] = i18n.Range(before.StartsAt, before.EndsAt, before.Location(), lang)
	}
	if oldVenue := strings.Trim(before.VenueName+", "+before.VenueAddress, ", "); oldVenue != em.Data["Venue"] {
		em.Data["OldVenue"] = oldVenue
	}
	em.Data["Waitlisted"] = r.Status == model.RegWaitlisted
	return em
}

// queueCancellationNotices tells everyone confirmed, waitlisted or pending that the
// event is cancelled, at most budget of them (0: all). It returns how many it queued.
func (a *App) queueCancellationNotices(ctx context.Context, ev *model.Event, budget int) (int, error) {
	prefix := fmt.Sprintf("cancel:%d:", ev.ID)
	total := 0
	for budget == 0 || total < budget {
		limit := noticeBatch
		if budget > 0 {
			limit = min(limit, budget-total)
		}
		regs, err := a.Store.RegistrationsWithoutMessage(ctx, store.MissingMessageFilter{EventID: ev.ID, Kind: "event_cancelled",
			Statuses: cancelStatuses, KeyPrefix: prefix, Limit: limit})
		if err != nil || len(regs) == 0 {
			return total, err
		}
		n, err := a.queueRegistrationNotices(ctx, ev, regs, func(c *model.Contact, r *model.Registration) Email {
			em := a.registrationEmail("cancelled", ev, c, r, prefix+fmt.Sprint(r.ID))
			em.Kind, em.Attachments = "event_cancelled", nil
			return em
		})
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// notifyCancellation runs when an event becomes cancelled. A failure is logged, not
// returned (the event is cancelled either way): the scheduler queues what is missing.
func (a *App) notifyCancellation(ctx context.Context, ev *model.Event) {
	n, err := a.queueCancellationNotices(ctx, ev, 0)
	if err != nil {
		a.Log.Error("cancellation notices", "event", ev.ID, "queued", n, "err", err)
	}
	if n > 0 {
		a.kick()
	}
}

// queueMissedCancellations queues the cancellation notices of upcoming cancelled events
// that a crash left unqueued, at most budget.
func (a *App) queueMissedCancellations(ctx context.Context, budget int) (int, error) {
	now := a.Now()
	events, err := a.Store.EventsStartingBetween(ctx, model.EventCancelled, now, now.Add(366*24*time.Hour), 200)
	if err != nil {
		return 0, err
	}
	total := 0
	for i := range events {
		n, err := a.queueCancellationNotices(ctx, &events[i].Event, budget-total)
		total += n
		if err != nil || total >= budget {
			return total, err
		}
	}
	return total, nil
}

// queueRegistrationNotices queues one email per registration (built by build, given
// the contact) in one transaction. Erased contacts are left out.
func (a *App) queueRegistrationNotices(ctx context.Context, ev *model.Event, regs []model.Registration,
	build func(*model.Contact, *model.Registration) Email) (int, error) {
	if len(regs) == 0 {
		return 0, nil
	}
	ids := make([]int64, len(regs))
	for i := range regs {
		ids[i] = regs[i].ContactID
	}
	contacts, err := a.Store.FindContacts(ctx, ids)
	if err != nil {
		return 0, err
	}
	n := 0
	err = a.Store.Tx(ctx, func(tx *store.Store) error {
		n = 0
		for i := range regs {
			c := contacts[regs[i].ContactID]
			if c == nil || c.ErasedAt != nil || c.Email == "" {
				continue
			}
			if _, err := a.queueEmail(ctx, tx, build(c, &regs[i])); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		a.kick()
	}
	return n, nil
}
