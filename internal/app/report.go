package app

import (
	"context"
	"time"

	"relais/internal/model"
	"relais/internal/store"
)

// Report is the activity report of one event: what the ministry shows of a session.
// The report page, its print version and GET /api/v1/events/{id}/report all use it.
type Report struct {
	Event       *model.Event `json:"-"`
	EventID     int64        `json:"event_id"`
	GeneratedAt time.Time    `json:"generated_at"`
	Funnel      Funnel       `json:"funnel"`
	// AttendanceRate is admitted / confirmed, between 0 and 1.
	AttendanceRate float64 `json:"attendance_rate"`
	// NoShows are confirmed registrants who were not admitted.
	NoShows       int64            `json:"no_shows"`
	Registrations map[string]int64 `json:"registrations_by_status"`
	Invitations   map[string]int64 `json:"invitations_by_status"`
	// RegistrationsPerDay counts registrations by day (in the event's time zone), every
	// day from the first to the last registration.
	RegistrationsPerDay []DayCount `json:"registrations_per_day"`
	// AdmissionsByTime counts admissions by time of day, in slots of SlotMinutes.
	AdmissionsByTime []SlotCount           `json:"admissions_by_time"`
	SlotMinutes      int                   `json:"slot_minutes"`
	Platforms        []store.PlatformCount `json:"platforms"`
	Doors            []store.DoorScans     `json:"doors"`
	Coverage         []ReportCoverage      `json:"coverage"`
	// CoverageReach is the total declared reach of the coverage not rejected.
	CoverageReach int64 `json:"coverage_reach"`
}

// Funnel follows the people of an event from the invitation to the publication.
type Funnel struct {
	Invited    int64 `json:"invited"`    // invitations not revoked
	Accepted   int64 `json:"accepted"`   // invitations accepted
	Registered int64 `json:"registered"` // registrations, whatever became of them
	Confirmed  int64 `json:"confirmed"`  // holding a seat
	Admitted   int64 `json:"admitted"`   // checked in at the door
	Published  int64 `json:"published"`  // bloggers with coverage not rejected
	// CoverageItems counts the coverage items not rejected.
	CoverageItems int64 `json:"coverage_items"`
}

// DayCount is a number of registrations on one day.
type DayCount struct {
	Day   string `json:"day"` // 2006-01-02
	Count int    `json:"count"`
}

// SlotCount is a number of admissions in one slot of the day.
type SlotCount struct {
	Start string `json:"start"` // 15:04, in the event's time zone
	End   string `json:"end"`
	Count int    `json:"count"`
}

// ReportCoverage is a coverage item as the report lists it.
type ReportCoverage struct {
	ID            int64                `json:"id"`
	ContactID     int64                `json:"contact_id"`
	Name          string               `json:"name"`
	Outlet        string               `json:"outlet"`
	URL           string               `json:"url"`
	Platform      string               `json:"platform"`
	Title         string               `json:"title"`
	PublishedAt   *time.Time           `json:"published_at"`
	Reach         int                  `json:"reach"`
	Status        model.CoverageStatus `json:"status"`
	SubmittedBy   string               `json:"submitted_by"`
	CheckStatus   string               `json:"check_status"`
	PageTitle     string               `json:"page_title"`
	MentionsEvent bool                 `json:"mentions_event"`
	LinksEvent    bool                 `json:"links_event"`
}

// EventReport computes the report of an event.
func (a *App) EventReport(ctx context.Context, eventID int64) (*Report, error) {
	ev, err := a.Store.FindEventByID(ctx, eventID)
	if err != nil {
		return nil, err
	}
	rep := &Report{Event: ev, EventID: ev.ID, GeneratedAt: a.Now(), Registrations: map[string]int64{}}
	if rep.Invitations, err = a.Store.CountInvitations(ctx, ev.ID); err != nil {
		return nil, err
	}
	for st, n := range rep.Invitations {
		if st != store.InvitationRevoked {
			rep.Funnel.Invited += n
		}
	}
	rep.Funnel.Accepted = rep.Invitations[store.InvitationAccepted]
	byStatus, err := a.Store.CountRegistrations(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	for _, st := range []model.RegistrationStatus{model.RegConfirmed, model.RegWaitlisted, model.RegPending, model.RegCancelled, model.RegRejected} {
		rep.Registrations[string(st)] = byStatus[st]
		rep.Funnel.Registered += byStatus[st]
	}
	rep.Funnel.Confirmed = byStatus[model.RegConfirmed]
	registered, admitted, err := a.Store.RegistrationTimes(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	rep.Funnel.Admitted = int64(len(admitted))
	rep.NoShows = max(rep.Funnel.Confirmed-rep.Funnel.Admitted, 0)
	if rep.Funnel.Confirmed > 0 {
		rep.AttendanceRate = float64(rep.Funnel.Admitted) / float64(rep.Funnel.Confirmed)
	}
	loc := ev.Location()
	rep.RegistrationsPerDay = perDay(registered, loc)
	rep.AdmissionsByTime, rep.SlotMinutes = byTimeOfDay(admitted, loc)
	if rep.Platforms, err = a.Store.AttendeePlatforms(ctx, ev.ID); err != nil {
		return nil, err
	}
	if rep.Doors, err = a.Store.ListDoorScans(ctx, ev.ID); err != nil {
		return nil, err
	}
	rows, err := a.Store.ListCoverage(ctx, store.CoverageFilter{EventID: ev.ID, Published: true})
	if err != nil {
		return nil, err
	}
	bloggers := map[int64]bool{}
	rep.Coverage = make([]ReportCoverage, 0, len(rows))
	for _, r := range rows {
		rep.Coverage = append(rep.Coverage, ReportCoverage{ID: r.ID, ContactID: r.ContactID, Name: r.Name(), Outlet: r.Outlet,
			URL: r.URL, Platform: r.Platform, Title: r.Title, PublishedAt: r.PublishedAt, Reach: r.Reach, Status: r.Status,
			SubmittedBy: r.SubmittedBy, CheckStatus: r.CheckStatus, PageTitle: r.PageTitle,
			MentionsEvent: r.MentionsEvent, LinksEvent: r.LinksEvent})
		rep.CoverageReach += int64(r.Reach)
		bloggers[r.ContactID] = true
	}
	rep.Funnel.Published = int64(len(bloggers))
	rep.Funnel.CoverageItems = int64(len(rows))
	return rep, nil
}

// perDay counts times by calendar day in loc, with the days without any in between.
func perDay(ts []time.Time, loc *time.Location) []DayCount {
	if len(ts) == 0 {
		return []DayCount{}
	}
	counts := map[string]int{}
	first, last := ts[0].In(loc), ts[0].In(loc)
	for _, t := range ts {
		t = t.In(loc)
		counts[t.Format("2006-01-02")]++
		if t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	var out []DayCount
	day := time.Date(first.Year(), first.Month(), first.Day(), 12, 0, 0, 0, loc)
	end := last.Format("2006-01-02")
	for i := 0; i < 731; i++ { // two years of days at most
		k := day.Format("2006-01-02")
		out = append(out, DayCount{Day: k, Count: counts[k]})
		if k >= end {
			break
		}
		day = day.AddDate(0, 0, 1)
	}
	return out
}

// byTimeOfDay counts times by slot of the day in loc: 15 minutes when they all fall
// within four hours, 30 minutes otherwise; every slot from the first to the last.
func byTimeOfDay(ts []time.Time, loc *time.Location) ([]SlotCount, int) {
	if len(ts) == 0 {
		return []SlotCount{}, 15
	}
	minute := func(t time.Time) int { t = t.In(loc); return t.Hour()*60 + t.Minute() }
	lo, hi := 24*60, 0
	for _, t := range ts {
		m := minute(t)
		lo, hi = min(lo, m), max(hi, m)
	}
	slot := 15
	if hi-lo > 4*60 {
		slot = 30
	}
	lo, hi = lo/slot*slot, hi/slot*slot
	counts := make([]int, (hi-lo)/slot+1)
	for _, t := range ts {
		counts[(minute(t)/slot*slot-lo)/slot]++
	}
	clock := func(m int) string { return time.Date(2000, 1, 1, m/60, m%60, 0, 0, time.UTC).Format("15:04") }
	out := make([]SlotCount, len(counts))
	for i, n := range counts {
		start := lo + i*slot
		out[i] = SlotCount{Start: clock(start), End: clock((start + slot) % (24 * 60)), Count: n}
	}
	return out, slot
}
