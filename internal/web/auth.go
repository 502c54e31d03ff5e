package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
)

const loginWindow = 15 * time.Minute

// loginFailures reads how many failed sign-ins a key has had recently, and the last one.
func (s *Server) loginFailures(ctx context.Context, key string, now time.Time) (int, time.Time) {
	v, found, err := s.app.Store.GetValue(ctx, "lastfail:"+key)
	if err != nil || !found {
		return 0, time.Time{}
	}
	n, ts, _ := strings.Cut(v, "|")
	failures, err1 := strconv.Atoi(n)
	last, err2 := time.Parse(time.RFC3339Nano, ts)
	if err1 != nil || err2 != nil || now.Sub(last) > loginWindow {
		return 0, time.Time{}
	}
	return failures, last
}

// loginDelay is how long an attempt must wait after the previous failure: none after
// the first three failures, then 1 s, 2 s, 4 s… capped at the window.
func loginDelay(failures int) time.Duration {
	if failures < 3 {
		return 0
	}
	d := time.Second << min(failures-3, 10)
	return min(d, loginWindow)
}

func (s *Server) handleLoginForm(c echo.Context) error {
	if currentUser(c) != nil {
		return s.redirect(c, "/admin")
	}
	p := s.page(c, "login.title")
	p.Form.Values["next"] = safeNext(c.QueryParam("next"))
	p.NoIndex = true
	return s.render(c, http.StatusOK, "login", p)
}

// handleLogin signs a staff member in. Failures are counted per address and per account
// in the database (shared by every instance); the message never says which part was wrong.
func (s *Server) handleLogin(c echo.Context) error {
	ctx := c.Request().Context()
	email := model.NormalizeEmail(c.FormValue("email"))
	password := c.FormValue("password")
	p := s.page(c, "login.title")
	p.NoIndex = true
	p.Form.Values["email"] = email
	p.Form.Values["next"] = safeNext(c.FormValue("next"))
	keys := []string{"login:ip:" + rateAddress(c), "login:account:" + email}
	now := s.app.Now()
	for _, key := range keys {
		ok, wait, err := s.app.Store.HitRateLimit(ctx, key, s.cfg.LoginRate, loginWindow)
		if err != nil {
			return err
		}
		if ok {
			// Growing delays: after a few failures, each attempt must wait longer after the
			// previous failure (1 s, 2 s, 4 s, … up to the window), so guessing slows down
			// long before the hard limit.
			if failures, last := s.loginFailures(ctx, key, now); failures > 0 {
				if until := last.Add(loginDelay(failures)); now.Before(until) {
					ok, wait = false, until.Sub(now)
				}
			}
		}
		if !ok {
			secs := int(math.Ceil(wait.Seconds()))
			c.Response().Header().Set("Retry-After", fmt.Sprint(secs))
			if wait < time.Minute {
				p.Form.Error = s.i18n.N(langOf(c), "login.slow_down", secs)
			} else {
				p.Form.Error = s.i18n.N(langOf(c), "login.rate_limited", int(math.Ceil(wait.Minutes())))
			}
			return s.render(c, http.StatusTooManyRequests, "login", p)
		}
	}
	u, err := s.app.Authenticate(ctx, email, password)
	if model.ErrorCode(err) == model.EUnauthorized {
		for _, key := range keys {
			failures, _ := s.loginFailures(ctx, key, now)
			_ = s.app.Store.SetValue(ctx, "lastfail:"+key, fmt.Sprintf("%d|%s", failures+1, now.Format(time.RFC3339Nano)))
		}
		p.Form.Error = p.T("error.login_failed")
		return s.render(c, http.StatusUnauthorized, "login", p)
	} else if err != nil {
		return err
	}
	_ = s.app.Store.ResetRateLimit(ctx, "login:account:"+email)
	_, _ = s.app.Store.DeleteValue(ctx, "lastfail:login:account:"+email)
	// A new session id at login defeats session fixation.
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, "user_id", u.ID)
	s.sessions.Put(ctx, "role", string(u.Role))
	return s.redirect(c, p.Form.Values["next"])
}

func (s *Server) handleLogout(c echo.Context) error {
	if err := s.sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	return s.redirect(c, "/login")
}

func (s *Server) handleSetupForm(c echo.Context) error {
	ctx := c.Request().Context()
	tok := c.QueryParam("token")
	if !s.app.ValidSetupToken(ctx, tok) {
		return model.Errorf(model.EForbidden, "error.setup_token")
	}
	p := s.page(c, "setup.title")
	p.NoIndex = true
	p.Form.Values["token"] = tok
	p.Form.Values["lang"] = langOf(c)
	return s.render(c, http.StatusOK, "setup", p)
}

func (s *Server) handleSetup(c echo.Context) error {
	ctx := c.Request().Context()
	in := app.UserInput{Email: c.FormValue("email"), Name: c.FormValue("name"), Password: c.FormValue("password"),
		Lang: c.FormValue("lang")}
	tok := c.FormValue("token")
	u, err := s.app.Setup(ctx, tok, in)
	if err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			p := s.page(c, "setup.title")
			p.NoIndex = true
			p.Form.Values = map[string]string{"token": tok, "email": in.Email, "name": in.Name, "lang": in.Lang}
			p.Form.Errors = me.Fields
			p.Form.Error = p.T(me.Message)
			return s.render(c, http.StatusUnprocessableEntity, "setup", p)
		}
		return err
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, "user_id", u.ID)
	s.sessions.Put(ctx, "role", string(u.Role))
	s.flash(c, "ok", "setup.done")
	return s.redirect(c, "/admin")
}

// handleLang switches the language and keeps the choice in a cookie for a year.
func (s *Server) handleLang(c echo.Context) error {
	lang := c.QueryParam("l")
	if lang != "fr" && lang != "en" {
		return model.Errorf(model.EBadRequest, "error.bad_request")
	}
	c.SetCookie(&http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure})
	return s.redirect(c, localPath(c.QueryParam("next"), "/"))
}
