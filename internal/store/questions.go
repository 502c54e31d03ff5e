package store

import (
	"context"
	"time"

	"relais/internal/model"
)

// ListQuestions returns an event's custom questions in order.
func (s *Store) ListQuestions(ctx context.Context, eventID int64) ([]model.Question, error) {
	var qs []model.Question
	err := s.r(ctx).Where("event_id = ?", eventID).Order("position, id").Find(&qs).Error
	return qs, wrap(err, "list questions")
}

// AddQuestion appends a question at the end of the form.
func (s *Store) AddQuestion(ctx context.Context, q *model.Question) error {
	return s.Tx(ctx, func(tx *Store) error {
		var max *int
		if err := tx.db.Model(&model.Question{}).Where("event_id = ?", q.EventID).Select("MAX(position)").Scan(&max).Error; err != nil {
			return wrap(err, "add question")
		}
		q.Position = 1
		if max != nil {
			q.Position = *max + 1
		}
		return wrap(tx.db.Create(q).Error, "add question")
	})
}

// UpdateQuestion saves a question of the event.
func (s *Store) UpdateQuestion(ctx context.Context, q *model.Question) error {
	res := s.w(ctx).Model(&model.Question{}).Where("id = ? AND event_id = ?", q.ID, q.EventID).
		Updates(map[string]any{"label": q.Label, "help": q.Help, "kind": q.Kind, "required": q.Required, "options": q.Options})
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "update question")
}

// DeleteQuestion removes a question of the event.
func (s *Store) DeleteQuestion(ctx context.Context, eventID, id int64) error {
	res := s.w(ctx).Where("id = ? AND event_id = ?", id, eventID).Delete(&model.Question{})
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "delete question")
}

// MoveQuestion swaps a question with its neighbour (dir -1 up, +1 down).
func (s *Store) MoveQuestion(ctx context.Context, eventID, id int64, dir int) error {
	return s.Tx(ctx, func(tx *Store) error {
		qs, err := tx.ListQuestions(ctx, eventID)
		if err != nil {
			return err
		}
		for i := range qs {
			if qs[i].ID != id {
				continue
			}
			j := i + dir
			if j < 0 || j >= len(qs) {
				return nil
			}
			qs[i], qs[j] = qs[j], qs[i]
			for k := range qs {
				if err := tx.db.Model(&model.Question{}).Where("id = ?", qs[k].ID).Update("position", k+1).Error; err != nil {
					return wrap(err, "move question")
				}
			}
			return nil
		}
		return model.ErrNotFound
	})
}

// FindInvitationByToken returns the invitation with that token, or ENotFound.
func (s *Store) FindInvitationByToken(ctx context.Context, tok string) (*model.Invitation, error) {
	var inv model.Invitation
	return &inv, wrap(s.r(ctx).Where("token = ?", tok).First(&inv).Error, "find invitation")
}

// MarkInvitationAnswered records an accept or decline.
func (s *Store) MarkInvitationAnswered(ctx context.Context, id int64, status, reason string, at time.Time) error {
	err := s.w(ctx).Model(&model.Invitation{}).Where("id = ?", id).
		Updates(map[string]any{"status": status, "decline_reason": reason, "responded_at": at, "updated_at": at}).Error
	return wrap(err, "answer invitation")
}
