package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
)

// The organizer's side of invitations: an event's invitations with their answers, the
// invite form (by tag here; by selected rows or a tag from the directory, which posts
// to /admin/invitations), the one reminder and revocation.

func invitationsURL(eventID int64, status string) string {
	u := "/admin/events/" + strconv.FormatInt(eventID, 10) + "/invitations"
	if status != "" {
		u += "?" + url.Values{"status": {status}}.Encode()
	}
	return u
}

// invitationsPage is the data of an event's invitations page.
func (s *Server) invitationsPage(c echo.Context, ev *model.Event) (*Page, error) {
	ctx := c.Request().Context()
	status := c.QueryParam("status")
	if !store.ValidInvitationStatus(status) {
		status = ""
	}
	rows, err := s.app.Store.ListInvitations(ctx, ev.ID, status)
	if err != nil {
		return nil, err
	}
	byStatus, err := s.app.Store.CountInvitations(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	tags, err := s.app.Store.InvitationTags(ctx)
	if err != nil {
		return nil, err
	}
	due, err := s.app.Store.RemindableInvitations(ctx, ev.ID, s.app.Now().Add(-s.app.RemindDelay()))
	if err != nil {
		return nil, err
	}
	var all int64
	counts := make([]statusCount, 0, len(store.InvitationStatuses)+1)
	for _, st := range store.InvitationStatuses {
		all += byStatus[st]
		counts = append(counts, statusCount{Key: st, N: byStatus[st], Link: invitationsURL(ev.ID, st)})
	}
	counts = append([]statusCount{{Key: "", N: all, Link: invitationsURL(ev.ID, "")}}, counts...)
	p := s.page(c, "")
	p.Title = p.T("invitations.title") + " · " + ev.Title
	p.Nav = "events"
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Rows"] = rows
	p.Data["Counts"] = counts
	p.Data["Status"] = status
	p.Data["Tags"] = tags
	p.Data["Remindable"] = len(due)
	p.Data["RemindAfter"] = int(s.app.RemindDelay().Hours())
	p.Data["Invitable"] = ev.Status == model.EventPublished && ev.EndsAt.After(s.app.Now())
	return p, nil
}

// handleInvitations lists an event's invitations: counts by status, each person's
// answer and dates, and the actions.
func (s *Server) handleInvitations(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	p, err := s.invitationsPage(c, ev)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event_invitations", p)
}

// handleInvitationsCreate invites from the event's page (a tag, or contact ids).
func (s *Server) handleInvitationsCreate(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	return s.inviteFromForm(c, ev)
}

// handleInvite invites from the directory: event_id names the event, contact_id
// (repeated) the selected rows or tag a whole tag; back, when given, is where to return.
func (s *Server) handleInvite(c echo.Context) error {
	id, err := strconv.ParseInt(c.FormValue("event_id"), 10, 64)
	if err != nil || id <= 0 {
		return model.FieldErrors(map[string]string{"event_id": "error.required"})
	}
	ev, err := s.app.Store.FindEventByID(c.Request().Context(), id)
	if model.ErrorCode(err) == model.ENotFound {
		return model.FieldErrors(map[string]string{"event_id": "error.choice"})
	} else if err != nil {
		return err
	}
	return s.inviteFromForm(c, ev)
}

// inviteFromForm reads contact_id (repeated), tag and note, invites, and tells what was
// done in a flash message: how many were invited, who was skipped and why.
func (s *Server) inviteFromForm(c echo.Context, ev *model.Event) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return model.Errorf(model.EBadRequest, "error.bad_request")
	}
	var ids []int64
	for _, v := range form["contact_id"] {
		if id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	tag := strings.TrimSpace(form.Get("tag"))
	note := form.Get("note")
	back := invitationsURL(ev.ID, "")
	if b := form.Get("back"); b != "" {
		back = safeNext(b)
	}
	fail := func(fields map[string]string) error {
		if form.Get("back") != "" {
			// From the directory: back there, with the reason.
			for _, msg := range fields {
				s.flash(c, "error", msg)
				break
			}
			return s.redirect(c, back)
		}
		p, err := s.invitationsPage(c, ev)
		if err != nil {
			return err
		}
		p.Form.Values = map[string]string{"tag": tag, "note": note}
		p.Form.Errors, p.Form.Error = fields, p.T("error.invalid_form")
		return s.render(c, http.StatusUnprocessableEntity, "event_invitations", p)
	}
	if tag != "" {
		tagged, err := s.app.Store.TaggedContactIDs(ctx, tag)
		if err != nil {
			return err
		}
		if len(tagged) == 0 {
			return fail(map[string]string{"tag": "invitations.error.tag_empty"})
		}
		ids = append(ids, tagged...)
	}
	if len(ids) == 0 {
		return fail(map[string]string{"tag": "invitations.error.no_contact"})
	}
	rep, err := s.app.Invite(ctx, actor(c), ev.ID, ids, note)
	var me *model.Error
	if err != nil && asModelError(err, &me) {
		switch me.Code {
		case model.EInvalid:
			fields := me.Fields
			if _, ok := fields["contact_id"]; ok {
				fields = map[string]string{"tag": fields["contact_id"]}
			}
			return fail(fields)
		case model.EConflict:
			s.flash(c, "error", me.Message)
			return s.redirect(c, back)
		}
	}
	if err != nil {
		return err
	}
	kind := "ok"
	if len(rep.Created) == 0 {
		kind = "error"
	}
	s.flashMessage(c, kind, s.inviteReportText(langOf(c), rep))
	return s.redirect(c, back)
}

// inviteReportText writes the outcome of an invitation for the organizer: "3 invitations
// sent. Already invited (skipped): Kafui Adjo, Edem Kossi."
func (s *Server) inviteReportText(lang string, rep *app.InviteReport) string {
	parts := []string{}
	if n := len(rep.Created); n > 0 {
		parts = append(parts, s.i18n.N(lang, "invitations.flash.created", n))
	} else {
		parts = append(parts, s.i18n.T(lang, "invitations.flash.none"))
	}
	byReason := map[string][]string{}
	var reasons []string
	for _, sk := range rep.Skipped {
		if byReason[sk.Reason] == nil {
			reasons = append(reasons, sk.Reason)
		}
		name := sk.Name
		if name == "" {
			name = fmt.Sprintf("n° %d", sk.ContactID)
		}
		byReason[sk.Reason] = append(byReason[sk.Reason], name)
	}
	for _, r := range reasons {
		names := byReason[r]
		const most = 10
		list := strings.Join(names[:min(len(names), most)], ", ")
		if len(names) > most {
			list += " " + s.i18n.N(lang, "invitations.flash.and_more", len(names)-most)
		}
		parts = append(parts, s.i18n.T(lang, "invitations.flash.skipped."+r, "Names", list))
	}
	return strings.Join(parts, " ")
}

// handleInvitationsRemind sends the one reminder to the non-responders who are due.
func (s *Server) handleInvitationsRemind(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	n, err := s.app.Remind(c.Request().Context(), actor(c), ev.ID)
	var me *model.Error
	if err != nil && asModelError(err, &me) && me.Code == model.EConflict {
		s.flash(c, "error", me.Message)
		return s.redirect(c, invitationsURL(ev.ID, ""))
	} else if err != nil {
		return err
	}
	if n == 0 {
		s.flash(c, "error", "invitations.flash.none_to_remind")
	} else {
		s.flashMessage(c, "ok", s.i18n.N(langOf(c), "invitations.flash.reminded", n))
	}
	return s.redirect(c, invitationsURL(ev.ID, ""))
}

// handleInvitationRevoke withdraws one invitation: its link stops working.
func (s *Server) handleInvitationRevoke(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	id, err := paramID(c, "inv")
	if err != nil {
		return err
	}
	err = s.app.Revoke(c.Request().Context(), actor(c), ev.ID, id)
	var me *model.Error
	if err != nil && asModelError(err, &me) && me.Code == model.EConflict {
		s.flash(c, "error", me.Message)
	} else if err != nil {
		return err
	} else {
		s.flash(c, "ok", "invitations.flash.revoked")
	}
	return s.redirect(c, invitationsURL(ev.ID, c.FormValue("status")))
}
