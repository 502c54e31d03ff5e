package app

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"relais/internal/model"
	"relais/internal/store"
)

// Reminders to confirmed registrants before an event. Each event keeps its offsets
// ("24h,morning" by default); the scheduler queues a reminder when its time has come,
// with the key remind:<event>:<registration>:<offset>:<start>, so that running the
// scheduler again, on any instance, after any restart, queues nothing twice and forgets
// nobody. The start time in the key makes a postponed event remind again.

// DefaultReminderOffsets is what a new event gets.
const DefaultReminderOffsets = "24h,morning"

// Bounds of the reminder offsets an organizer may set.
const (
	maxReminderOffsets = 5
	maxReminderBefore  = 30 * 24 * time.Hour
	minReminderBefore  = 15 * time.Minute
	// morningClock is when the "morning" reminder goes, in the event's zone.
	morningHour = 7
)

// ReminderOffset is one reminder before an event: a duration before its start, or the
// morning of its day.
type ReminderOffset struct {
	Name    string // canonical: "24h", "90m", "morning"
	Before  time.Duration
	Morning bool
}

// DueAt is when the reminder for ev goes; ok is false when there is no such time before
// the start (an event that starts before 07:00 has no "morning" reminder).
func (o ReminderOffset) DueAt(ev *model.Event) (time.Time, bool) {
	var at time.Time
	if o.Morning {
		loc := ev.Location()
		s := ev.StartsAt.In(loc)
		at = time.Date(s.Year(), s.Month(), s.Day(), morningHour, 0, 0, 0, loc).UTC()
	} else {
		at = ev.StartsAt.Add(-o.Before)
	}
	return at, at.Before(ev.StartsAt)
}

// ParseReminderOffsets reads a comma-separated list: "morning" (or "matin"), or a
// duration before the start such as "24h", "2h", "90m", "3d" (days). Empty or "none"
// means no reminders. The result is canonical, without duplicates, earliest first.
func ParseReminderOffsets(s string) ([]ReminderOffset, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "none" || s == "aucun" {
		return nil, nil
	}
	seen := map[string]bool{}
	var out []ReminderOffset
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		var o ReminderOffset
		switch {
		case part == "morning" || part == "matin":
			o = ReminderOffset{Name: "morning", Morning: true}
		default:
			d, err := parseBefore(part)
			if err != nil {
				return nil, err
			}
			o = ReminderOffset{Name: canonicalDuration(d), Before: d}
		}
		if !seen[o.Name] {
			seen[o.Name] = true
			out = append(out, o)
		}
	}
	if len(out) > maxReminderOffsets {
		return nil, &model.Error{Code: model.EInvalid, Message: "reminders.error.too_many",
			Fields: map[string]string{"reminder_offsets": "reminders.error.too_many"}, Args: map[string]any{"Max": maxReminderOffsets}}
	}
	// Earliest first: the longest duration before the start; "morning" counts as ~the
	// start's hour minus 07:00, between the same-day durations and the day before.
	sort.SliceStable(out, func(i, j int) bool { return approxBefore(out[i]) > approxBefore(out[j]) })
	return out, nil
}

func approxBefore(o ReminderOffset) time.Duration {
	if o.Morning {
		return 2 * time.Hour
	}
	return o.Before
}

func parseBefore(part string) (time.Duration, error) {
	bad := &model.Error{Code: model.EInvalid, Message: "reminders.error.offset",
		Fields: map[string]string{"reminder_offsets": "reminders.error.offset"}, Args: map[string]any{"Value": part}}
	var d time.Duration
	if n, ok := strings.CutSuffix(part, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, bad
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(part); err != nil {
			return 0, bad
		}
	}
	if d < minReminderBefore || d > maxReminderBefore {
		return 0, bad
	}
	return d.Truncate(time.Minute), nil
}

func canonicalDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

// FormatReminderOffsets writes offsets back as stored.
func FormatReminderOffsets(offs []ReminderOffset) string {
	names := make([]string, len(offs))
	for i, o := range offs {
		names[i] = o.Name
	}
	return strings.Join(names, ",")
}

// ReminderPlan is one reminder of an event with its time, for the organizer's page.
type ReminderPlan struct {
	Offset ReminderOffset
	At     time.Time
	Valid  bool // false: it would come after the start
}

// EventReminders returns an event's reminder offsets as stored and their times.
func (a *App) EventReminders(ctx context.Context, ev *model.Event) (string, []ReminderPlan, error) {
	raw, err := a.Store.EventReminderOffsets(ctx, ev.ID)
	if err != nil {
		return "", nil, err
	}
	offs, err := ParseReminderOffsets(raw)
	if err != nil {
		a.Log.Error("stored reminder offsets do not parse", "event", ev.ID, "offsets", raw)
		return raw, nil, nil
	}
	plan := make([]ReminderPlan, len(offs))
	for i, o := range offs {
		at, ok := o.DueAt(ev)
		plan[i] = ReminderPlan{Offset: o, At: at, Valid: ok}
	}
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].At.Before(plan[j].At) })
	return raw, plan, nil
}

// SetReminderOffsets changes an event's reminder offsets.
func (a *App) SetReminderOffsets(ctx context.Context, actor Actor, eventID int64, s string) error {
	offs, err := ParseReminderOffsets(s)
	if err != nil {
		return err
	}
	v := FormatReminderOffsets(offs)
	if err := a.Store.SetEventReminderOffsets(ctx, eventID, v); err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "event.reminders", "event", eventID, &eventID, v)
	return nil
}

// dueReminder picks the reminder of ev to send at now: among those whose time has come
// (and is before the start), the latest. An earlier one still missing (the service was
// down when it was due) is not worth sending any more once a later one is due.
func dueReminder(offs []ReminderOffset, ev *model.Event, now time.Time) (ReminderOffset, time.Time, bool) {
	var best ReminderOffset
	var bestAt time.Time
	found := false
	for _, o := range offs {
		at, ok := o.DueAt(ev)
		if !ok || at.After(now) || !now.Before(ev.StartsAt) {
			continue
		}
		if !found || at.After(bestAt) {
			best, bestAt, found = o, at, true
		}
	}
	return best, bestAt, found
}

// reminderKinds are the kinds of the reminders' messages.
var reminderKinds = []string{"event_reminder"}

func reminderKey(ev *model.Event, off ReminderOffset) (prefix, suffix string) {
	return fmt.Sprintf("remind:%d:", ev.ID), fmt.Sprintf(":%s:%d", off.Name, ev.StartsAt.Unix())
}

// queueDueReminders queues the reminders due now, at most budget of them; the next
// tick goes on where this one stopped. It returns how many it queued.
func (a *App) queueDueReminders(ctx context.Context, budget int) (int, error) {
	now := a.Now()
	events, err := a.Store.EventsStartingBetween(ctx, model.EventPublished, now, now.Add(maxReminderBefore+24*time.Hour), 500)
	if err != nil {
		return 0, err
	}
	queued := 0
	for i := range events {
		ev := &events[i].Event
		offs, err := ParseReminderOffsets(events[i].ReminderOffsets)
		if err != nil {
			a.Log.Error("stored reminder offsets do not parse", "event", ev.ID, "offsets", events[i].ReminderOffsets)
			continue
		}
		off, at, ok := dueReminder(offs, ev, now)
		if !ok {
			continue
		}
		prefix, suffix := reminderKey(ev, off)
		regs, err := a.Store.RegistrationsWithoutMessage(ctx, store.MissingMessageFilter{EventID: ev.ID, Kind: "event_reminder",
			Statuses: []model.RegistrationStatus{model.RegConfirmed}, KeyPrefix: prefix, KeySuffix: suffix,
			ConfirmedBefore: &at, Limit: budget - queued})
		if err != nil {
			return queued, err
		}
		n, err := a.queueRegistrationNotices(ctx, ev, regs, func(c *model.Contact, r *model.Registration) Email {
			return a.reminderEmail(ev, c, r, off, prefix+fmt.Sprint(r.ID)+suffix)
		})
		queued += n
		if err != nil {
			return queued, err
		}
		if queued >= budget {
			break
		}
	}
	return queued, nil
}

// reminderEmail is a reminder with the ticket (its QR code inline), in the registration's language.
func (a *App) reminderEmail(ev *model.Event, c *model.Contact, r *model.Registration, off ReminderOffset, key string) Email {
	em := a.registrationEmail("confirmed", ev, c, r, key)
	em.Kind = "event_reminder"
	em.Attachments = inlineOnly(em.Attachments)
	loc := ev.Location()
	start := ev.StartsAt.In(loc)
	due, _ := off.DueAt(ev)
	due = due.In(loc)
	switch {
	case due.YearDay() == start.YearDay() && due.Year() == start.Year():
		em.Data["Day"] = "today"
	case due.AddDate(0, 0, 1).YearDay() == start.YearDay():
		em.Data["Day"] = "tomorrow"
	default:
		em.Data["Day"] = "soon"
	}
	return em
}

func inlineOnly(atts []model.Attachment) []model.Attachment {
	var out []model.Attachment
	for _, at := range atts {
		if at.Inline {
			out = append(out, at)
		}
	}
	return out
}
