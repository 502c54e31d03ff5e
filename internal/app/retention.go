package app

import (
	"context"
	"fmt"
	"time"
)

// retentionBatch is how many contacts one query proposes; the job loops until none is left.
const retentionBatch = 500

// retentionActor signs the audit entries of the retention job.
var retentionActor = Actor{Name: "retention"}

// RetentionCutoff is the end date before which an event's personal data are due for
// anonymisation at now, and false when retention is off (retention_months = 0).
func (a *App) RetentionCutoff(now time.Time) (time.Time, bool) {
	if a.Config.RetentionMonths <= 0 {
		return time.Time{}, false
	}
	return now.AddDate(0, -a.Config.RetentionMonths, 0), true
}

// AnonymiseExpired applies the retention rule at a.Now(). For every event that ended
// more than retention_months ago, the registrations lose their answers and the
// invitations their notes (status, source, check-in time stay: every count and report is
// unchanged); then each person who registered for such an event and shows no sign of
// life since (nothing in an event still within retention, no consent or change after
// the cutoff) is anonymised: named "Anonyme", address anon-<id>@erased.invalid, details,
// channels, tags and emails cleared. Every change is in the audit log. It returns how
// many registrations, invitations and contacts it changed; running it again at the same
// time changes nothing. Several instances may run it at once.
func (a *App) AnonymiseExpired(ctx context.Context) (int, error) {
	cutoff, on := a.RetentionCutoff(a.Now())
	if !on {
		return 0, nil
	}
	events, err := a.Store.ExpiredEventIDs(ctx, cutoff)
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, id := range events {
		regs, invs, err := a.Store.ClearEventPersonalData(ctx, id)
		if err != nil {
			return changed, err
		}
		if regs+invs > 0 {
			changed += int(regs + invs)
			a.audit(ctx, a.Store, retentionActor, "retention.clear_event", "event", id, &id,
				fmt.Sprintf("retention_months=%d registrations=%d invitations=%d", a.Config.RetentionMonths, regs, invs))
		}
	}
	for {
		ids, err := a.Store.RetentionCandidates(ctx, cutoff, retentionBatch)
		if err != nil {
			return changed, err
		}
		progress := false
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return changed, err
			}
			done, err := a.Store.AnonymiseContact(ctx, id, cutoff, a.Token())
			if err != nil {
				return changed, err
			}
			if done {
				changed++
				progress = true
				a.audit(ctx, a.Store, retentionActor, "contact.anonymise", "contact", id, nil,
					fmt.Sprintf("retention_months=%d", a.Config.RetentionMonths))
			}
		}
		// A candidate that was no longer one once locked (it registered meanwhile) is
		// not proposed again, so a short or fruitless batch is the last.
		if len(ids) < retentionBatch || !progress {
			return changed, nil
		}
	}
}

// RunRetention runs AnonymiseExpired at once and then every interval until ctx ends.
// It is kept apart from the scheduler of reminders and campaigns: it has nothing to do
// most of the time and its pace is hours, not seconds.
func (a *App) RunRetention(ctx context.Context, every time.Duration) {
	if _, on := a.RetentionCutoff(a.Now()); !on {
		a.Log.Info("retention off: personal data are kept for ever (retention_months = 0)")
		return
	}
	a.Log.Info("retention started", "retention_months", a.Config.RetentionMonths, "every", every)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := a.AnonymiseExpired(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Error("retention", "err", err)
		case n > 0:
			a.Log.Info("retention: personal data anonymised", "changed", n, "retention_months", a.Config.RetentionMonths)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
