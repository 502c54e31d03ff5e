package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
)

func (s *Server) handleUsers(c echo.Context) error {
	users, err := s.app.Store.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	p := s.page(c, "users.title")
	p.Nav = "users"
	p.Data["Users"] = users
	return s.render(c, http.StatusOK, "users", p)
}

func (s *Server) userForm(c echo.Context, u *model.User, in *app.UserInput, err *model.Error) *Page {
	p := s.page(c, "users.new")
	p.Nav = "users"
	p.Data["Target"] = u
	if u != nil {
		p.Title = u.Name
		p.Form.Values = map[string]string{"email": u.Email, "name": u.Name, "role": string(u.Role), "lang": u.Lang}
	} else {
		p.Form.Values = map[string]string{"role": string(model.RoleOrganizer), "lang": langOf(c)}
	}
	if in != nil {
		p.Form.Values = map[string]string{"email": in.Email, "name": in.Name, "role": string(in.Role), "lang": in.Lang}
	}
	if err != nil {
		p.Form.Errors = err.Fields
		p.Form.Error = p.T(err.Message)
	}
	return p
}

func bindUser(c echo.Context) app.UserInput {
	return app.UserInput{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: model.Role(c.FormValue("role")),
		Lang: c.FormValue("lang"), Password: c.FormValue("password")}
}

func (s *Server) handleUserNew(c echo.Context) error {
	return s.render(c, http.StatusOK, "user_form", s.userForm(c, nil, nil, nil))
}

func (s *Server) handleUserCreate(c echo.Context) error {
	in := bindUser(c)
	if _, err := s.app.CreateUser(c.Request().Context(), actor(c), in); err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			return s.render(c, http.StatusUnprocessableEntity, "user_form", s.userForm(c, nil, &in, me))
		}
		return err
	}
	s.flash(c, "ok", "users.created")
	return s.redirect(c, "/admin/users")
}

func (s *Server) targetUser(c echo.Context) (*model.User, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.app.Store.FindUserByID(c.Request().Context(), id)
}

func (s *Server) handleUserEdit(c echo.Context) error {
	u, err := s.targetUser(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "user_form", s.userForm(c, u, nil, nil))
}

func (s *Server) handleUserUpdate(c echo.Context) error {
	u, err := s.targetUser(c)
	if err != nil {
		return err
	}
	in := bindUser(c)
	if _, err := s.app.UpdateUser(c.Request().Context(), actor(c), u.ID, in); err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			return s.render(c, http.StatusUnprocessableEntity, "user_form", s.userForm(c, u, &in, me))
		}
		return err
	}
	s.flash(c, "ok", "users.saved")
	return s.redirect(c, "/admin/users")
}

func (s *Server) handleUserDisable(c echo.Context) error { return s.setDisabled(c, true) }
func (s *Server) handleUserEnable(c echo.Context) error  { return s.setDisabled(c, false) }

func (s *Server) setDisabled(c echo.Context, disabled bool) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.app.SetUserDisabled(c.Request().Context(), actor(c), id, disabled); err != nil {
		if model.ErrorCode(err) == model.EConflict {
			s.flash(c, "error", model.ErrorMessage(err))
			return s.redirect(c, "/admin/users")
		}
		return err
	}
	msg := "users.enabled"
	if disabled {
		msg = "users.disabled"
	}
	s.flash(c, "ok", msg)
	return s.redirect(c, "/admin/users/"+strconv.FormatInt(id, 10))
}

// handleAccount shows the signed-in user's own page: API tokens.
func (s *Server) handleAccount(c echo.Context) error {
	u := currentUser(c)
	tokens, err := s.app.Store.ListAPITokens(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	p := s.page(c, "account.title")
	p.Nav = "account"
	p.Data["Tokens"] = tokens
	if t, ok := c.Get("new_token").(string); ok {
		p.Data["NewToken"] = t
	}
	return s.render(c, http.StatusOK, "account", p)
}

func (s *Server) handleCreateToken(c echo.Context) error {
	u := currentUser(c)
	clear, _, err := s.app.CreateAPIToken(c.Request().Context(), actor(c), u.ID, c.FormValue("name"))
	if err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			s.flash(c, "error", me.Fields["name"])
			return s.redirect(c, "/admin/account")
		}
		return err
	}
	// The clear token is shown once, on this response, never stored.
	c.Set("new_token", clear)
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.handleAccount(c)
}

func (s *Server) handleRevokeToken(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.app.RevokeAPIToken(c.Request().Context(), actor(c), currentUser(c).ID, id); err != nil {
		return err
	}
	s.flash(c, "ok", "account.token_revoked")
	return s.redirect(c, "/admin/account")
}
