package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"relais/internal/model"
)

// LockEvent reads an event and, inside a transaction on PostgreSQL, locks its row so
// that capacity decisions for the event are taken one at a time. (SQLite transactions
// are immediate: the single writer already serializes them.)
func (s *Store) LockEvent(ctx context.Context, id int64) (*model.Event, error) {
	var e model.Event
	q := s.w(ctx)
	if s.Driver == "postgres" && s.inTx {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return &e, wrap(q.First(&e, id).Error, "lock event")
}

// CountRegistrations counts an event's registrations by status.
func (s *Store) CountRegistrations(ctx context.Context, eventID int64) (map[model.RegistrationStatus]int64, error) {
	var rows []struct {
		Status model.RegistrationStatus
		N      int64
	}
	err := s.r(ctx).Model(&model.Registration{}).Select("status, COUNT(*) AS n").
		Where("event_id = ?", eventID).Group("status").Scan(&rows).Error
	out := map[model.RegistrationStatus]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, wrap(err, "count registrations")
}

// CountConfirmed counts the seats taken at an event.
func (s *Store) CountConfirmed(ctx context.Context, eventID int64) (int64, error) {
	var n int64
	err := s.r(ctx).Model(&model.Registration{}).Where("event_id = ? AND status = ?", eventID, model.RegConfirmed).Count(&n).Error
	return n, wrap(err, "count confirmed")
}

// CreateRegistration inserts a registration.
func (s *Store) CreateRegistration(ctx context.Context, r *model.Registration) error {
	return wrap(s.w(ctx).Create(r).Error, "create registration")
}

// CreateRegistrationUnlessReferenceTaken inserts r unless its short reference is taken
// at its event, in one statement that leaves the transaction usable either way (a failed
// INSERT aborts a PostgreSQL transaction): created is false when it is taken. Any other
// clash (the contact already registered) is an error, as with CreateRegistration.
func (s *Store) CreateRegistrationUnlessReferenceTaken(ctx context.Context, r *model.Registration) (created bool, err error) {
	res := s.w(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "event_id"}, {Name: "reference"}},
		DoNothing: true}).Create(r)
	if res.Error != nil {
		return false, wrap(res.Error, "create registration")
	}
	if res.RowsAffected == 0 {
		r.ID = 0
		return false, nil
	}
	return true, nil
}

// SaveRegistration saves every field of a registration.
func (s *Store) SaveRegistration(ctx context.Context, r *model.Registration) error {
	return wrap(s.w(ctx).Save(r).Error, "save registration")
}

// FindRegistration returns a registration by id.
func (s *Store) FindRegistration(ctx context.Context, id int64) (*model.Registration, error) {
	var r model.Registration
	return &r, wrap(s.r(ctx).First(&r, id).Error, "find registration")
}

// FindRegistrationByToken returns the registration whose manage token is tok.
func (s *Store) FindRegistrationByToken(ctx context.Context, tok string) (*model.Registration, error) {
	var r model.Registration
	return &r, wrap(s.r(ctx).Where("manage_token = ?", tok).First(&r).Error, "find registration")
}

// FindRegistrationByCode returns the registration with that ticket code (any event).
func (s *Store) FindRegistrationByCode(ctx context.Context, code string) (*model.Registration, error) {
	var r model.Registration
	return &r, wrap(s.r(ctx).Where("ticket_code = ?", code).First(&r).Error, "find registration")
}

// FindRegistrationByReference returns an event's registration by short reference.
func (s *Store) FindRegistrationByReference(ctx context.Context, eventID int64, ref string) (*model.Registration, error) {
	var r model.Registration
	return &r, wrap(s.r(ctx).Where("event_id = ? AND reference = ?", eventID, ref).First(&r).Error, "find registration")
}

// FindRegistrationFor returns a contact's registration at an event, or ENotFound.
func (s *Store) FindRegistrationFor(ctx context.Context, eventID, contactID int64) (*model.Registration, error) {
	var r model.Registration
	err := s.r(ctx).Where("event_id = ? AND contact_id = ?", eventID, contactID).First(&r).Error
	return &r, wrap(err, "find registration")
}

// FirstWaitlisted returns the longest-waiting registration of the event, or ENotFound.
func (s *Store) FirstWaitlisted(ctx context.Context, eventID int64) (*model.Registration, error) {
	var r model.Registration
	err := s.r(ctx).Where("event_id = ? AND status = ?", eventID, model.RegWaitlisted).
		Order("waitlisted_at, id").First(&r).Error
	return &r, wrap(err, "first waitlisted")
}

// WaitlistPosition returns the 1-based position of a waitlisted registration.
func (s *Store) WaitlistPosition(ctx context.Context, r *model.Registration) (int64, error) {
	if r.Status != model.RegWaitlisted || r.WaitlistedAt == nil {
		return 0, nil
	}
	var n int64
	err := s.r(ctx).Model(&model.Registration{}).
		Where("event_id = ? AND status = ? AND (waitlisted_at < ? OR (waitlisted_at = ? AND id < ?))",
			r.EventID, model.RegWaitlisted, *r.WaitlistedAt, *r.WaitlistedAt, r.ID).Count(&n).Error
	return n + 1, wrap(err, "waitlist position")
}

// RegistrationRow is a registration with its contact, for lists and exports.
type RegistrationRow struct {
	model.Registration
	Email     string
	FirstName string
	LastName  string
	Phone     string
	Outlet    string
	City      string
}

// Name is the registrant's full name.
func (r *RegistrationRow) Name() string {
	return strings.TrimSpace(r.FirstName + " " + r.LastName)
}

// RegistrationFilter narrows ListRegistrations.
type RegistrationFilter struct {
	EventID   int64
	Status    model.RegistrationStatus
	Source    model.RegistrationSource
	CheckedIn *bool
	Query     string // name, email, outlet, reference
	Limit     int
	Offset    int
	Since     *time.Time // updated at or after (roster deltas)
}

// ListRegistrations returns an event's registrations joined with their contacts, with the total.
func (s *Store) ListRegistrations(ctx context.Context, f RegistrationFilter) ([]RegistrationRow, int64, error) {
	q := s.r(ctx).Table("registrations r").Joins("JOIN contacts c ON c.id = r.contact_id").Where("r.event_id = ?", f.EventID)
	if f.Status != "" {
		q = q.Where("r.status = ?", f.Status)
	}
	if f.Source != "" {
		q = q.Where("r.source = ?", f.Source)
	}
	if f.CheckedIn != nil {
		if *f.CheckedIn {
			q = q.Where("r.checked_in_at IS NOT NULL")
		} else {
			q = q.Where("r.checked_in_at IS NULL")
		}
	}
	if f.Since != nil {
		q = q.Where("r.updated_at >= ?", *f.Since)
	}
	if qs := strings.TrimSpace(strings.ToLower(f.Query)); qs != "" {
		// Names, email and outlet are matched word by word in the contact's folded search
		// text, as in the directory: without case or accents on both databases (SQLite's
		// LOWER folds ASCII only), so that "kossi" finds "Kossí" and "élodie" "Élodie".
		// A reference or a phone number is matched as typed.
		words, args := []string{}, []any{}
		for _, term := range strings.Fields(model.FoldText(qs)) {
			words = append(words, "c.search_text LIKE ? ESCAPE '!'")
			args = append(args, "%"+likeEscape(term)+"%")
		}
		if len(words) == 0 {
			words = append(words, "1 = 0")
		}
		args = append(args, strings.ReplaceAll(strings.ToUpper(qs), "-", ""), "%"+escapeLike(strings.ReplaceAll(qs, " ", ""))+"%")
		q = q.Where("("+strings.Join(words, " AND ")+") OR r.reference = ? OR c.phone LIKE ?", args...)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count registrations")
	}
	var rows []RegistrationRow
	q = q.Select("r.*, c.email, c.first_name, c.last_name, c.phone, c.outlet, c.city").Order("c.last_name, c.first_name, r.id")
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	return rows, total, wrap(q.Scan(&rows).Error, "list registrations")
}

// UpdateRegistrationDetails writes what a holder may change on their ticket page, the
// answers and, unless lang is empty, the language, and nothing else: the row may have
// been promoted, cancelled or checked in since the caller read it.
func (s *Store) UpdateRegistrationDetails(ctx context.Context, id int64, answers, lang string) error {
	cols := map[string]any{"answers": answers, "updated_at": s.now()}
	if lang != "" {
		cols["lang"] = lang
	}
	res := s.w(ctx).Model(&model.Registration{}).Where("id = ?", id).UpdateColumns(cols)
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "update registration details")
}
