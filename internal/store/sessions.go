package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SessionStore keeps scs sessions in the database, so that they survive a restart and
// are shared by every instance. It implements scs.Store and scs.CtxStore.
type SessionStore struct {
	s *Store
	// UserIDOf extracts the signed-in user from encoded session data, so that a user's
	// sessions can be ended (disable, sign out everywhere).
	UserIDOf func(data []byte) *int64
}

// Sessions returns the session store.
func (s *Store) Sessions(userIDOf func([]byte) *int64) *SessionStore {
	return &SessionStore{s: s, UserIDOf: userIDOf}
}

func (ss *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row sessionRow
	err := ss.s.r(ctx).Where("token = ? AND expiry > ?", token, ss.s.Now()).First(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, wrap(err, "find session")
	}
	return row.Data, true, nil
}

func (ss *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := sessionRow{Token: token, Data: b, Expiry: expiry.UTC()}
	if ss.UserIDOf != nil {
		row.UserID = ss.UserIDOf(b)
	}
	err := ss.s.w(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry", "user_id"}),
	}).Create(&row).Error
	return wrap(err, "save session")
}

func (ss *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return wrap(ss.s.w(ctx).Where("token = ?", token).Delete(&sessionRow{}).Error, "delete session")
}

func (ss *SessionStore) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}
func (ss *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}
func (ss *SessionStore) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

// DeleteExpiredSessions removes expired sessions.
func (s *Store) DeleteExpiredSessions(ctx context.Context) error {
	return wrap(s.w(ctx).Where("expiry <= ?", s.Now()).Delete(&sessionRow{}).Error, "delete expired sessions")
}
