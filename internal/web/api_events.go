package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
)

// decodeJSON reads a JSON object body into v, refusing unknown fields.
func decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return &model.Error{Code: model.EBadRequest, Message: "error.json_empty"}
		}
		return &model.Error{Code: model.EBadRequest, Message: "error.json", Err: err}
	}
	return nil
}

// pageParams reads page and per_page (default 50, at most 200).
func pageParams(c echo.Context) (page, perPage int) {
	page, _ = strconv.Atoi(c.QueryParam("page"))
	perPage, _ = strconv.Atoi(c.QueryParam("per_page"))
	if page < 1 {
		page = 1
	}
	if perPage < 1 || perPage > 200 {
		perPage = 50
	}
	return page, perPage
}

func (s *Server) apiListEvents(c echo.Context) error {
	page, perPage := pageParams(c)
	f := store.EventFilter{Limit: perPage, Offset: (page - 1) * perPage, Query: c.QueryParam("q")}
	if st := c.QueryParam("status"); st != "" {
		f.Statuses = []model.EventStatus{model.EventStatus(st)}
	}
	events, err := s.app.Store.ListEvents(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if events == nil {
		events = []model.Event{}
	}
	return c.JSON(http.StatusOK, map[string]any{"events": events, "page": page, "per_page": perPage})
}

func (s *Server) apiGetEvent(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

// eventWritable is the part of an event that the API may set.
type eventWritable struct {
	Slug                 *string                 `json:"slug"`
	Title                *string                 `json:"title"`
	Occasion             *string                 `json:"occasion"`
	Theme                *string                 `json:"theme"`
	Summary              *string                 `json:"summary"`
	Description          *string                 `json:"description"`
	VenueName            *string                 `json:"venue_name"`
	VenueAddress         *string                 `json:"venue_address"`
	StartsAt             *jsonTime               `json:"starts_at"`
	EndsAt               *jsonTime               `json:"ends_at"`
	Timezone             *string                 `json:"timezone"`
	Capacity             *int                    `json:"capacity"`
	RegistrationMode     *model.RegistrationMode `json:"registration_mode"`
	RegistrationOpensAt  *jsonTime               `json:"registration_opens_at"`
	RegistrationClosesAt *jsonTime               `json:"registration_closes_at"`
	Status               *model.EventStatus      `json:"status"`
	PressContactName     *string                 `json:"press_contact_name"`
	PressContactEmail    *string                 `json:"press_contact_email"`
	PressContactPhone    *string                 `json:"press_contact_phone"`
	Lang                 *string                 `json:"language"`
}

func (w *eventWritable) apply(e *model.Event) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&e.Slug, w.Slug)
	set(&e.Title, w.Title)
	set(&e.Occasion, w.Occasion)
	set(&e.Theme, w.Theme)
	set(&e.Summary, w.Summary)
	set(&e.Description, w.Description)
	set(&e.VenueName, w.VenueName)
	set(&e.VenueAddress, w.VenueAddress)
	set(&e.Timezone, w.Timezone)
	set(&e.PressContactName, w.PressContactName)
	set(&e.PressContactEmail, w.PressContactEmail)
	set(&e.PressContactPhone, w.PressContactPhone)
	set(&e.Lang, w.Lang)
	if w.StartsAt != nil {
		e.StartsAt = w.StartsAt.Time
	}
	if w.EndsAt != nil {
		e.EndsAt = w.EndsAt.Time
	}
	if w.RegistrationOpensAt != nil {
		e.RegistrationOpensAt = w.RegistrationOpensAt.ptr()
	}
	if w.RegistrationClosesAt != nil {
		e.RegistrationClosesAt = w.RegistrationClosesAt.ptr()
	}
	if w.Capacity != nil {
		e.Capacity = *w.Capacity
	}
	if w.RegistrationMode != nil {
		e.RegistrationMode = *w.RegistrationMode
	}
}

func (s *Server) apiCreateEvent(c echo.Context) error {
	var w eventWritable
	if err := decodeJSON(c, &w); err != nil {
		return err
	}
	e := &model.Event{Status: model.EventDraft}
	w.apply(e)
	if w.Status != nil {
		e.Status = *w.Status
	}
	if err := s.app.SaveEvent(c.Request().Context(), actor(c), e); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

func (s *Server) apiUpdateEvent(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	var w eventWritable
	if err := decodeJSON(c, &w); err != nil {
		return err
	}
	if w.Status != nil && !app.StatusChangeAllowed(e.Status, *w.Status) {
		// Refused before anything is saved: the request is applied whole or not at all.
		return model.Errorf(model.EConflict, "error.status_change")
	}
	w.apply(e)
	ctx := c.Request().Context()
	if err := s.app.SaveEvent(ctx, actor(c), e); err != nil {
		return err
	}
	if w.Status != nil && *w.Status != e.Status {
		if e, err = s.app.SetEventStatus(ctx, actor(c), e.ID, *w.Status); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, e)
}
