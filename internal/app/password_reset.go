package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"relais/internal/model"
	"relais/internal/store"
)

// PasswordResetTTL is how long a reset link works.
const PasswordResetTTL = time.Hour

func resetKey(tok string) string { return "pwreset:" + HashToken(tok) }

// RequestPasswordReset emails a single-use reset link when the address belongs to an
// active account. It answers the same way whether or not it does, so that nobody can
// learn which addresses have accounts.
func (a *App) RequestPasswordReset(ctx context.Context, email string) error {
	email = model.NormalizeEmail(email)
	if !model.ValidEmail(email) {
		return model.FieldErrors(map[string]string{"email": "error.email"})
	}
	u, err := a.Store.FindUserByEmail(ctx, email)
	if model.ErrorCode(err) == model.ENotFound || err == nil && !u.Active() {
		return nil
	} else if err != nil {
		return err
	}
	tok := a.Token()
	// Only the hash of the token is kept, with the user and the expiry.
	val := fmt.Sprintf("%d|%d", u.ID, a.Now().Add(PasswordResetTTL).Unix())
	if err := a.Store.SetValue(ctx, resetKey(tok), val); err != nil {
		return err
	}
	link := strings.TrimRight(a.Config.BaseURL, "/") + "/password/reset?token=" + tok
	if _, err := a.queueEmail(ctx, a.Store, Email{Kind: "password_reset", Lang: supportedLang(u.Lang), ToEmail: u.Email,
		ToName: u.Name, Key: "pwreset:" + HashToken(tok), Data: map[string]any{"Name": u.Name, "Link": link}}); err != nil {
		return err
	}
	a.audit(ctx, a.Store, Actor{UserID: &u.ID, Name: u.Name}, "user.password_reset_requested", "user", u.ID, nil, "")
	a.kick()
	return nil
}

// resetUser returns the user behind a live reset token.
func (a *App) resetUser(ctx context.Context, tok string) (*model.User, error) {
	bad := model.Errorf(model.EForbidden, "error.reset_token")
	if len(tok) < 20 || len(tok) > 64 {
		return nil, bad
	}
	val, ok, err := a.Store.GetValue(ctx, resetKey(tok))
	if err != nil {
		return nil, err
	} else if !ok {
		return nil, bad
	}
	parts := strings.SplitN(val, "|", 2)
	id, _ := strconv.ParseInt(parts[0], 10, 64)
	exp, _ := strconv.ParseInt(parts[len(parts)-1], 10, 64)
	if a.Now().Unix() > exp {
		_, _ = a.Store.DeleteValue(ctx, resetKey(tok))
		return nil, bad
	}
	u, err := a.Store.FindUserByID(ctx, id)
	if err != nil || !u.Active() {
		return nil, bad
	}
	return u, nil
}

// ValidResetToken reports whether tok may still be used.
func (a *App) ValidResetToken(ctx context.Context, tok string) bool {
	_, err := a.resetUser(ctx, tok)
	return err == nil
}

// ResetPassword sets a new password with a reset token, spends the token, ends every
// session of the user and revokes the user's API tokens: whoever knew the old password
// may have signed in and made one.
func (a *App) ResetPassword(ctx context.Context, tok, password string) (*model.User, error) {
	if msg := ValidatePassword(password); msg != "" {
		return nil, model.FieldErrors(map[string]string{"password": msg})
	}
	u, err := a.resetUser(ctx, tok)
	if err != nil {
		return nil, err
	}
	spent, err := a.Store.DeleteValue(ctx, resetKey(tok))
	if err != nil {
		return nil, err
	} else if !spent {
		return nil, model.Errorf(model.EForbidden, "error.reset_token")
	}
	u.PasswordHash = a.hashPassword(password)
	err = a.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return tx.EndUserAccess(ctx, u.ID, a.Now())
	})
	a.forgetAPITokens()
	if err != nil {
		return nil, err
	}
	a.audit(ctx, a.Store, Actor{UserID: &u.ID, Name: u.Name}, "user.password_reset", "user", u.ID, nil, "")
	return u, nil
}

// SignOutEverywhere ends every session of a user (the current one included) and
// revokes the user's API tokens: a lost device may hold both.
func (a *App) SignOutEverywhere(ctx context.Context, u *model.User) error {
	err := a.Store.EndUserAccess(ctx, u.ID, a.Now())
	a.forgetAPITokens()
	if err != nil {
		return err
	}
	a.audit(ctx, a.Store, UserActor(u), "user.sign_out_everywhere", "user", u.ID, nil, "")
	return nil
}
