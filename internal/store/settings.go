package store

import (
	"context"

	"relais/internal/model"
)

// GetSettings returns the organization's settings, with defaults if none were saved.
func (s *Store) GetSettings(ctx context.Context, defaults model.Settings) (*model.Settings, error) {
	var st model.Settings
	err := s.r(ctx).Limit(1).Find(&st).Error
	if err != nil {
		return nil, wrap(err, "get settings")
	}
	if st.ID == 0 {
		d := defaults
		return &d, nil
	}
	return &st, nil
}

// SaveSettings stores the single settings row.
func (s *Store) SaveSettings(ctx context.Context, st *model.Settings) error {
	st.ID = 1
	return wrap(s.w(ctx).Save(st).Error, "save settings")
}

// AddAudit records a staff action.
func (s *Store) AddAudit(ctx context.Context, e *model.AuditEntry) error {
	return wrap(s.w(ctx).Create(e).Error, "add audit entry")
}

// ListAudit returns the latest audit entries, newest first.
func (s *Store) ListAudit(ctx context.Context, eventID int64, limit int) ([]model.AuditEntry, error) {
	var es []model.AuditEntry
	q := s.r(ctx).Order("id DESC").Limit(limit)
	if eventID > 0 {
		q = q.Where("event_id = ?", eventID)
	}
	return es, wrap(q.Find(&es).Error, "list audit")
}
