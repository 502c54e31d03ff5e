package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
)

// Coverage: a confirmed attendee sends the links of what they published from their
// ticket page (section #couverture); organizers list, add, edit, verify and reject
// them on /admin/events/{id}/coverage.

// ticketCoverage adds the coverage section's data to a ticket page: whether the form
// is offered, the holder's items, and the outcome of the last submission (from the
// query of the redirect that followed it).
func (s *Server) ticketCoverage(c echo.Context, p *Page, r *model.Registration) error {
	p.Data["CoverageOpen"] = r.Status == model.RegConfirmed
	if r.Status != model.RegConfirmed {
		return nil
	}
	items, err := s.app.Store.ListCoverage(c.Request().Context(), store.CoverageFilter{EventID: r.EventID, ContactID: r.ContactID})
	if err != nil {
		return err
	}
	p.Data["CoverageItems"] = items
	if n, _ := strconv.Atoi(c.QueryParam("added")); n > 0 {
		p.Data["CoverageAdded"] = n
	}
	if n, _ := strconv.Atoi(c.QueryParam("dup")); n > 0 {
		p.Data["CoverageDuplicates"] = n
	}
	return nil
}

// handleTicketCoverage records the links pasted on the ticket page. When every line
// is an address it redirects back to the section (303); otherwise the links that were
// fine are recorded and the page comes back (422) with the wrong lines listed and left
// in the text area to be corrected.
func (s *Server) handleTicketCoverage(c echo.Context) error {
	ctx := c.Request().Context()
	r, ev, err := s.holder(c)
	if err != nil {
		return err
	}
	links, reach := c.FormValue("links"), strings.TrimSpace(c.FormValue("reach"))
	if err := s.limitForm(c); err != nil {
		if c.Get(formRateFlood) != nil {
			return err
		}
		// Attendees at the venue share its Wi-Fi's address: the links come back as
		// pasted, with the reason under them, rather than an error page that loses them.
		p, perr := s.ticketPage(c, r, ev)
		if perr != nil {
			return perr
		}
		p.Form.Values = map[string]string{"links": links, "reach": reach}
		p.Form.Errors = map[string]string{"links": model.ErrorMessage(err)}
		return s.render(c, http.StatusTooManyRequests, "ticket", p)
	}
	res, err := s.app.SubmitCoverageLinks(ctx, r, links, reach)
	if err != nil {
		me, ok := err.(*model.Error)
		if !ok || me.Code != model.EInvalid {
			return err
		}
		p, perr := s.ticketPage(c, r, ev)
		if perr != nil {
			return perr
		}
		p.Form.Values = map[string]string{"links": links, "reach": reach}
		p.Form.Errors = me.Fields
		return s.render(c, http.StatusUnprocessableEntity, "ticket", p)
	}
	q := url.Values{}
	if len(res.Added) > 0 {
		q.Set("added", strconv.Itoa(len(res.Added)))
	}
	if len(res.Duplicates) > 0 {
		q.Set("dup", strconv.Itoa(len(res.Duplicates)))
	}
	if len(res.Invalid) == 0 {
		return s.redirect(c, "/t/"+r.ManageToken+"?"+q.Encode()+"#couverture")
	}
	p, err := s.ticketPage(c, r, ev)
	if err != nil {
		return err
	}
	if len(res.Added) > 0 {
		p.Data["CoverageAdded"] = len(res.Added)
	}
	if len(res.Duplicates) > 0 {
		p.Data["CoverageDuplicates"] = len(res.Duplicates)
	}
	bad := make([]string, len(res.Invalid))
	for i, l := range res.Invalid {
		bad[i] = l.Text
	}
	p.Form.Values = map[string]string{"links": strings.Join(bad, "\n"), "reach": reach}
	p.Form.Errors = map[string]string{"links": "coverage.error.some_invalid"}
	p.Data["CoverageInvalid"] = res.Invalid
	return s.render(c, http.StatusUnprocessableEntity, "ticket", p)
}

func coverageURL(eventID int64) string {
	return "/admin/events/" + strconv.FormatInt(eventID, 10) + "/coverage"
}

// coverageFormFields are the fields of the add and edit forms.
var coverageFormFields = []string{"registration_id", "contact_email", "url", "platform", "title", "published_at", "reach", "status"}

// bindCoverageForm reads the add/edit form. The publication date is a day, kept at
// noon in the event's time zone so that it shows as the same day everywhere.
func bindCoverageForm(c echo.Context, ev *model.Event) (vals map[string]string, in app.CoverageInput, errs map[string]string) {
	vals, errs = map[string]string{}, map[string]string{}
	for _, f := range coverageFormFields {
		vals[f] = strings.TrimSpace(c.FormValue(f))
	}
	in.URL, in.Platform, in.Title = vals["url"], vals["platform"], vals["title"]
	in.RegistrationID, _ = strconv.ParseInt(vals["registration_id"], 10, 64)
	if v := vals["published_at"]; v != "" {
		d, err := time.ParseInLocation("2006-01-02", v, ev.Location())
		if err != nil {
			errs["published_at"] = "coverage.error.date"
		} else {
			d = d.Add(12 * time.Hour).UTC()
			in.PublishedAt = &d
		}
	}
	if n, ok := app.ParseReach(vals["reach"]); ok {
		in.Reach = n
	} else {
		errs["reach"] = "coverage.error.reach"
	}
	if st := model.CoverageStatus(vals["status"]); st.Valid() {
		in.Status = st
	}
	return vals, in, errs
}

// coverageCount is one figure of the counts bar of the coverage page.
type coverageCount struct {
	Status string
	N      int
}

func (s *Server) coveragePage(c echo.Context, ev *model.Event, vals, errs map[string]string) (*Page, error) {
	ctx := c.Request().Context()
	rows, err := s.app.Store.ListCoverage(ctx, store.CoverageFilter{EventID: ev.ID})
	if err != nil {
		return nil, err
	}
	regs, _, err := s.app.Store.ListRegistrations(ctx, store.RegistrationFilter{EventID: ev.ID})
	if err != nil {
		return nil, err
	}
	byStatus := map[model.CoverageStatus]int{}
	var reach int64
	for _, r := range rows {
		byStatus[r.Status]++
		if r.Status != model.CoverageRejected {
			reach += int64(r.Reach)
		}
	}
	p := s.page(c, "")
	p.Title = p.T("coverage.admin.title") + " · " + ev.Title
	p.Nav = "events"
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Rows"] = rows
	p.Data["Registrations"] = regs
	p.Data["Reach"] = reach
	p.Data["Counts"] = []coverageCount{{"submitted", byStatus[model.CoverageSubmitted]},
		{"verified", byStatus[model.CoverageVerified]}, {"rejected", byStatus[model.CoverageRejected]}}
	p.Data["Platforms"] = model.Platforms
	p.Data["CheckOn"] = s.cfg.CoverageCheck
	if vals != nil {
		p.Form.Values = vals
	}
	if len(errs) > 0 {
		p.Form.Errors, p.Form.Error = errs, p.T("error.invalid_form")
	}
	return p, nil
}

func (s *Server) handleCoverage(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	p, err := s.coveragePage(c, ev, nil, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event_coverage", p)
}

// handleCoverageCreate adds an item for a registrant, or for a contact of the directory
// named by email.
func (s *Server) handleCoverageCreate(c echo.Context) error {
	ctx := c.Request().Context()
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	vals, in, errs := bindCoverageForm(c, ev)
	if in.RegistrationID == 0 && vals["contact_email"] != "" {
		ct, err := s.app.Store.FindContactByEmail(ctx, vals["contact_email"])
		if model.ErrorCode(err) == model.ENotFound {
			errs["contact_email"] = "coverage.error.contact_email"
		} else if err != nil {
			return err
		} else {
			in.ContactID = ct.ID
		}
	}
	if len(errs) == 0 {
		_, err = s.app.AddCoverage(ctx, actor(c), ev.ID, in)
		if err == nil {
			s.flash(c, "ok", "coverage.admin.added")
			return s.redirect(c, coverageURL(ev.ID))
		}
		me, ok := err.(*model.Error)
		if !ok || len(me.Fields) == 0 {
			return err
		}
		for k, v := range me.Fields {
			if k == "contact_id" || (k == "registration_id" && in.RegistrationID == 0) {
				k = "registration_id"
			}
			errs[k] = v
		}
	}
	p, err := s.coveragePage(c, ev, vals, errs)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, "event_coverage", p)
}

// eventCoverage finds the item of the URL, which must belong to the event of the URL.
func (s *Server) eventCoverage(c echo.Context) (*model.Event, *model.Coverage, error) {
	ev, err := s.adminEvent(c)
	if err != nil {
		return nil, nil, err
	}
	id, err := paramID(c, "cov")
	if err != nil {
		return nil, nil, err
	}
	cov, err := s.app.Store.FindCoverage(c.Request().Context(), id)
	if err != nil {
		return nil, nil, err
	}
	if cov.EventID != ev.ID {
		return nil, nil, model.ErrNotFound
	}
	return ev, cov, nil
}

func (s *Server) coverageEditPage(c echo.Context, ev *model.Event, cov *model.Coverage, vals, errs map[string]string) (*Page, error) {
	contact, err := s.app.Store.FindContact(c.Request().Context(), cov.ContactID)
	if err != nil {
		return nil, err
	}
	p := s.page(c, "")
	p.Title = p.T("coverage.admin.edit_title") + " · " + ev.Title
	p.Nav = "events"
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Coverage"] = cov
	p.Data["Contact"] = contact
	p.Data["Platforms"] = model.Platforms
	p.Data["CheckOn"] = s.cfg.CoverageCheck
	if vals == nil {
		vals = map[string]string{"url": cov.URL, "platform": cov.Platform, "title": cov.Title, "status": string(cov.Status)}
		if cov.Reach > 0 {
			vals["reach"] = strconv.Itoa(cov.Reach)
		}
		if cov.PublishedAt != nil {
			vals["published_at"] = cov.PublishedAt.In(ev.Location()).Format("2006-01-02")
		}
	}
	p.Form.Values = vals
	if len(errs) > 0 {
		p.Form.Errors, p.Form.Error = errs, p.T("error.invalid_form")
	}
	return p, nil
}

func (s *Server) handleCoverageEdit(c echo.Context) error {
	ev, cov, err := s.eventCoverage(c)
	if err != nil {
		return err
	}
	p, err := s.coverageEditPage(c, ev, cov, nil, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event_coverage_edit", p)
}

func (s *Server) handleCoverageUpdate(c echo.Context) error {
	ev, cov, err := s.eventCoverage(c)
	if err != nil {
		return err
	}
	vals, in, errs := bindCoverageForm(c, ev)
	if len(errs) == 0 {
		st := in.Status
		if st == "" {
			st = cov.Status
		}
		_, err = s.app.UpdateCoverage(c.Request().Context(), actor(c), ev.ID, cov.ID, app.CoveragePatch{
			URL: &in.URL, Platform: &in.Platform, Title: &in.Title, PublishedAt: &in.PublishedAt, Reach: &in.Reach, Status: &st})
		if err == nil {
			s.flash(c, "ok", "coverage.admin.saved")
			return s.redirect(c, coverageURL(ev.ID))
		}
		me, ok := err.(*model.Error)
		if !ok || len(me.Fields) == 0 {
			return err
		}
		for k, v := range me.Fields {
			errs[k] = v
		}
	}
	p, err := s.coverageEditPage(c, ev, cov, vals, errs)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, "event_coverage_edit", p)
}

// handleCoverageStatus verifies, rejects or reopens an item from the list.
func (s *Server) handleCoverageStatus(c echo.Context) error {
	ev, cov, err := s.eventCoverage(c)
	if err != nil {
		return err
	}
	st := model.CoverageStatus(c.FormValue("status"))
	if !st.Valid() {
		return model.Errorf(model.EBadRequest, "error.bad_request")
	}
	if _, err := s.app.SetCoverageStatus(c.Request().Context(), actor(c), ev.ID, cov.ID, st); err != nil {
		return err
	}
	s.flash(c, "ok", "coverage.admin.status_"+string(st))
	return s.redirect(c, coverageURL(ev.ID)+"#cov-"+strconv.FormatInt(cov.ID, 10))
}

// handleCoverageRecheck reads an item's page again now (when checks are on).
func (s *Server) handleCoverageRecheck(c echo.Context) error {
	ev, cov, err := s.eventCoverage(c)
	if err != nil {
		return err
	}
	if !s.cfg.CoverageCheck {
		s.flash(c, "error", "coverage.check.off")
		return s.redirect(c, coverageURL(ev.ID))
	}
	if _, err := s.app.CheckCoverage(c.Request().Context(), cov.ID); err != nil {
		return err
	}
	s.flash(c, "ok", "coverage.check.done")
	return s.redirect(c, coverageURL(ev.ID)+"#cov-"+strconv.FormatInt(cov.ID, 10))
}
