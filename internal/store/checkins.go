package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"relais/internal/model"
)

// Admission at the door: every change of a registration's checked_in_at is one
// conditional UPDATE, so that two doors scanning the same ticket at once cannot both
// admit it, and every scan is one row of the check-in log, keyed by its nonce.

// RosterEntry is a registration as the door sees it: the person, the ticket and the
// platform they mostly publish on.
type RosterEntry struct {
	RegistrationRow
	Platform string
}

// FindRosterEntry returns one registration with its contact and main platform.
func (s *Store) FindRosterEntry(ctx context.Context, id int64) (*RosterEntry, error) {
	var rows []RegistrationRow
	err := s.r(ctx).Table("registrations r").Joins("JOIN contacts c ON c.id = r.contact_id").Where("r.id = ?", id).
		Select("r.*, c.email, c.first_name, c.last_name, c.phone, c.outlet, c.city").Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, wrap(err, "find registration")
	}
	if len(rows) == 0 {
		return nil, model.ErrNotFound
	}
	out := []RosterEntry{{RegistrationRow: rows[0]}}
	return &out[0], s.AddPlatforms(ctx, rows[0].EventID, out)
}

// AddPlatforms fills the Platform of each entry: the contact's channel with the most
// followers (the first one on a tie).
func (s *Store) AddPlatforms(ctx context.Context, eventID int64, entries []RosterEntry) error {
	if len(entries) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, e.ContactID)
	}
	var chans []model.ContactChannel
	q := s.r(ctx).Select("contact_id, platform, followers, id").Order("contact_id, followers DESC, id")
	if len(entries) > 200 {
		// A whole roster: ask by event rather than with thousands of parameters.
		q = q.Where("contact_id IN (SELECT contact_id FROM registrations WHERE event_id = ?)", eventID)
	} else {
		q = q.Where("contact_id IN ?", ids)
	}
	if err := q.Find(&chans).Error; err != nil {
		return wrap(err, "list platforms")
	}
	main := map[int64]string{}
	for _, ch := range chans {
		if _, seen := main[ch.ContactID]; !seen {
			main[ch.ContactID] = ch.Platform
		}
	}
	for i := range entries {
		entries[i].Platform = main[entries[i].ContactID]
	}
	return nil
}

// ShareLockEvent takes, inside a transaction on PostgreSQL, a key-share lock on the
// event. Logging a scan takes it anyway (the log's foreign key), but after the
// registration's row; taking it first makes a check-in wait for a transaction that
// holds the event's lock (a registration, a cancellation, a walk-in) before it locks
// any registration, never in the opposite order, which could deadlock. Concurrent
// check-ins do not wait for each other: key-share locks do not conflict.
func (s *Store) ShareLockEvent(ctx context.Context, eventID int64) error {
	if s.Driver != "postgres" || !s.inTx {
		return nil // SQLite: immediate transactions, one writer
	}
	return wrap(s.w(ctx).Exec("SELECT id FROM events WHERE id = ? FOR KEY SHARE", eventID).Error, "lock event")
}

// FindCheckInByNonce returns the log row of a scan, or ENotFound.
func (s *Store) FindCheckInByNonce(ctx context.Context, nonce string) (*model.CheckIn, error) {
	var ci model.CheckIn
	return &ci, wrap(s.r(ctx).Where("nonce = ?", nonce).Take(&ci).Error, "find check-in")
}

// AddCheckIn appends a row to the check-in log; a nonce already used is an EConflict.
func (s *Store) AddCheckIn(ctx context.Context, ci *model.CheckIn) error {
	return wrap(s.w(ctx).Create(ci).Error, "add check-in")
}

// AdmitRegistration marks a confirmed registration that is not checked in yet as
// checked in. It reports false, changing nothing, when another scan was first or the
// registration is not confirmed (any more).
func (s *Store) AdmitRegistration(ctx context.Context, id int64, at time.Time, by, device string) (bool, error) {
	res := s.w(ctx).Model(&model.Registration{}).
		Where("id = ? AND status = ? AND checked_in_at IS NULL", id, model.RegConfirmed).
		UpdateColumns(map[string]any{"checked_in_at": at, "checked_in_by": by, "checked_in_device": device, "updated_at": s.Now()})
	return res.RowsAffected == 1, wrap(res.Error, "admit registration")
}

// MoveAdmissionEarlier gives the admission of a checked-in registration to an earlier
// scan (offline doors: the earliest scan wins). It reports false when the stored
// admission is not later than at.
func (s *Store) MoveAdmissionEarlier(ctx context.Context, id int64, at time.Time, by, device string) (bool, error) {
	res := s.w(ctx).Model(&model.Registration{}).
		Where("id = ? AND status = ? AND checked_in_at > ?", id, model.RegConfirmed, at).
		UpdateColumns(map[string]any{"checked_in_at": at, "checked_in_by": by, "checked_in_device": device, "updated_at": s.Now()})
	return res.RowsAffected == 1, wrap(res.Error, "move admission")
}

// UndoAdmission clears the admission of a registration of the event. It reports false
// when the registration was not checked in.
func (s *Store) UndoAdmission(ctx context.Context, eventID, id int64) (bool, error) {
	res := s.w(ctx).Model(&model.Registration{}).
		Where("id = ? AND event_id = ? AND checked_in_at IS NOT NULL", id, eventID).
		UpdateColumns(map[string]any{"checked_in_at": nil, "checked_in_by": "", "checked_in_device": "", "updated_at": s.Now()})
	return res.RowsAffected == 1, wrap(res.Error, "undo admission")
}

// FlagSupersededAdmission marks the log row of a registration's current admission as
// a conflict that lost to an earlier scan: a retry of that scan is then answered
// already_checked_in at the winner's time and door. Call it before logging the winner.
func (s *Store) FlagSupersededAdmission(ctx context.Context, regID int64, winnerAt time.Time, winnerBy string) error {
	var ci model.CheckIn
	err := s.w(ctx).Where("registration_id = ? AND action = ? AND answer = ?", regID, "in", "ok").
		Order("id DESC").Take(&ci).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil // admitted before the log kept answers: nothing to flag
	} else if err != nil {
		return wrap(err, "find admission")
	}
	err = s.w(ctx).Model(&model.CheckIn{}).Where("id = ?", ci.ID).UpdateColumns(map[string]any{
		"result": "conflict", "answer": "already_checked_in", "answer_at": winnerAt, "answer_by": winnerBy}).Error
	return wrap(err, "flag admission")
}

// CheckInRow is a line of the check-in log with the person's name.
type CheckInRow struct {
	model.CheckIn
	FirstName string
	LastName  string
}

// ListCheckIns returns an event's check-in log, newest first; onlyConflicts keeps the
// scans that collided with another door's.
func (s *Store) ListCheckIns(ctx context.Context, eventID int64, onlyConflicts bool, limit int) ([]CheckInRow, error) {
	q := s.r(ctx).Table("check_ins ci").
		Joins("LEFT JOIN registrations r ON r.id = ci.registration_id").
		Joins("LEFT JOIN contacts c ON c.id = r.contact_id").
		Where("ci.event_id = ?", eventID)
	if onlyConflicts {
		q = q.Where("ci.result = ?", "conflict")
	}
	var rows []CheckInRow
	err := q.Select("ci.*, COALESCE(c.first_name, '') AS first_name, COALESCE(c.last_name, '') AS last_name").
		Order("ci.created_at DESC, ci.id DESC").Limit(limit).Scan(&rows).Error
	return rows, wrap(err, "list check-ins")
}

// DoorAdmissions is how many people one door admitted.
type DoorAdmissions struct {
	Name     string `json:"name"`
	Admitted int64  `json:"admitted"`
}

// AdmissionCounts returns how many people are checked in at an event, in all and per
// door (the staff member or door link that admitted them), busiest door first.
func (s *Store) AdmissionCounts(ctx context.Context, eventID int64) (int64, []DoorAdmissions, error) {
	var doors []DoorAdmissions
	err := s.r(ctx).Model(&model.Registration{}).Select("checked_in_by AS name, COUNT(*) AS admitted").
		Where("event_id = ? AND checked_in_at IS NOT NULL", eventID).Group("checked_in_by").
		Order("admitted DESC, name").Scan(&doors).Error
	var total int64
	for _, d := range doors {
		total += d.Admitted
	}
	return total, doors, wrap(err, "count admissions")
}

// CountAdmittedByDevice counts the people of an event admitted from one device.
func (s *Store) CountAdmittedByDevice(ctx context.Context, eventID int64, device string) (int64, error) {
	var n int64
	err := s.r(ctx).Model(&model.Registration{}).
		Where("event_id = ? AND checked_in_at IS NOT NULL AND checked_in_device = ?", eventID, device).Count(&n).Error
	return n, wrap(err, "count admissions")
}

// CreateDoorLink inserts a door link.
func (s *Store) CreateDoorLink(ctx context.Context, d *model.DoorLink) error {
	return wrap(s.w(ctx).Create(d).Error, "create door link")
}

// ListDoorLinks returns an event's door links, newest first.
func (s *Store) ListDoorLinks(ctx context.Context, eventID int64) ([]model.DoorLink, error) {
	var ds []model.DoorLink
	return ds, wrap(s.r(ctx).Where("event_id = ?", eventID).Order("created_at DESC, id DESC").Find(&ds).Error, "list door links")
}

// FindDoorLink returns a door link of an event, or ENotFound.
func (s *Store) FindDoorLink(ctx context.Context, eventID, id int64) (*model.DoorLink, error) {
	var d model.DoorLink
	return &d, wrap(s.r(ctx).Where("id = ? AND event_id = ?", id, eventID).Take(&d).Error, "find door link")
}

// RevokeDoorLink ends a door link of an event at once (revoking twice keeps the first time).
func (s *Store) RevokeDoorLink(ctx context.Context, eventID, id int64, at time.Time) error {
	res := s.w(ctx).Model(&model.DoorLink{}).Where("id = ? AND event_id = ?", id, eventID).
		Where("revoked_at IS NULL").UpdateColumn("revoked_at", at)
	if res.Error != nil {
		return wrap(res.Error, "revoke door link")
	}
	if res.RowsAffected == 0 {
		_, err := s.FindDoorLink(ctx, eventID, id)
		return err
	}
	return nil
}
