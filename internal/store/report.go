package store

import (
	"context"
	"strings"
	"time"

	"relais/internal/model"
)

// RegistrationTimes returns when each of an event's registrations was made (every
// status), oldest first, and when each admitted person came in: among the confirmed, as
// the funnel counts them, so that one admitted and cancelled afterwards is not an
// admission against no confirmed seat (no-shows would read too few).
func (s *Store) RegistrationTimes(ctx context.Context, eventID int64) (registered, admitted []time.Time, err error) {
	var rows []struct {
		CreatedAt   time.Time
		CheckedInAt *time.Time
		Status      model.RegistrationStatus
	}
	err = s.r(ctx).Model(&model.Registration{}).Select("created_at, checked_in_at, status").
		Where("event_id = ?", eventID).Order("created_at, id").Scan(&rows).Error
	if err != nil {
		return nil, nil, wrap(err, "registration times")
	}
	registered = make([]time.Time, 0, len(rows))
	for _, r := range rows {
		registered = append(registered, r.CreatedAt)
		if r.CheckedInAt != nil && r.Status == model.RegConfirmed {
			admitted = append(admitted, *r.CheckedInAt)
		}
	}
	return registered, admitted, nil
}

// PlatformCount is how many of an event's confirmed registrants publish on a platform,
// how many of them came, and the followers those who came declared there.
type PlatformCount struct {
	Platform  string `json:"platform"`
	Confirmed int64  `json:"confirmed"`
	Admitted  int64  `json:"admitted"`
	Followers int64  `json:"followers"`
}

// AttendeePlatforms counts the platforms of an event's confirmed registrants (from
// their contact's channels), the most represented first.
func (s *Store) AttendeePlatforms(ctx context.Context, eventID int64) ([]PlatformCount, error) {
	var out []PlatformCount
	err := s.r(ctx).Table("registrations r").Joins("JOIN contact_channels ch ON ch.contact_id = r.contact_id").
		Select("ch.platform AS platform, COUNT(DISTINCT r.id) AS confirmed, "+
			"COUNT(DISTINCT CASE WHEN r.checked_in_at IS NOT NULL THEN r.id END) AS admitted, "+
			"COALESCE(SUM(CASE WHEN r.checked_in_at IS NOT NULL THEN ch.followers ELSE 0 END), 0) AS followers").
		Where("r.event_id = ? AND r.status = ?", eventID, model.RegConfirmed).
		Group("ch.platform").Order("admitted DESC, confirmed DESC, platform").Scan(&out).Error
	return out, wrap(err, "attendee platforms")
}

// DoorScans is what one door (a staff member or a door link, on one device) did.
type DoorScans struct {
	ActorName string `json:"actor_name"`
	Device    string `json:"device"`
	Admitted  int64  `json:"admitted"`
	Scans     int64  `json:"scans"`
}

// ListDoorScans groups an event's admission scans by who scanned and on which device:
// the admissions they made ("ok") and every scan they sent.
func (s *Store) ListDoorScans(ctx context.Context, eventID int64) ([]DoorScans, error) {
	var out []DoorScans
	err := s.r(ctx).Table("check_ins").
		Select("actor_name, device, SUM(CASE WHEN result = 'ok' THEN 1 ELSE 0 END) AS admitted, COUNT(*) AS scans").
		Where("event_id = ? AND action = ?", eventID, "in").
		Group("actor_name, device").Order("admitted DESC, scans DESC, actor_name, device").Scan(&out).Error
	return out, wrap(err, "door counts")
}

// EngagementRow is one contact's history across every event.
type EngagementRow struct {
	ContactID  int64  `json:"contact_id"`
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	Email      string `json:"email"`
	Outlet     string `json:"outlet"`
	City       string `json:"city"`
	Audience   int64  `json:"audience"`
	Invited    int64  `json:"invited"`
	Registered int64  `json:"registered"`
	Came       int64  `json:"came"`
	Published  int64  `json:"published"` // events they published about
	Items      int64  `json:"items"`     // coverage items, not rejected
	Reach      int64  `json:"reach"`
}

// Name is the contact's full name.
func (r *EngagementRow) Name() string { return strings.TrimSpace(r.FirstName + " " + r.LastName) }

// EngagementFilter narrows and pages ListEngagement.
type EngagementFilter struct {
	Query  string // folded name, email, outlet, city
	Limit  int
	Offset int
}

// ListEngagement ranks the contacts who were invited, registered or published at
// least once: those who published about the most events first, then those who came
// the most, then reach and invitations. Erased contacts are left out.
func (s *Store) ListEngagement(ctx context.Context, f EngagementFilter) ([]EngagementRow, int64, error) {
	q := s.r(ctx).Table("contacts c").
		Joins("LEFT JOIN (SELECT contact_id, COUNT(*) AS n FROM invitations WHERE status <> 'revoked' GROUP BY contact_id) i ON i.contact_id = c.id").
		Joins("LEFT JOIN (SELECT contact_id, COUNT(*) AS registered, " +
			"SUM(CASE WHEN checked_in_at IS NOT NULL THEN 1 ELSE 0 END) AS came FROM registrations " +
			"WHERE status IN ('confirmed', 'waitlisted', 'pending', 'cancelled') GROUP BY contact_id) r ON r.contact_id = c.id").
		Joins("LEFT JOIN (SELECT contact_id, COUNT(DISTINCT event_id) AS published, COUNT(*) AS items, " +
			"SUM(reach) AS reach FROM coverages WHERE status <> 'rejected' GROUP BY contact_id) v ON v.contact_id = c.id").
		Where("c.erased_at IS NULL AND (i.n IS NOT NULL OR r.registered IS NOT NULL OR v.items IS NOT NULL)")
	for _, term := range strings.Fields(model.FoldText(f.Query)) {
		q = q.Where("c.search_text LIKE ? ESCAPE '!'", "%"+likeEscape(term)+"%")
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count engagement")
	}
	q = q.Select("c.id AS contact_id, c.first_name, c.last_name, c.email, c.outlet, c.city, c.audience, " +
		"COALESCE(i.n, 0) AS invited, COALESCE(r.registered, 0) AS registered, COALESCE(r.came, 0) AS came, " +
		"COALESCE(v.published, 0) AS published, COALESCE(v.items, 0) AS items, COALESCE(v.reach, 0) AS reach").
		Order("COALESCE(v.published, 0) DESC, COALESCE(r.came, 0) DESC, COALESCE(v.reach, 0) DESC, " +
			"COALESCE(i.n, 0) DESC, c.sort_name, c.id")
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	var rows []EngagementRow
	return rows, total, wrap(q.Scan(&rows).Error, "list engagement")
}
