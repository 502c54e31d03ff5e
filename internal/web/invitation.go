package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
)

// The invitation page, /i/{token}: the invitee's personal link. It shows the event and
// the organizers' note, and lets the person accept (the registration form, pre-filled
// from the directory, that skips approval) or decline with an optional reason.

// invitation finds the live invitation of the URL. A revoked or unknown token is a 404
// that says so.
func (s *Server) invitation(c echo.Context) (*app.InvitationView, error) {
	v, err := s.app.Invitation(c.Request().Context(), c.Param("token"))
	if model.ErrorCode(err) == model.ENotFound {
		return nil, &model.Error{Code: model.ENotFound, Message: "invite_page.error.gone", Err: err}
	}
	return v, err
}

// invitationPage is the data of the page. vals and ferr re-render the accept form;
// declineErr the decline form.
func (s *Server) invitationPage(c echo.Context, v *app.InvitationView, vals map[string]string, ferr *model.Error) (*Page, error) {
	ctx := c.Request().Context()
	ev := v.Event
	agenda, err := s.app.Store.ListAgenda(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	questions, err := s.app.Store.ListQuestions(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	p := s.page(c, ev.Title)
	p.NoIndex = true
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Agenda"] = agenda
	p.Data["Invitation"] = v.Invitation
	p.Data["Contact"] = v.Contact
	p.Data["Questions"] = questions
	p.Data["Platforms"] = model.Platforms
	p.Data["Base"] = "/i/" + v.Invitation.Token
	p.Data["State"] = s.app.InviteeState(ev)
	p.Data["Accepted"] = v.Accepted()
	p.Data["Declined"] = !v.Accepted() && v.Invitation.Status == store.InvitationDeclined
	p.Data["JustDeclined"] = c.QueryParam("declined") == "1"
	if v.Accepted() {
		p.Data["Registration"] = v.Registration
		p.Data["TicketURL"] = "/t/" + v.Registration.ManageToken
	}
	if ev.Capacity > 0 {
		n, err := s.app.Store.CountConfirmed(ctx, ev.ID)
		if err != nil {
			return nil, err
		}
		p.Data["Full"] = n >= int64(ev.Capacity)
	}
	if vals == nil {
		vals = contactValues(v.Contact)
	}
	vals["email"] = v.Contact.Email
	p.Form.Values = vals
	if ferr != nil {
		p.Form.Errors = ferr.Fields
		p.Form.Error = p.T(ferr.Message)
	}
	return p, nil
}

func (s *Server) handleInvitationPage(c echo.Context) error {
	v, err := s.invitation(c)
	if err != nil {
		return err
	}
	p, err := s.invitationPage(c, v, nil, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "invitation", p)
}

// handleInvitationAccept registers the invitee. Field errors re-render the page with the
// values (422); a closed session says why (409); success goes to the ticket (303).
func (s *Server) handleInvitationAccept(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := s.invitation(c)
	if err != nil {
		return err
	}
	questions, err := s.app.Store.ListQuestions(ctx, v.Event.ID)
	if err != nil {
		return err
	}
	in, vals := bindRegistration(c, questions)
	if err := s.limitForm(c); err != nil {
		if c.Get(formRateFlood) != nil {
			return err
		}
		// Invitees may share an address (a newsroom's, the venue's Wi-Fi): the form
		// comes back as typed, with the reason, as on the event page.
		me, _ := err.(*model.Error)
		p, perr := s.invitationPage(c, v, vals, me)
		if perr != nil {
			return perr
		}
		return s.render(c, http.StatusTooManyRequests, "invitation", p)
	}
	res, err := s.app.AcceptInvitation(ctx, v.Invitation.Token, in)
	if me, ok := err.(*model.Error); ok && (me.Code == model.EInvalid || me.Code == model.EConflict || me.Code == model.EForbidden) {
		p, perr := s.invitationPage(c, v, vals, me)
		if perr != nil {
			return perr
		}
		status := http.StatusUnprocessableEntity
		if me.Code != model.EInvalid {
			status = http.StatusConflict
			p.Form.Error = registrationRefusal(p, v.Event, me)
		}
		return s.render(c, status, "invitation", p)
	} else if err != nil {
		return err
	}
	return s.redirect(c, "/t/"+res.Registration.ManageToken)
}

// handleInvitationDecline records a "no" and shows the thank-you page (the invitation
// page in its declined state, from where the person may still change their mind).
func (s *Server) handleInvitationDecline(c echo.Context) error {
	v, err := s.invitation(c)
	if err != nil {
		return err
	}
	if err := s.limitForm(c); err != nil {
		if c.Get(formRateFlood) != nil {
			return err
		}
		p, perr := s.invitationPage(c, v, nil, nil)
		if perr != nil {
			return perr
		}
		p.Form.Values["reason"] = c.FormValue("reason")
		p.Data["DeclineError"] = p.T(model.ErrorMessage(err))
		return s.render(c, http.StatusTooManyRequests, "invitation", p)
	}
	base := "/i/" + v.Invitation.Token
	_, err = s.app.Decline(c.Request().Context(), v.Invitation.Token, c.FormValue("reason"))
	if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
		p, perr := s.invitationPage(c, v, nil, nil)
		if perr != nil {
			return perr
		}
		p.Form.Values["reason"] = c.FormValue("reason")
		p.Form.Errors = me.Fields
		p.Data["DeclineError"] = p.T(me.Message)
		return s.render(c, http.StatusUnprocessableEntity, "invitation", p)
	} else if ok && me.Code == model.EConflict {
		// Accepted meanwhile: the page shows the ticket.
		return s.redirect(c, base)
	} else if err != nil {
		return err
	}
	return s.redirect(c, base+"?declined=1")
}
