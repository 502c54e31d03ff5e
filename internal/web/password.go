package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/model"
)

func (s *Server) handleForgotForm(c echo.Context) error {
	p := s.page(c, "password.forgot_title")
	p.NoIndex = true
	return s.render(c, http.StatusOK, "password_forgot", p)
}

// handleForgot sends a reset link if the address has an account, and always answers
// the same page.
func (s *Server) handleForgot(c echo.Context) error {
	ctx := c.Request().Context()
	if ok, wait, err := s.app.Store.HitRateLimit(ctx, "pwreset:ip:"+rateAddress(c), 5, 15*time.Minute); err != nil {
		return err
	} else if !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return model.Errorf(model.ERateLimited, "error.rate_limited")
	}
	email := c.FormValue("email")
	if err := s.app.RequestPasswordReset(ctx, email); err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			p := s.page(c, "password.forgot_title")
			p.NoIndex = true
			p.Form = Form{Values: map[string]string{"email": email}, Errors: me.Fields, Error: p.T(me.Message)}
			return s.render(c, http.StatusUnprocessableEntity, "password_forgot", p)
		}
		return err
	}
	p := s.page(c, "password.forgot_title")
	p.NoIndex = true
	p.Data["Sent"] = true
	return s.render(c, http.StatusOK, "password_forgot", p)
}

func (s *Server) handleResetForm(c echo.Context) error {
	tok := c.QueryParam("token")
	if !s.app.ValidResetToken(c.Request().Context(), tok) {
		return model.Errorf(model.EForbidden, "error.reset_token")
	}
	p := s.page(c, "password.reset_title")
	p.NoIndex = true
	p.Form.Values["token"] = tok
	return s.render(c, http.StatusOK, "password_reset", p)
}

func (s *Server) handleReset(c echo.Context) error {
	tok := c.FormValue("token")
	if _, err := s.app.ResetPassword(c.Request().Context(), tok, c.FormValue("password")); err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			p := s.page(c, "password.reset_title")
			p.NoIndex = true
			p.Form = Form{Values: map[string]string{"token": tok}, Errors: me.Fields, Error: p.T(me.Message)}
			return s.render(c, http.StatusUnprocessableEntity, "password_reset", p)
		}
		return err
	}
	p := s.page(c, "login.title")
	p.NoIndex = true
	p.Form.Values["next"] = "/admin"
	p.Data["ResetDone"] = true
	return s.render(c, http.StatusOK, "login", p)
}

// handleSignOutEverywhere ends every session of the signed-in user, this one included,
// and revokes the user's API tokens.
func (s *Server) handleSignOutEverywhere(c echo.Context) error {
	if err := s.app.SignOutEverywhere(c.Request().Context(), currentUser(c)); err != nil {
		return err
	}
	_ = s.sessions.Destroy(c.Request().Context())
	return s.redirect(c, "/login")
}

// handlePrivacy is the privacy notice, linked from every form that collects data.
func (s *Server) handlePrivacy(c echo.Context) error {
	p := s.page(c, "privacy.title")
	return s.render(c, http.StatusOK, "privacy", p)
}
