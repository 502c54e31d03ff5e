package web

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"relais/internal/model"
	"relais/internal/store"
)

func (s *Server) handleHome(c echo.Context) error {
	ctx := c.Request().Context()
	now := s.app.Now()
	events, err := s.app.Store.ListEvents(ctx, store.EventFilter{
		Statuses: []model.EventStatus{model.EventPublished}, EndsFrom: &now, Limit: 50})
	if err != nil {
		return err
	}
	p := s.page(c, "home.title")
	p.Data["Events"] = events
	return s.render(c, http.StatusOK, "home", p)
}

// publicEvent finds an event the public may see; drafts and unknown slugs are 404.
func (s *Server) publicEvent(c echo.Context) (*model.Event, error) {
	e, err := s.app.Store.FindEventBySlug(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return nil, err
	}
	if !e.IsPublic() {
		// Organizers may preview their drafts.
		if u := currentUser(c); u == nil || !u.Role.AtLeast(model.RoleOrganizer) {
			return nil, model.ErrNotFound
		}
	}
	return e, nil
}

func (s *Server) handleEventPage(c echo.Context) error {
	ev, err := s.publicEvent(c)
	if err != nil {
		return err
	}
	p, err := s.registrationPage(c, ev, nil, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event", p)
}

// handleEventDocument serves a press-kit file as an attachment with its detected type.
func (s *Server) handleEventDocument(c echo.Context) error {
	e, err := s.publicEvent(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("doc"), 10, 64)
	if err != nil {
		return model.ErrNotFound
	}
	d, err := s.app.Store.FindDocument(c.Request().Context(), e.ID, id)
	if err != nil {
		return err
	}
	return sendFile(c, d.Name, d.ContentType, d.Data)
}

func sendFile(c echo.Context, name, contentType string, data []byte) error {
	h := c.Response().Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Content-Length", fmt.Sprint(len(data)))
	h.Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, contentType, data)
}
