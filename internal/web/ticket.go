package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/ticket"
)

// noReferrer keeps the token in the URL of personal pages from leaking to the sites
// they link to (calendar, maps, WhatsApp) and out of shared caches.
func noReferrer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "private, no-store")
		h.Set("X-Robots-Tag", "noindex")
		return next(c)
	}
}

// holder finds the registration whose manage token is in the URL.
func (s *Server) holder(c echo.Context) (*model.Registration, *model.Event, error) {
	tok := c.Param("token")
	if len(tok) < 20 || len(tok) > 64 {
		return nil, nil, model.ErrNotFound
	}
	r, err := s.app.Store.FindRegistrationByToken(c.Request().Context(), tok)
	if err != nil {
		return nil, nil, err
	}
	ev, err := s.app.Store.FindEventByID(c.Request().Context(), r.EventID)
	return r, ev, err
}

func (s *Server) ticketPage(c echo.Context, r *model.Registration, ev *model.Event) (*Page, error) {
	ctx := c.Request().Context()
	contact, err := s.app.Store.FindContact(ctx, r.ContactID)
	if err != nil {
		return nil, err
	}
	agenda, err := s.app.Store.ListAgenda(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	pos, err := s.app.Store.WaitlistPosition(ctx, r)
	if err != nil {
		return nil, err
	}
	p := s.page(c, ev.Title)
	p.NoIndex = true
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Registration"] = r
	p.Data["Contact"] = contact
	p.Data["Agenda"] = agenda
	p.Data["Position"] = pos
	p.Data["Reference"] = ticket.FormatReference(r.Reference)
	p.Data["Base"] = "/t/" + r.ManageToken
	p.Data["Google"] = s.app.GoogleCalendarURL(ev)
	p.Data["Past"] = ev.EndsAt.Before(s.app.Now())
	p.Data["WhatsApp"] = "https://wa.me/?text=" + urlEscape(ev.Title+" — "+p.Range(ev.StartsAt, ev.EndsAt)+" "+s.eventURL(ev))
	if err := s.ticketCoverage(c, p, r); err != nil { // coverage.go
		return nil, err
	}
	return p, nil
}

func (s *Server) handleTicket(c echo.Context) error {
	r, ev, err := s.holder(c)
	if err != nil {
		return err
	}
	p, err := s.ticketPage(c, r, ev)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "ticket", p)
}

// handleTicketQR serves the QR code of a ticket as a PNG (only while it admits).
func (s *Server) handleTicketQR(c echo.Context) error {
	r, _, err := s.holder(c)
	if err != nil {
		return err
	}
	if r.Status != model.RegConfirmed {
		return model.ErrNotFound
	}
	png, err := ticket.QRPNG(r.TicketCode, 320)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/png", png)
}

func (s *Server) handleTicketICS(c echo.Context) error {
	_, ev, err := s.holder(c)
	if err != nil {
		return err
	}
	b, err := s.app.EventICS(ev)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+ev.Slug+`.ics"`)
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", b)
}

func (s *Server) handleTicketCancelForm(c echo.Context) error {
	r, ev, err := s.holder(c)
	if err != nil {
		return err
	}
	if !r.Active() || ev.EndsAt.Before(s.app.Now()) {
		return s.redirect(c, "/t/"+r.ManageToken)
	}
	p, err := s.ticketPage(c, r, ev)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "ticket_cancel", p)
}

// handleTicketCancel cancels while the session has not ended; after it, as its ticket
// page no longer offers to, the registration stays what it was (the attendance and
// the report count it).
func (s *Server) handleTicketCancel(c echo.Context) error {
	r, ev, err := s.holder(c)
	if err != nil {
		return err
	}
	if ev.EndsAt.Before(s.app.Now()) {
		return s.redirect(c, "/t/"+r.ManageToken)
	}
	if r.Active() {
		if _, err := s.app.CancelRegistration(c.Request().Context(), app.Actor{Name: "holder"}, r.ID); err != nil {
			return err
		}
	}
	return s.redirect(c, "/t/"+r.ManageToken+"?cancelled=1")
}

func (s *Server) ticketEditPage(c echo.Context, r *model.Registration, ev *model.Event, vals map[string]string, ferr *model.Error) (*Page, error) {
	p, err := s.ticketPage(c, r, ev)
	if err != nil {
		return nil, err
	}
	questions, err := s.app.Store.ListQuestions(c.Request().Context(), ev.ID)
	if err != nil {
		return nil, err
	}
	p.Data["Questions"] = questions
	p.Data["Platforms"] = model.Platforms
	if vals == nil {
		contact := p.Data["Contact"].(*model.Contact)
		vals = contactValues(contact)
		var answers map[string]any
		_ = json.Unmarshal([]byte(r.Answers), &answers)
		for k, v := range answers {
			switch x := v.(type) {
			case string:
				vals["q"+k] = x
			case []any:
				var parts []string
				for _, y := range x {
					parts = append(parts, fmt.Sprint(y))
				}
				vals["q"+k] = strings.Join(parts, "\n")
			}
		}
	}
	p.Form.Values = vals
	if ferr != nil {
		p.Form.Errors, p.Form.Error = ferr.Fields, p.T(ferr.Message)
	}
	return p, nil
}

// contactValues fills a form from a contact.
func contactValues(c *model.Contact) map[string]string {
	vals := map[string]string{"first_name": c.FirstName, "last_name": c.LastName, "email": c.Email,
		"phone": app.FormatPhone(c.Phone), "outlet": c.Outlet, "blog_url": c.BlogURL, "city": c.City}
	if c.Phone == "" {
		vals["phone"] = ""
	}
	if c.Audience > 0 {
		vals["audience"] = strconv.Itoa(c.Audience)
	}
	for _, ch := range c.Channels {
		vals["channel_"+ch.Platform] = ch.Handle
	}
	return vals
}

func (s *Server) handleTicketEditForm(c echo.Context) error {
	r, ev, err := s.holder(c)
	if err != nil {
		return err
	}
	p, err := s.ticketEditPage(c, r, ev, nil, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "ticket_edit", p)
}

func (s *Server) handleTicketEdit(c echo.Context) error {
	r, ev, err := s.holder(c)
	if err != nil {
		return err
	}
	questions, err := s.app.Store.ListQuestions(c.Request().Context(), ev.ID)
	if err != nil {
		return err
	}
	in, vals := bindRegistration(c, questions)
	if err := s.app.UpdateRegistrant(c.Request().Context(), r, in); err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			p, perr := s.ticketEditPage(c, r, ev, vals, me)
			if perr != nil {
				return perr
			}
			return s.render(c, http.StatusUnprocessableEntity, "ticket_edit", p)
		}
		return err
	}
	return s.redirect(c, "/t/"+r.ManageToken+"?saved=1")
}
