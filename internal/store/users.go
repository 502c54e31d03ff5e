package store

import (
	"context"
	"time"

	"relais/internal/model"
)

// CreateUser inserts a staff account; a taken email is an EConflict.
func (s *Store) CreateUser(ctx context.Context, u *model.User) error {
	u.Email = model.NormalizeEmail(u.Email)
	return wrap(s.w(ctx).Create(u).Error, "create user")
}

// UpdateUser saves every field of u.
func (s *Store) UpdateUser(ctx context.Context, u *model.User) error {
	u.Email = model.NormalizeEmail(u.Email)
	return wrap(s.w(ctx).Save(u).Error, "update user")
}

// FindUserByID returns the user or ENotFound.
func (s *Store) FindUserByID(ctx context.Context, id int64) (*model.User, error) {
	var u model.User
	return &u, wrap(s.r(ctx).First(&u, id).Error, "find user")
}

// FindUserByEmail returns the user with that (normalised) email or ENotFound.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*model.User, error) {
	var u model.User
	err := s.r(ctx).Where("email = ?", model.NormalizeEmail(email)).First(&u).Error
	return &u, wrap(err, "find user")
}

// ListUsers returns every staff account, by name.
func (s *Store) ListUsers(ctx context.Context) ([]model.User, error) {
	var us []model.User
	return us, wrap(s.r(ctx).Order("name, id").Find(&us).Error, "list users")
}

// CountActiveAdmins counts administrators who may sign in.
func (s *Store) CountActiveAdmins(ctx context.Context) (int64, error) {
	var n int64
	err := s.r(ctx).Model(&model.User{}).Where("role = ? AND disabled_at IS NULL", model.RoleAdmin).Count(&n).Error
	return n, wrap(err, "count admins")
}

// TouchLogin records a successful sign-in.
func (s *Store) TouchLogin(ctx context.Context, id int64, at time.Time) error {
	return wrap(s.w(ctx).Model(&model.User{}).Where("id = ?", id).Update("last_login_at", at).Error, "touch login")
}

// CreateAPIToken stores a token (its hash only).
func (s *Store) CreateAPIToken(ctx context.Context, t *model.APIToken) error {
	return wrap(s.w(ctx).Create(t).Error, "create api token")
}

// TouchAPIToken records the last use of a token, at most once a minute to spare writes.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	err := s.w(ctx).Model(&model.APIToken{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, at.Add(-time.Minute)).
		Update("last_used_at", at).Error
	return wrap(err, "touch api token")
}

// ListAPITokens returns a user's tokens, newest first.
func (s *Store) ListAPITokens(ctx context.Context, userID int64) ([]model.APIToken, error) {
	var ts []model.APIToken
	return ts, wrap(s.r(ctx).Where("user_id = ?", userID).Order("id DESC").Find(&ts).Error, "list api tokens")
}

// RevokeAPIToken revokes one token of a user.
func (s *Store) RevokeAPIToken(ctx context.Context, userID, id int64, at time.Time) error {
	res := s.w(ctx).Model(&model.APIToken{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, userID).
		Update("revoked_at", at)
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "revoke api token")
}

// EndUserSessions ends every session of a user (a change of role or password), marking
// them as SessionStore does so that no request in flight brings one back.
func (s *Store) EndUserSessions(ctx context.Context, userID int64) error {
	return wrap(s.endSessions(ctx, s.Now(), "user_id = ?", userID), "end sessions")
}

// sessionRow is the sessions table, shared by scs.
type sessionRow struct {
	Token  string `gorm:"primaryKey"`
	Data   []byte
	Expiry time.Time
	UserID *int64
}

func (sessionRow) TableName() string { return "sessions" }
