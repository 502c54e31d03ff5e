package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
)

// apiCoverage is a coverage item as the API shows it, with its blogger's name.
type apiCoverage struct {
	model.Coverage
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Outlet    string `json:"outlet"`
}

func (s *Server) apiCoverageJSON(c echo.Context, status int, cov *model.Coverage) error {
	ct, err := s.app.Store.FindContact(c.Request().Context(), cov.ContactID)
	if err != nil {
		return err
	}
	return c.JSON(status, apiCoverage{Coverage: *cov, FirstName: ct.FirstName, LastName: ct.LastName, Outlet: ct.Outlet})
}

// apiListCoverage returns every coverage item of an event and their total declared
// reach (rejected items left out of the total).
func (s *Server) apiListCoverage(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	rows, err := s.app.Store.ListCoverage(c.Request().Context(), store.CoverageFilter{EventID: ev.ID})
	if err != nil {
		return err
	}
	out := make([]apiCoverage, len(rows))
	var reach int64
	for i, r := range rows {
		out[i] = apiCoverage{Coverage: r.Coverage, FirstName: r.FirstName, LastName: r.LastName, Outlet: r.Outlet}
		if r.Status != model.CoverageRejected {
			reach += int64(r.Reach)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"coverage": out, "total_reach": reach})
}

// apiCoverageInput is the body of POST /events/{id}/coverage.
type apiCoverageInput struct {
	RegistrationID int64                `json:"registration_id"`
	ContactID      int64                `json:"contact_id"`
	URL            string               `json:"url"`
	Platform       string               `json:"platform"`
	Title          string               `json:"title"`
	PublishedAt    *jsonTime            `json:"published_at"`
	Reach          int                  `json:"reach"`
	Status         model.CoverageStatus `json:"status"`
}

func (s *Server) apiCreateCoverage(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	var body apiCoverageInput
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	in := app.CoverageInput{RegistrationID: body.RegistrationID, ContactID: body.ContactID, URL: body.URL,
		Platform: body.Platform, Title: body.Title, Reach: body.Reach, Status: body.Status}
	if body.PublishedAt != nil {
		in.PublishedAt = body.PublishedAt.ptr()
	}
	cov, err := s.app.AddCoverage(c.Request().Context(), actor(c), ev.ID, in)
	if err != nil {
		return err
	}
	return s.apiCoverageJSON(c, http.StatusCreated, cov)
}

// apiCoveragePatch is the body of PATCH /coverage/{id}: only the fields given change.
type apiCoveragePatch struct {
	Status      *model.CoverageStatus `json:"status"`
	URL         *string               `json:"url"`
	Platform    *string               `json:"platform"`
	Title       *string               `json:"title"`
	PublishedAt optionalTime          `json:"published_at"`
	Reach       *int                  `json:"reach"`
}

func (s *Server) apiUpdateCoverage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var body apiCoveragePatch
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	p := app.CoveragePatch{Status: body.Status, URL: body.URL, Platform: body.Platform, Title: body.Title, Reach: body.Reach}
	if body.PublishedAt.set {
		p.PublishedAt = &body.PublishedAt.at
	}
	cov, err := s.app.UpdateCoverage(c.Request().Context(), actor(c), 0, id, p)
	if err != nil {
		return err
	}
	return s.apiCoverageJSON(c, http.StatusOK, cov)
}

// apiReport returns the report of an event: the funnel, rates, the series behind the
// charts, platforms, doors and coverage.
func (s *Server) apiReport(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	rep, err := s.app.EventReport(c.Request().Context(), ev.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// optionalTime is a JSON field that may be absent (no change), null (cleared) or an
// RFC 3339 time.
type optionalTime struct {
	set bool
	at  *time.Time
}

func (o *optionalTime) UnmarshalJSON(b []byte) error {
	var t jsonTime
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	o.set, o.at = true, t.ptr()
	return nil
}
