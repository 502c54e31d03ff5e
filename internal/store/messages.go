package store

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"relais/internal/model"
)

// maxLastError keeps last_error inside its column (2,000 characters) whatever the driver counts.
const maxLastError = 1900

// EnqueueMessage puts m and its attachments in the outbox, queued for now unless
// m.NextAttemptAt says later. The idempotency key makes it safe to call twice: the second
// call stores nothing and returns created=false. Either way m.ID is the stored message's id.
// Call it inside Tx with the change that causes the email, so both commit or neither does.
func (s *Store) EnqueueMessage(ctx context.Context, m *model.Message) (created bool, err error) {
	if m.IdempotencyKey == "" {
		return false, model.Errorf(model.EInvalid, "store: message has no idempotency key")
	}
	if m.ToEmail == "" {
		return false, model.Errorf(model.EInvalid, "store: message has no recipient")
	}
	now := s.now()
	m.ID = 0
	m.Status = model.MessageQueued
	m.Attempts = 0
	m.ClaimedUntil, m.SentAt = nil, nil
	m.LastError = ""
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = now
	}
	m.NextAttemptAt = dbTime(m.NextAttemptAt)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	err = s.Tx(ctx, func(tx *Store) error {
		res := tx.db.Omit(clause.Associations).
			Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "idempotency_key"}}, DoNothing: true}).
			Create(m)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var existing model.Message
			if err := tx.db.Select("id", "status").Where("idempotency_key = ?", m.IdempotencyKey).
				Take(&existing).Error; err != nil {
				return err
			}
			m.ID, m.Status = existing.ID, existing.Status
			return nil
		}
		created = true
		for i := range m.Attachments {
			a := &m.Attachments[i]
			a.ID, a.MessageID = 0, m.ID
			if a.Data == nil {
				a.Data = []byte{}
			}
			if err := tx.db.Create(a).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, wrap(err, "queue message")
	}
	return created, nil
}

// ClaimMessages hands up to limit due messages to one worker for lease: queued messages
// whose time has come, and messages left "sending" by a worker whose lease ran out (it
// crashed). Claimed messages are "sending", their attempt counted, and come with their
// attachments. On PostgreSQL rows locked by another claimer are skipped, so several
// instances share the queue without taking the same message.
func (s *Store) ClaimMessages(ctx context.Context, limit int, lease time.Duration) ([]model.Message, error) {
	if limit <= 0 {
		limit = 1
	}
	now := s.now()
	lock := ""
	if s.Driver == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	query := `UPDATE messages SET status = ?, claimed_until = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM messages
	WHERE (status = ? AND next_attempt_at <= ?) OR (status = ? AND claimed_until <= ?)
	ORDER BY next_attempt_at, id LIMIT ?` + lock + `)
RETURNING id`
	var msgs []model.Message
	err := s.Tx(ctx, func(tx *Store) error {
		var ids []int64
		err := tx.db.Raw(query, model.MessageSending, now.Add(lease), model.MessageQueued, now,
			model.MessageSending, now, limit).Scan(&ids).Error
		if err != nil || len(ids) == 0 {
			return err
		}
		return tx.db.Preload("Attachments", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).
			Where("id IN ?", ids).Order("next_attempt_at, id").Find(&msgs).Error
	})
	return msgs, wrap(err, "claim messages")
}

// ReleaseMessages gives claimed messages that were not sent back to the queue, without
// counting the attempt: a worker that stops does this so a restart sends them at once.
func (s *Store) ReleaseMessages(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.w(ctx).Model(&model.Message{}).Where("id IN ? AND status = ?", ids, model.MessageSending).
		Updates(map[string]any{"status": model.MessageQueued, "claimed_until": nil,
			"attempts": gorm.Expr("CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END")}).Error
	return wrap(err, "release messages")
}

// MarkMessageSent records that the server accepted the message at at.
func (s *Store) MarkMessageSent(ctx context.Context, id int64, at time.Time) error {
	res := s.w(ctx).Model(&model.Message{}).Where("id = ?", id).
		Updates(map[string]any{"status": model.MessageSent, "sent_at": dbTime(at), "claimed_until": nil, "last_error": ""})
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "mark message sent")
}

// MarkMessageRetry puts a message that failed for now back in the queue for next. It
// does nothing when the message is no longer being sent (an admin cancelled it meanwhile).
func (s *Store) MarkMessageRetry(ctx context.Context, id int64, errText string, next time.Time) error {
	err := s.w(ctx).Model(&model.Message{}).Where("id = ? AND status = ?", id, model.MessageSending).
		Updates(map[string]any{"status": model.MessageQueued, "next_attempt_at": dbTime(next),
			"claimed_until": nil, "last_error": clip(errText)}).Error
	return wrap(err, "mark message for retry")
}

// MarkMessageFailed gives up on a message, keeping why (the server's answer) for the admin.
func (s *Store) MarkMessageFailed(ctx context.Context, id int64, errText string) error {
	err := s.w(ctx).Model(&model.Message{}).
		Where("id = ? AND status IN ?", id, []model.MessageStatus{model.MessageSending, model.MessageQueued}).
		Updates(map[string]any{"status": model.MessageFailed, "claimed_until": nil, "last_error": clip(errText)}).Error
	return wrap(err, "mark message failed")
}

// CancelMessage stops a message that is queued or failed from being sent.
func (s *Store) CancelMessage(ctx context.Context, id int64) error {
	return s.moveMessage(ctx, id, "cancel message", "mail.error.cannot_cancel",
		[]model.MessageStatus{model.MessageQueued, model.MessageFailed},
		map[string]any{"status": model.MessageCancelled, "claimed_until": nil})
}

// RetryMessageNow queues a failed message (or one waiting for its next attempt) for now,
// with a fresh count of attempts: the admin's "retry" button.
func (s *Store) RetryMessageNow(ctx context.Context, id int64) error {
	return s.moveMessage(ctx, id, "retry message", "mail.error.cannot_retry",
		[]model.MessageStatus{model.MessageFailed, model.MessageQueued},
		map[string]any{"status": model.MessageQueued, "next_attempt_at": s.now(), "attempts": 0, "claimed_until": nil})
}

// moveMessage applies changes when the message is in one of from; ENotFound when there is
// no such message, EConflict (with msgKey) when it is in another state.
func (s *Store) moveMessage(ctx context.Context, id int64, what, msgKey string, from []model.MessageStatus, changes map[string]any) error {
	res := s.w(ctx).Model(&model.Message{}).Where("id = ? AND status IN ?", id, from).Updates(changes)
	if res.Error != nil {
		return wrap(res.Error, what)
	}
	if res.RowsAffected > 0 {
		return nil
	}
	var n int64
	if err := s.r(ctx).Model(&model.Message{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return wrap(err, what)
	}
	if n == 0 {
		return model.ErrNotFound
	}
	return &model.Error{Code: model.EConflict, Message: msgKey}
}

// MessageFilter narrows ListMessages. Zero fields do not filter.
type MessageFilter struct {
	Status  model.MessageStatus
	EventID *int64
	Query   string // in the recipient's address or name, or the subject
	Limit   int
	Offset  int
}

// ListMessages returns the outbox newest first, without bodies or attachments, and how
// many messages match in all.
func (s *Store) ListMessages(ctx context.Context, f MessageFilter) ([]model.Message, int64, error) {
	q := s.r(ctx).Model(&model.Message{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.EventID != nil {
		q = q.Where("event_id = ?", *f.EventID)
	}
	if f.Query != "" {
		like := "%" + escapeLike(f.Query) + "%"
		q = q.Where("LOWER(to_email) LIKE ? OR LOWER(to_name) LIKE ? OR LOWER(subject) LIKE ?", like, like, like)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count messages")
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	// Every column but the bodies, which lists never show.
	columns := []string{"id", "kind", "idempotency_key", "to_email", "to_name", "from_email",
		"from_name", "reply_to", "subject", "lang", "status", "attempts", "next_attempt_at",
		"claimed_until", "last_error", "sent_at", "event_id", "contact_id", "campaign_id", "created_at"}
	var ms []model.Message
	err := q.Select(columns).Order("created_at DESC, id DESC").Find(&ms).Error
	return ms, total, wrap(err, "list messages")
}

// FindMessage returns a message with its bodies and attachments, or ENotFound.
func (s *Store) FindMessage(ctx context.Context, id int64) (*model.Message, error) {
	var m model.Message
	err := s.r(ctx).Preload("Attachments", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).
		First(&m, id).Error
	return &m, wrap(err, "find message")
}

// FindAttachment returns one attachment of a message, or ENotFound.
func (s *Store) FindAttachment(ctx context.Context, messageID, attID int64) (*model.Attachment, error) {
	var a model.Attachment
	err := s.r(ctx).Where("id = ? AND message_id = ?", attID, messageID).Take(&a).Error
	return &a, wrap(err, "find attachment")
}

// CountMessagesByStatus counts the outbox by status, for one event when eventID is given.
func (s *Store) CountMessagesByStatus(ctx context.Context, eventID *int64) (map[model.MessageStatus]int64, error) {
	q := s.r(ctx).Model(&model.Message{})
	if eventID != nil {
		q = q.Where("event_id = ?", *eventID)
	}
	var rows []struct {
		Status model.MessageStatus
		N      int64
	}
	if err := q.Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, wrap(err, "count messages")
	}
	out := make(map[model.MessageStatus]int64, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// now reads the store's clock as the database keeps it.
func (s *Store) now() time.Time { return dbTime(s.Now()) }

// dbTime is t as stored: UTC (SQLite compares times as text) to the microsecond (PostgreSQL's precision).
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// clip shortens an error text to fit last_error, on a character boundary.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= maxLastError {
		return s
	}
	cut := maxLastError
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}
