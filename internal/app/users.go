package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"relais/internal/model"
)

// argon2id parameters (RFC 9106's second recommendation, lighter memory): ~60-180 ms here.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// HashPassword returns an argon2id PHC string with the default cost.
func HashPassword(pw string) string { return hashPasswordWith(pw, argonMemory) }

// hashPassword hashes with the configured memory cost.
func (a *App) hashPassword(pw string) string {
	m := uint32(a.Config.PasswordMemoryKiB)
	if m == 0 {
		m = argonMemory
	}
	return hashPasswordWith(pw, m)
}

func hashPasswordWith(pw string, memory uint32) string {
	salt := []byte(NewToken())[:16]
	key := idKey([]byte(pw), salt, argonTime, memory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", memory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword compares pw with an argon2id PHC string in constant time.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := idKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is compared against when an account does not exist, so that timing does
// not reveal which addresses have accounts.
func (a *App) dummyHash() string {
	a.dummy.Do(func() { a.dummyValue = a.hashPassword("relais-dummy-password") })
	return a.dummyValue
}

// ValidatePassword checks a new password: long enough, not too long, not common.
func ValidatePassword(pw string) string {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return "error.password_short"
	case len(pw) > 200:
		return "error.too_long"
	case isCommonPassword(pw):
		return "error.password_common"
	}
	return ""
}

// UserInput is the editable part of a staff account.
type UserInput struct {
	Email    string
	Name     string
	Role     model.Role
	Lang     string
	Password string // empty on edit: unchanged
}

func (in *UserInput) validate(requirePassword bool) *model.Error {
	f := map[string]string{}
	in.Email = model.NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	if in.Email == "" {
		f["email"] = "error.required"
	} else if !model.ValidEmail(in.Email) {
		f["email"] = "error.email"
	}
	if in.Name == "" {
		f["name"] = "error.required"
	} else if utf8.RuneCountInString(in.Name) > model.MaxShortText {
		f["name"] = "error.too_long"
	}
	if !in.Role.Valid() {
		f["role"] = "error.choice"
	}
	if in.Lang == "" {
		in.Lang = "fr"
	} else if in.Lang != "fr" && in.Lang != "en" {
		f["lang"] = "error.choice"
	}
	if in.Password != "" || requirePassword {
		if msg := ValidatePassword(in.Password); msg != "" {
			f["password"] = msg
		}
	}
	if len(f) > 0 {
		return model.FieldErrors(f)
	}
	return nil
}

// CreateUser adds a staff account.
func (a *App) CreateUser(ctx context.Context, actor Actor, in UserInput) (*model.User, error) {
	if err := in.validate(true); err != nil {
		return nil, err
	}
	u := &model.User{Email: in.Email, Name: in.Name, Role: in.Role, Lang: in.Lang, PasswordHash: a.hashPassword(in.Password)}
	if err := a.Store.CreateUser(ctx, u); err != nil {
		if model.ErrorCode(err) == model.EConflict {
			return nil, model.FieldErrors(map[string]string{"email": "error.email_taken"})
		}
		return nil, err
	}
	a.audit(ctx, a.Store, actor, "user.create", "user", u.ID, nil, u.Email+" ("+string(u.Role)+")")
	return u, nil
}

// UpdateUser edits a staff account. A role change or a new password ends the user's
// sessions, so that the new rights apply at once; a new password revokes the user's API
// tokens too.
func (a *App) UpdateUser(ctx context.Context, actor Actor, id int64, in UserInput) (*model.User, error) {
	if err := in.validate(false); err != nil {
		return nil, err
	}
	u, err := a.Store.FindUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Role == model.RoleAdmin && in.Role != model.RoleAdmin && u.DisabledAt == nil {
		if n, err := a.Store.CountActiveAdmins(ctx); err != nil {
			return nil, err
		} else if n <= 1 {
			return nil, model.FieldErrors(map[string]string{"role": "error.last_admin"})
		}
	}
	endSessions := u.Role != in.Role || in.Password != ""
	u.Email, u.Name, u.Role, u.Lang = in.Email, in.Name, in.Role, in.Lang
	if in.Password != "" {
		u.PasswordHash = a.hashPassword(in.Password)
	}
	err = a.Store.UpdateUser(ctx, u)
	a.forgetAPITokens() // the role a token carries may have changed
	if err != nil {
		if model.ErrorCode(err) == model.EConflict {
			return nil, model.FieldErrors(map[string]string{"email": "error.email_taken"})
		}
		return nil, err
	}
	switch {
	case in.Password != "":
		// A password set by an administrator is often the answer to a lost or stolen
		// one: whoever held the account may have made an API token, as after a reset.
		if err := a.Store.EndUserAccess(ctx, u.ID, a.Now()); err != nil {
			return nil, err
		}
		a.forgetAPITokens()
	case endSessions:
		if err := a.Store.EndUserSessions(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	a.audit(ctx, a.Store, actor, "user.update", "user", u.ID, nil, u.Email+" ("+string(u.Role)+")")
	return u, nil
}

// SetUserDisabled disables or enables an account. Disabling ends its sessions and
// revokes its API tokens at once.
func (a *App) SetUserDisabled(ctx context.Context, actor Actor, id int64, disabled bool) error {
	u, err := a.Store.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	if disabled {
		if actor.UserID != nil && *actor.UserID == id {
			return model.Errorf(model.EConflict, "error.disable_self")
		}
		if u.Role == model.RoleAdmin && u.DisabledAt == nil {
			if n, err := a.Store.CountActiveAdmins(ctx); err != nil {
				return err
			} else if n <= 1 {
				return model.Errorf(model.EConflict, "error.last_admin")
			}
		}
		now := a.Now()
		u.DisabledAt = &now
		err := a.Store.EndUserAccess(ctx, id, now)
		a.forgetAPITokens()
		if err != nil {
			return err
		}
	} else {
		u.DisabledAt = nil
	}
	err = a.Store.UpdateUser(ctx, u)
	a.forgetAPITokens()
	if err != nil {
		return err
	}
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	a.audit(ctx, a.Store, actor, action, "user", id, nil, u.Email)
	return nil
}

// Authenticate checks an email and password. It answers the same way, in about the same
// time, whether the account is missing, disabled or the password is wrong.
func (a *App) Authenticate(ctx context.Context, email, password string) (*model.User, error) {
	bad := model.Errorf(model.EUnauthorized, "error.login_failed")
	u, err := a.Store.FindUserByEmail(ctx, email)
	if err != nil {
		if model.ErrorCode(err) != model.ENotFound {
			return nil, err
		}
		CheckPassword(a.dummyHash(), password)
		return nil, bad
	}
	if !CheckPassword(u.PasswordHash, password) || !u.Active() {
		return nil, bad
	}
	if err := a.Store.TouchLogin(ctx, u.ID, a.Now()); err != nil {
		return nil, err
	}
	return u, nil
}

// NeedsSetup reports whether no active administrator exists yet.
func (a *App) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := a.Store.CountActiveAdmins(ctx)
	return n == 0, err
}

const setupKey = "setup_token_hash"

// SetupToken returns a new one-time setup token when no administrator exists, "" otherwise.
// Only its hash is kept; a new call replaces the previous token.
func (a *App) SetupToken(ctx context.Context) (string, error) {
	need, err := a.NeedsSetup(ctx)
	if err != nil || !need {
		return "", err
	}
	tok := a.Token()
	return tok, a.Store.SetValue(ctx, setupKey, HashToken(tok))
}

// ValidSetupToken reports whether tok is the live setup token.
func (a *App) ValidSetupToken(ctx context.Context, tok string) bool {
	h, ok, err := a.Store.GetValue(ctx, setupKey)
	return err == nil && ok && tok != "" && subtle.ConstantTimeCompare([]byte(h), []byte(HashToken(tok))) == 1
}

// Setup creates the first administrator with the one-time token; the token is spent.
func (a *App) Setup(ctx context.Context, tok string, in UserInput) (*model.User, error) {
	in.Role = model.RoleAdmin
	if err := in.validate(true); err != nil {
		return nil, err
	}
	if !a.ValidSetupToken(ctx, tok) {
		return nil, model.Errorf(model.EForbidden, "error.setup_token")
	}
	if need, err := a.NeedsSetup(ctx); err != nil {
		return nil, err
	} else if !need {
		return nil, model.Errorf(model.EForbidden, "error.setup_token")
	}
	spent, err := a.Store.DeleteValue(ctx, setupKey)
	if err != nil {
		return nil, err
	} else if !spent {
		return nil, model.Errorf(model.EForbidden, "error.setup_token")
	}
	return a.CreateUser(ctx, Actor{Name: "setup"}, in)
}

// CreateAPIToken makes a named token for a user and returns its only clear copy.
func (a *App) CreateAPIToken(ctx context.Context, actor Actor, userID int64, name string) (string, *model.APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, model.FieldErrors(map[string]string{"name": "error.required"})
	} else if utf8.RuneCountInString(name) > 100 {
		return "", nil, model.FieldErrors(map[string]string{"name": "error.too_long"})
	}
	u, err := a.Store.FindUserByID(ctx, userID)
	if err != nil {
		return "", nil, err
	} else if !u.Active() {
		return "", nil, model.Errorf(model.EConflict, "error.user_disabled")
	}
	clear := "rls_" + a.Token()
	t := &model.APIToken{UserID: userID, Name: name, TokenHash: HashToken(clear)}
	if err := a.Store.CreateAPIToken(ctx, t); err != nil {
		return "", nil, err
	}
	a.audit(ctx, a.Store, actor, "token.create", "api_token", t.ID, nil, name)
	return clear, t, nil
}

// apiTokenTTL bounds how long an instance trusts an API token it read. Revoking a
// token, or disabling or changing its user, forgets the tokens on this instance at
// once; another instance refuses a revoked token within this delay.
const apiTokenTTL = 2 * time.Second

// cachedAPIToken is a token and its user as UserForAPIToken read them.
type cachedAPIToken struct {
	token model.APIToken
	user  model.User
}

// UserForAPIToken returns the active user behind a bearer token.
func (a *App) UserForAPIToken(ctx context.Context, clear string) (*model.User, error) {
	if !strings.HasPrefix(clear, "rls_") {
		return nil, model.Errorf(model.EUnauthorized, "error.bad_token")
	}
	// A door scanning with a token sends it with every scan: the read is kept
	// apiTokenTTL (credCache).
	key, now := sha256.Sum256([]byte(clear)), time.Now()
	e, ok, gen := a.apiTokens.get(key, now)
	if !ok {
		t, u, err := a.Store.FindAPITokenByHash(ctx, hex.EncodeToString(key[:]))
		if err != nil {
			return nil, model.Errorf(model.EUnauthorized, "error.bad_token")
		}
		e = cachedAPIToken{token: *t, user: *u}
		a.apiTokens.keep(key, e, gen, now, apiTokenTTL)
	}
	if !e.user.Active() {
		return nil, model.Errorf(model.EUnauthorized, "error.bad_token")
	}
	// The last use is written at most once a minute (TouchAPIToken's rule, checked
	// here first): a door scanning with a token queues no empty write per scan on
	// SQLite's single writer.
	if at := a.Now(); e.token.LastUsedAt == nil || e.token.LastUsedAt.Before(at.Add(-time.Minute)) {
		_ = a.Store.TouchAPIToken(ctx, e.token.ID, at)
		a.apiTokens.update(key, func(c *cachedAPIToken) { c.token.LastUsedAt = &at })
	}
	u := e.user
	return &u, nil
}

// RevokeAPIToken revokes one of a user's tokens; this instance refuses it at once.
func (a *App) RevokeAPIToken(ctx context.Context, actor Actor, userID, id int64) error {
	err := a.Store.RevokeAPIToken(ctx, userID, id, a.Now())
	a.forgetAPITokens()
	if err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "token.revoke", "api_token", id, nil, "")
	return nil
}

// forgetAPITokens drops the API tokens this instance keeps: a token was revoked, or
// a user changed (role, account disabled), and the tokens read before may say otherwise.
func (a *App) forgetAPITokens() { a.apiTokens.forget(nil) }
