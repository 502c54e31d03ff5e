package web

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
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
	ctx := c.Request().Context()
	e, err := s.publicEvent(c)
	if err != nil {
		return err
	}
	agenda, err := s.app.Store.ListAgenda(ctx, e.ID)
	if err != nil {
		return err
	}
	docs, err := s.app.Store.ListDocuments(ctx, e.ID)
	if err != nil {
		return err
	}
	p := s.page(c, e.Title)
	p.In(e.Timezone)
	p.Data["Event"] = e
	p.Data["Agenda"] = agenda
	p.Data["Documents"] = docs
	p.Data["Past"] = e.EndsAt.Before(s.app.Now())
	pageURL := s.cfg.BaseURL + "/e/" + e.Slug
	p.Data["URL"] = pageURL
	p.Data["WhatsApp"] = "https://wa.me/?text=" + url.QueryEscape(e.Title+" — "+p.Range(e.StartsAt, e.EndsAt)+" "+pageURL)
	desc := e.Summary
	if desc == "" {
		desc = e.Theme
	}
	p.Meta = map[string]string{
		"og:type": "website", "og:title": e.Title, "og:url": pageURL,
		"og:description": p.Range(e.StartsAt, e.EndsAt) + " · " + e.VenueName + ". " + desc,
		"og:image":       s.cfg.BaseURL + "/static/og.png", "twitter:card": "summary",
	}
	if !e.IsPublic() {
		p.NoIndex = true
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
