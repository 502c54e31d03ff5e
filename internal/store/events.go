package store

import (
	"context"
	"strings"
	"time"

	"relais/internal/model"
)

// CreateEvent inserts an event; a taken slug is an EConflict.
func (s *Store) CreateEvent(ctx context.Context, e *model.Event) error {
	return wrap(s.w(ctx).Create(e).Error, "create event")
}

// UpdateEvent saves every field of e.
func (s *Store) UpdateEvent(ctx context.Context, e *model.Event) error {
	return wrap(s.w(ctx).Save(e).Error, "update event")
}

// FindEventByID returns the event or ENotFound.
func (s *Store) FindEventByID(ctx context.Context, id int64) (*model.Event, error) {
	var e model.Event
	return &e, wrap(s.r(ctx).First(&e, id).Error, "find event")
}

// FindEventBySlug returns the event or ENotFound.
func (s *Store) FindEventBySlug(ctx context.Context, slug string) (*model.Event, error) {
	var e model.Event
	return &e, wrap(s.r(ctx).Where("slug = ?", slug).First(&e).Error, "find event")
}

// SlugTaken reports whether another event than exceptID uses slug.
func (s *Store) SlugTaken(ctx context.Context, slug string, exceptID int64) (bool, error) {
	var n int64
	err := s.r(ctx).Model(&model.Event{}).Where("slug = ? AND id <> ?", slug, exceptID).Count(&n).Error
	return n > 0, wrap(err, "check slug")
}

// EventFilter narrows ListEvents.
type EventFilter struct {
	Statuses []model.EventStatus
	EndsFrom *time.Time // only events ending at or after this time
	EndsTo   *time.Time // only events ending before this time
	Query    string     // in title
	Desc     bool
	Limit    int
	Offset   int
}

// ListEvents returns events by start time.
func (s *Store) ListEvents(ctx context.Context, f EventFilter) ([]model.Event, error) {
	q := s.r(ctx).Model(&model.Event{})
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if f.EndsFrom != nil {
		q = q.Where("ends_at >= ?", *f.EndsFrom)
	}
	if f.EndsTo != nil {
		q = q.Where("ends_at < ?", *f.EndsTo)
	}
	if f.Query != "" {
		q = q.Where("LOWER(title) LIKE ?", "%"+escapeLike(f.Query)+"%")
	}
	order := "starts_at, id"
	if f.Desc {
		order = "starts_at DESC, id DESC"
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	var es []model.Event
	return es, wrap(q.Order(order).Find(&es).Error, "list events")
}

// ListAgenda returns an event's agenda in order.
func (s *Store) ListAgenda(ctx context.Context, eventID int64) ([]model.AgendaItem, error) {
	var items []model.AgendaItem
	err := s.r(ctx).Where("event_id = ?", eventID).Order("position, id").Find(&items).Error
	return items, wrap(err, "list agenda")
}

// AddAgendaItem appends an item at the end of the agenda.
func (s *Store) AddAgendaItem(ctx context.Context, a *model.AgendaItem) error {
	return s.Tx(ctx, func(tx *Store) error {
		var max *int
		if err := tx.db.Model(&model.AgendaItem{}).Where("event_id = ?", a.EventID).Select("MAX(position)").Scan(&max).Error; err != nil {
			return wrap(err, "add agenda item")
		}
		a.Position = 1
		if max != nil {
			a.Position = *max + 1
		}
		return wrap(tx.db.Create(a).Error, "add agenda item")
	})
}

// UpdateAgendaItem saves an item of the event.
func (s *Store) UpdateAgendaItem(ctx context.Context, a *model.AgendaItem) error {
	res := s.w(ctx).Model(&model.AgendaItem{}).Where("id = ? AND event_id = ?", a.ID, a.EventID).
		Updates(map[string]any{"start_time": a.StartTime, "title": a.Title, "speaker": a.Speaker})
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "update agenda item")
}

// DeleteAgendaItem removes an item of the event.
func (s *Store) DeleteAgendaItem(ctx context.Context, eventID, id int64) error {
	res := s.w(ctx).Where("id = ? AND event_id = ?", id, eventID).Delete(&model.AgendaItem{})
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "delete agenda item")
}

// MoveAgendaItem swaps an item with its neighbour (dir -1 up, +1 down).
func (s *Store) MoveAgendaItem(ctx context.Context, eventID, id int64, dir int) error {
	return s.Tx(ctx, func(tx *Store) error {
		items, err := tx.ListAgenda(ctx, eventID)
		if err != nil {
			return err
		}
		for i := range items {
			if items[i].ID != id {
				continue
			}
			j := i + dir
			if j < 0 || j >= len(items) {
				return nil
			}
			items[i], items[j] = items[j], items[i]
			for k := range items {
				if err := tx.db.Model(&model.AgendaItem{}).Where("id = ?", items[k].ID).Update("position", k+1).Error; err != nil {
					return wrap(err, "move agenda item")
				}
			}
			return nil
		}
		return model.ErrNotFound
	})
}

// ListDocuments returns an event's documents without their bytes.
func (s *Store) ListDocuments(ctx context.Context, eventID int64) ([]model.Document, error) {
	var ds []model.Document
	err := s.r(ctx).Select("id, event_id, name, content_type, size, created_at").
		Where("event_id = ?", eventID).Order("id").Find(&ds).Error
	return ds, wrap(err, "list documents")
}

// AddDocument stores a document with its bytes.
func (s *Store) AddDocument(ctx context.Context, d *model.Document) error {
	return wrap(s.w(ctx).Create(d).Error, "add document")
}

// FindDocument returns a document of the event with its bytes.
func (s *Store) FindDocument(ctx context.Context, eventID, id int64) (*model.Document, error) {
	var d model.Document
	return &d, wrap(s.r(ctx).Where("id = ? AND event_id = ?", id, eventID).First(&d).Error, "find document")
}

// DeleteDocument removes a document of the event.
func (s *Store) DeleteDocument(ctx context.Context, eventID, id int64) error {
	res := s.w(ctx).Where("id = ? AND event_id = ?", id, eventID).Delete(&model.Document{})
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "delete document")
}

func escapeLike(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '%' || r == '_' {
			continue
		}
		out = append(out, r)
	}
	return strings.ToLower(string(out))
}
