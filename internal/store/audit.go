package store

import (
	"context"

	"relais/internal/model"
)

// AuditFilter narrows and pages ListAuditEntries. An actor is a staff account
// (ActorID) or, for actions without one (the system, a ticket holder, the demo), a
// name (ActorName).
type AuditFilter struct {
	ActorID   int64
	ActorName string
	EventID   int64
	Limit     int
	Offset    int
}

// AuditRow is an audit entry with the title of its event, if any.
type AuditRow struct {
	model.AuditEntry
	EventTitle string
}

// ListAuditEntries returns a page of the audit log, newest first, and how many
// entries match in all.
func (s *Store) ListAuditEntries(ctx context.Context, f AuditFilter) ([]AuditRow, int64, error) {
	q := s.r(ctx).Table("audit_entries a").Joins("LEFT JOIN events e ON e.id = a.event_id")
	if f.ActorID > 0 {
		q = q.Where("a.actor_id = ?", f.ActorID)
	} else if f.ActorName != "" {
		q = q.Where("a.actor_id IS NULL AND a.actor_name = ?", f.ActorName)
	}
	if f.EventID > 0 {
		q = q.Where("a.event_id = ?", f.EventID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count audit")
	}
	q = q.Select("a.*, COALESCE(e.title, '') AS event_title").Order("a.created_at DESC, a.id DESC")
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	var rows []AuditRow
	return rows, total, wrap(q.Scan(&rows).Error, "list audit")
}

// AuditActor is someone who appears in the audit log.
type AuditActor struct {
	ActorID   *int64
	ActorName string
}

// ListAuditActors returns everyone who appears in the audit log: staff accounts under
// their current name, other actors under the name they were logged with.
func (s *Store) ListAuditActors(ctx context.Context) ([]AuditActor, error) {
	var users []AuditActor
	err := s.r(ctx).Table("users u").Select("u.id AS actor_id, u.name AS actor_name").
		Where("u.id IN (SELECT actor_id FROM audit_entries WHERE actor_id IS NOT NULL)").
		Order("u.name, u.id").Scan(&users).Error
	if err != nil {
		return nil, wrap(err, "list audit actors")
	}
	var others []string
	err = s.r(ctx).Model(&model.AuditEntry{}).Where("actor_id IS NULL").Distinct().
		Order("actor_name").Pluck("actor_name", &others).Error
	for _, n := range others {
		users = append(users, AuditActor{ActorName: n})
	}
	return users, wrap(err, "list audit actors")
}

// ListAuditEvents returns the events that appear in the audit log, latest first.
func (s *Store) ListAuditEvents(ctx context.Context) ([]model.Event, error) {
	var es []model.Event
	err := s.r(ctx).Select("id, title, slug, starts_at").
		Where("id IN (SELECT event_id FROM audit_entries WHERE event_id IS NOT NULL)").
		Order("starts_at DESC, id DESC").Find(&es).Error
	return es, wrap(err, "list audit events")
}
