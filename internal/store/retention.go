package store

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"relais/internal/model"
)

// AnonymisedName is what a contact anonymised by the retention rule is called.
const AnonymisedName = "Anonyme"

// AnonymisedEmail is the address an anonymised contact keeps: unique, undeliverable
// (.invalid is reserved), and distinct from an erasure asked for by an organizer.
func AnonymisedEmail(id int64) string {
	return "anon-" + strconv.FormatInt(id, 10) + "@erased.invalid"
}

// ExpiredEventIDs returns the events that ended before cutoff, oldest first.
func (s *Store) ExpiredEventIDs(ctx context.Context, cutoff time.Time) ([]int64, error) {
	var ids []int64
	err := s.r(ctx).Model(&model.Event{}).Where("ends_at < ?", dbTime(cutoff)).Order("ends_at, id").Pluck("id", &ids).Error
	return ids, wrap(err, "list expired events")
}

// ClearEventPersonalData removes what people wrote from an event's registrations (the
// answers to its questions, a rejection's reason) and invitations (the personal note,
// the reason for declining). Status, source, times and check-ins stay: every count and
// report of the event is the same afterwards. It returns how many rows it changed; a
// second call changes none.
func (s *Store) ClearEventPersonalData(ctx context.Context, eventID int64) (registrations, invitations int64, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		res := tx.db.Model(&model.Registration{}).
			Where("event_id = ? AND (answers <> ? OR reject_reason <> ?)", eventID, "{}", "").
			Updates(map[string]any{"answers": "{}", "reject_reason": ""})
		if res.Error != nil {
			return res.Error
		}
		registrations = res.RowsAffected
		res = tx.db.Model(&model.Invitation{}).
			Where("event_id = ? AND (note <> ? OR decline_reason <> ?)", eventID, "", "").
			Updates(map[string]any{"note": "", "decline_reason": ""})
		invitations = res.RowsAffected
		return res.Error
	})
	return registrations, invitations, wrap(err, "clear event personal data")
}

// retentionCandidates selects the contacts not yet erased who registered for an event
// that ended before cutoff and show no sign of life since: no registration, invitation
// or coverage for an event still within retention, no consent given and no change made
// to their card after cutoff.
func (s *Store) retentionCandidates(q *gorm.DB, cutoff time.Time) *gorm.DB {
	cutoff = dbTime(cutoff)
	recent := func(table string) string {
		return "NOT EXISTS (SELECT 1 FROM " + table + " x JOIN events e ON e.id = x.event_id WHERE x.contact_id = c.id AND e.ends_at >= @cutoff)"
	}
	return q.Table("contacts c").
		Where("c.erased_at IS NULL").
		Where("EXISTS (SELECT 1 FROM registrations r JOIN events e ON e.id = r.event_id WHERE r.contact_id = c.id AND e.ends_at < @cutoff)", map[string]any{"cutoff": cutoff}).
		Where(recent("registrations"), map[string]any{"cutoff": cutoff}).
		Where(recent("invitations"), map[string]any{"cutoff": cutoff}).
		Where(recent("coverages"), map[string]any{"cutoff": cutoff}).
		Where("(c.consent_at IS NULL OR c.consent_at < @cutoff) AND c.updated_at < @cutoff", map[string]any{"cutoff": cutoff})
}

// RetentionCandidates returns up to limit contacts that the retention rule anonymises at
// cutoff (see retentionCandidates), lowest id first.
func (s *Store) RetentionCandidates(ctx context.Context, cutoff time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.retentionCandidates(s.r(ctx), cutoff).Order("c.id").Limit(limit).Pluck("c.id", &ids).Error
	return ids, wrap(err, "list retention candidates")
}

// AnonymiseContact erases a contact as EraseContact does (identity, details, notes,
// channels, tags, answers, emails) and names it AnonymisedName, if it is still a
// retention candidate at cutoff once locked: a person who registered again in the
// meantime keeps their data. It reports whether the contact was anonymised.
func (s *Store) AnonymiseContact(ctx context.Context, id int64, cutoff time.Time, newToken string) (bool, error) {
	done := false
	err := s.Tx(ctx, func(tx *Store) error {
		q := tx.db
		if tx.Driver == "postgres" {
			// Registering locks the contact's row too (the upsert): one of the two waits.
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "c"}})
		}
		var ids []int64
		if err := tx.retentionCandidates(q, cutoff).Where("c.id = ?", id).Pluck("c.id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := tx.EraseContact(ctx, id, newToken); err != nil {
			return err
		}
		c := model.Contact{ID: id, Email: AnonymisedEmail(id), FirstName: AnonymisedName}
		c.RefreshSearch()
		err := tx.db.Model(&model.Contact{}).Where("id = ?", id).Updates(map[string]any{
			"email": c.Email, "first_name": c.FirstName, "last_name": "", "search_text": c.SearchText,
			"sort_name": c.SortName}).Error
		if err != nil {
			return err
		}
		if err := tx.db.Model(&model.Message{}).Where("contact_id = ? AND to_email = ?", id, ErasedEmail(id)).
			Updates(map[string]any{"to_email": c.Email, "to_name": AnonymisedName}).Error; err != nil {
			return err
		}
		done = true
		return nil
	})
	return done, wrap(err, "anonymise contact")
}
