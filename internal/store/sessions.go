package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"relais/internal/model"
)

// SessionStore keeps scs sessions in the database, so that they survive a restart and
// are shared by every instance. It implements scs.Store and scs.CtxStore.
//
// An ended session is not deleted: its row is marked ended (ended_at) and kept for
// endedSessionKept. With an idle timeout, scs saves every session a request loaded
// again when the request ends, and saving is an upsert; had the row been deleted, a
// request that loaded the session just before its user signed out (everywhere) or
// reset the password would write it back, and a stolen cookie would keep working.
// The upsert leaves a marked row alone, and finding a session skips it.
//
// A mark on the row rather than a per-user "sessions valid after" time or generation:
// a time would be written by one instance and compared with a session's start written
// by another, with another clock, and the start would have to travel in scs's encoded
// data, which the store does not read; a generation kept in the row is lost with the
// row when it is deleted, so the row has to stay anyway, and then the mark alone
// suffices. It needs no clock and no per-user state, and both databases apply it
// atomically: the upsert either finds the marked row (PostgreSQL locks it and checks
// the condition against its latest version, SQLite has one writer) or commits first
// and is marked after. Deleting a session's row would give up this guarantee: sessions
// end with DeleteCtx, EndUserSessions or EndUserAccess, which mark them.
type SessionStore struct {
	s *Store
	// UserIDOf extracts the signed-in user from encoded session data, so that a user's
	// sessions can be ended (disable, sign out everywhere).
	UserIDOf func(data []byte) *int64
}

// endedSessionKept is how long an ended session's row stays: longer than any request
// runs, so that a request that loaded the session before it ended still finds the mark
// when it saves.
const endedSessionKept = time.Hour

// Sessions returns the session store.
func (s *Store) Sessions(userIDOf func([]byte) *int64) *SessionStore {
	return &SessionStore{s: s, UserIDOf: userIDOf}
}

func (ss *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row sessionRow
	err := ss.s.r(ctx).Where("token = ? AND expiry > ? AND ended_at IS NULL", token, ss.s.Now()).First(&row).Error
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
		Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "sessions.ended_at IS NULL"}}},
	}).Create(&row).Error
	return wrap(err, "save session")
}

// DeleteCtx ends a session (sign-out, a new token at sign-in, a session that no longer
// grants anything).
func (ss *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return wrap(ss.s.endSessions(ctx, ss.s.Now(), "token = ?", token), "delete session")
}

func (ss *SessionStore) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}
func (ss *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}
func (ss *SessionStore) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

// EndUserAccess ends every session of a user and revokes the user's API tokens, at once
// (sign out everywhere, password reset, disabling): whoever took a session may have made
// a token.
func (s *Store) EndUserAccess(ctx context.Context, userID int64, at time.Time) error {
	return s.Tx(ctx, func(tx *Store) error {
		if err := tx.endSessions(ctx, at, "user_id = ?", userID); err != nil {
			return wrap(err, "end sessions")
		}
		return wrap(tx.w(ctx).Model(&model.APIToken{}).Where("user_id = ? AND revoked_at IS NULL", userID).
			Update("revoked_at", at).Error, "revoke tokens")
	})
}

// endSessions marks the sessions that match where as ended at at (see SessionStore).
func (s *Store) endSessions(ctx context.Context, at time.Time, where string, args ...any) error {
	at = at.UTC()
	return s.w(ctx).Table("sessions").Where("ended_at IS NULL").Where(where, args...).
		Updates(map[string]any{"ended_at": at, "expiry": at.Add(endedSessionKept)}).Error
}

// DeleteExpiredSessions removes expired sessions, and ended ones once they are kept no more.
func (s *Store) DeleteExpiredSessions(ctx context.Context) error {
	return wrap(s.w(ctx).Where("expiry <= ?", s.Now()).Delete(&sessionRow{}).Error, "delete expired sessions")
}
