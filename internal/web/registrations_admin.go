package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/i18n"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/ticket"
)

const registrationsPageSize = 50

// registrationStatuses and registrationSources are the filter choices, in display order.
var (
	registrationStatuses = []model.RegistrationStatus{model.RegConfirmed, model.RegWaitlisted, model.RegPending,
		model.RegCancelled, model.RegRejected}
	registrationSources = []model.RegistrationSource{model.SourceOnline, model.SourceInvitation,
		model.SourceWalkIn, model.SourceStaff}
)

func validRegistrationStatus(s string) bool {
	for _, st := range registrationStatuses {
		if string(st) == s {
			return true
		}
	}
	return false
}

func validRegistrationSource(s string) bool {
	for _, src := range registrationSources {
		if string(src) == s {
			return true
		}
	}
	return false
}

// registrationListQuery keeps the search and filters of the list, and nothing else, so
// that the page, the pager, the CSV export and the way back from a bulk action agree.
func registrationListQuery(q url.Values) url.Values {
	out := url.Values{}
	if v := strings.TrimSpace(q.Get("q")); v != "" {
		out.Set("q", v)
	}
	if v := q.Get("status"); validRegistrationStatus(v) {
		out.Set("status", v)
	}
	if v := q.Get("source"); validRegistrationSource(v) {
		out.Set("source", v)
	}
	if v := q.Get("checked"); v == "yes" || v == "no" {
		out.Set("checked", v)
	}
	return out
}

// registrationFilter turns the list's query into a store filter (without paging).
func registrationFilter(q url.Values, eventID int64) store.RegistrationFilter {
	q = registrationListQuery(q)
	f := store.RegistrationFilter{EventID: eventID, Query: q.Get("q"),
		Status: model.RegistrationStatus(q.Get("status")), Source: model.RegistrationSource(q.Get("source"))}
	if v := q.Get("checked"); v != "" {
		in := v == "yes"
		f.CheckedIn = &in
	}
	return f
}

func registrationsURL(eventID int64, q url.Values) string {
	u := "/admin/events/" + strconv.FormatInt(eventID, 10) + "/registrations"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func registrationURL(eventID, regID int64) string {
	return "/admin/events/" + strconv.FormatInt(eventID, 10) + "/registrations/" + strconv.FormatInt(regID, 10)
}

// statusCount is one figure of the counts bar.
type statusCount struct {
	Key  string // a status, "checked_in" or "" for the total
	N    int64
	Link string
}

// registrationListRow is a line of the table.
type registrationListRow struct {
	store.RegistrationRow
	Ref string
}

// handleRegistrations lists an event's registrations: counts, search, filters, pages of
// 50, checkboxes for bulk approval.
func (s *Server) handleRegistrations(c echo.Context) error {
	ctx := c.Request().Context()
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	query := registrationListQuery(c.QueryParams())
	f := registrationFilter(query, ev.ID)
	page, _ := strconv.Atoi(c.QueryParam("page"))
	if page < 1 {
		page = 1
	}
	f.Limit, f.Offset = registrationsPageSize, (page-1)*registrationsPageSize
	rows, total, err := s.app.Store.ListRegistrations(ctx, f)
	if err != nil {
		return err
	}
	byStatus, err := s.app.Store.CountRegistrations(ctx, ev.ID)
	if err != nil {
		return err
	}
	yes := true
	_, checkedIn, err := s.app.Store.ListRegistrations(ctx, store.RegistrationFilter{EventID: ev.ID, CheckedIn: &yes, Limit: 1})
	if err != nil {
		return err
	}
	var all int64
	counts := make([]statusCount, 0, len(registrationStatuses)+2)
	for _, st := range registrationStatuses {
		all += byStatus[st]
		counts = append(counts, statusCount{Key: string(st), N: byStatus[st],
			Link: registrationsURL(ev.ID, url.Values{"status": {string(st)}})})
	}
	counts = append(counts, statusCount{Key: "checked_in", N: checkedIn, Link: registrationsURL(ev.ID, url.Values{"checked": {"yes"}})})
	counts = append([]statusCount{{Key: "", N: all, Link: registrationsURL(ev.ID, nil)}}, counts...)

	list := make([]registrationListRow, len(rows))
	anyPending := false
	for i, r := range rows {
		list[i] = registrationListRow{RegistrationRow: r, Ref: ticket.FormatReference(r.Reference)}
		anyPending = anyPending || r.Status == model.RegPending
	}
	p := s.page(c, "")
	p.Title = p.T("registrations.title") + " · " + ev.Title
	p.Nav = "events"
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Rows"] = list
	p.Data["Total"] = int(total)
	p.Data["Counts"] = counts
	p.Data["AnyPending"] = anyPending
	p.Data["Statuses"] = append([]string{""}, stringsOf(registrationStatuses)...)
	p.Data["Sources"] = append([]string{""}, stringsOf(registrationSources)...)
	p.Data["Back"] = query.Encode()
	p.Data["Filtered"] = len(query) > 0
	csvQuery := registrationListQuery(query)
	csvQuery.Set("sep", "semicolon")
	p.Data["CSVSemicolon"] = registrationsURL(ev.ID, nil) + ".csv?" + csvQuery.Encode()
	csvQuery.Set("sep", "comma")
	p.Data["CSVComma"] = registrationsURL(ev.ID, nil) + ".csv?" + csvQuery.Encode()
	if page > 1 {
		prev := registrationListQuery(query)
		prev.Set("page", strconv.Itoa(page-1))
		p.Data["PrevURL"] = registrationsURL(ev.ID, prev)
	}
	if int64(page*registrationsPageSize) < total {
		next := registrationListQuery(query)
		next.Set("page", strconv.Itoa(page+1))
		p.Data["NextURL"] = registrationsURL(ev.ID, next)
	}
	p.Data["Page"] = page
	p.Data["Pages"] = (total + registrationsPageSize - 1) / registrationsPageSize
	p.Form.Values = map[string]string{"q": query.Get("q"), "status": query.Get("status"),
		"source": query.Get("source"), "checked": query.Get("checked")}
	return s.render(c, http.StatusOK, "event_registrations", p)
}

func stringsOf[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// eventRegistration finds the registration of the URL, which must belong to the event
// of the URL.
func (s *Server) eventRegistration(c echo.Context) (*model.Event, *model.Registration, error) {
	ev, err := s.adminEvent(c)
	if err != nil {
		return nil, nil, err
	}
	id, err := paramID(c, "reg")
	if err != nil {
		return nil, nil, err
	}
	r, err := s.app.Store.FindRegistration(c.Request().Context(), id)
	if err != nil {
		return nil, nil, err
	}
	if r.EventID != ev.ID {
		return nil, nil, model.ErrNotFound
	}
	return ev, r, nil
}

// answerLine is one custom question and its answer, as the detail page shows it.
type answerLine struct {
	Label string
	Value string
}

// registrationAnswers pairs the stored answers with the event's questions, in the
// form's order. Answers to questions removed since come last.
func registrationAnswers(b *i18n.Bundle, lang string, questions []model.Question, raw string, sep string) []answerLine {
	answers := decodeAnswers(raw)
	var out []answerLine
	seen := map[string]bool{}
	for _, q := range questions {
		key := strconv.FormatInt(q.ID, 10)
		seen[key] = true
		out = append(out, answerLine{Label: q.Label, Value: answerText(b, lang, q.Kind, answers[key], sep)})
	}
	var rest []string
	for k := range answers {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, answerLine{Label: b.T(lang, "registrations.removed_question", "ID", k), Value: answerText(b, lang, "", answers[k], sep)})
	}
	return out
}

func decodeAnswers(raw string) map[string]any {
	answers := map[string]any{}
	if raw != "" {
		_ = json.Unmarshal([]byte(raw), &answers)
	}
	return answers
}

// answerText writes an answer for people: several choices joined by sep, yes/no in the
// reader's language.
func answerText(b *i18n.Bundle, lang string, kind model.QuestionKind, v any, sep string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if kind == model.QYesNo && (x == "yes" || x == "no") {
			return b.T(lang, "form."+x)
		}
		return x
	case []any:
		parts := make([]string, 0, len(x))
		for _, y := range x {
			parts = append(parts, fmt.Sprint(y))
		}
		return strings.Join(parts, sep)
	}
	return fmt.Sprint(v)
}

// registrationAdminPage is the detail page of one registration.
func (s *Server) registrationAdminPage(c echo.Context, ev *model.Event, r *model.Registration) (*Page, error) {
	ctx := c.Request().Context()
	contact, err := s.app.Store.FindContact(ctx, r.ContactID)
	if err != nil {
		return nil, err
	}
	questions, err := s.app.Store.ListQuestions(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	pos, err := s.app.Store.WaitlistPosition(ctx, r)
	if err != nil {
		return nil, err
	}
	p := s.page(c, "")
	p.Title = contact.Name() + " · " + ev.Title
	p.Nav = "events"
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Registration"] = r
	p.Data["Contact"] = contact
	if contact.Phone != "" {
		p.Data["Phone"] = app.FormatPhone(contact.Phone)
	}
	p.Data["Answers"] = registrationAnswers(s.i18n, p.Lang, questions, r.Answers, ", ")
	p.Data["Reference"] = ticket.FormatReference(r.Reference)
	p.Data["Position"] = pos
	p.Data["Base"] = registrationURL(ev.ID, r.ID)
	p.Data["CanApprove"] = r.Status != model.RegConfirmed
	p.Data["CanReject"] = r.Status == model.RegPending || r.Status == model.RegWaitlisted
	p.Data["CanCancel"] = r.Active()
	return p, nil
}

func (s *Server) handleRegistrationAdmin(c echo.Context) error {
	ev, r, err := s.eventRegistration(c)
	if err != nil {
		return err
	}
	p, err := s.registrationAdminPage(c, ev, r)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event_registration", p)
}

// flashMessage keeps an already translated message for the next page.
func (s *Server) flashMessage(c echo.Context, kind, text string) {
	ctx := c.Request().Context()
	s.sessions.Put(ctx, "flash", text)
	s.sessions.Put(ctx, "flash_kind", kind)
}

// registrationActionDone answers a staff action on one registration: a refused state
// change (a full event, a registration already cancelled) comes back to the detail page
// as a message; field errors re-render it with 422.
func (s *Server) registrationActionDone(c echo.Context, ev *model.Event, r *model.Registration, err error, okMsg string) error {
	var me *model.Error
	if err != nil {
		if !asModelError(err, &me) {
			return err
		}
		switch me.Code {
		case model.EInvalid:
			p, perr := s.registrationAdminPage(c, ev, r)
			if perr != nil {
				return perr
			}
			p.Form.Values = map[string]string{"reason": c.FormValue("reason")}
			p.Form.Errors, p.Form.Error = me.Fields, p.T(me.Message)
			return s.render(c, http.StatusUnprocessableEntity, "event_registration", p)
		case model.EConflict:
			s.flash(c, "error", me.Message)
			return s.redirect(c, registrationURL(ev.ID, r.ID))
		}
		return err
	}
	s.flash(c, "ok", okMsg)
	return s.redirect(c, registrationURL(ev.ID, r.ID))
}

func asModelError(err error, me **model.Error) bool {
	e, ok := err.(*model.Error)
	if ok {
		*me = e
	}
	return ok
}

func (s *Server) handleRegistrationApprove(c echo.Context) error {
	ev, r, err := s.eventRegistration(c)
	if err != nil {
		return err
	}
	out, err := s.app.ApproveRegistration(c.Request().Context(), actor(c), r.ID, c.FormValue("override_capacity") == "yes")
	msg := "registrations.approved"
	if err == nil && out.Status == model.RegWaitlisted {
		msg = "registrations.approved_waitlisted"
	}
	return s.registrationActionDone(c, ev, r, err, msg)
}

func (s *Server) handleRegistrationReject(c echo.Context) error {
	ev, r, err := s.eventRegistration(c)
	if err != nil {
		return err
	}
	_, err = s.app.RejectRegistration(c.Request().Context(), actor(c), r.ID, c.FormValue("reason"))
	return s.registrationActionDone(c, ev, r, err, "registrations.rejected")
}

func (s *Server) handleRegistrationCancel(c echo.Context) error {
	ev, r, err := s.eventRegistration(c)
	if err != nil {
		return err
	}
	_, err = s.app.CancelRegistration(c.Request().Context(), actor(c), r.ID)
	return s.registrationActionDone(c, ev, r, err, "registrations.cancelled")
}

func (s *Server) handleRegistrationResend(c echo.Context) error {
	ev, r, err := s.eventRegistration(c)
	if err != nil {
		return err
	}
	err = s.app.ResendTicket(c.Request().Context(), actor(c), r.ID)
	return s.registrationActionDone(c, ev, r, err, "registrations.resent")
}

// handleRegistrationsBulk approves or rejects the pending registrations ticked in the
// list. Rows that are no longer pending are left alone and counted as skipped.
func (s *Server) handleRegistrationsBulk(c echo.Context) error {
	ctx := c.Request().Context()
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	back, _ := url.ParseQuery(c.FormValue("back"))
	backURL := registrationsURL(ev.ID, registrationListQuery(back))
	form, err := c.FormParams()
	if err != nil {
		return model.Errorf(model.EBadRequest, "error.bad_request")
	}
	action := c.FormValue("action")
	if action != "approve" && action != "reject" {
		return model.Errorf(model.EBadRequest, "error.bad_request")
	}
	lang := langOf(c)
	if len(form["ids"]) == 0 {
		s.flash(c, "error", "registrations.bulk_none")
		return s.redirect(c, backURL)
	}
	reason := c.FormValue("reason")
	if len([]rune(reason)) > 1000 {
		s.flashMessage(c, "error", s.i18n.T(lang, "field.reason")+" : "+s.i18n.T(lang, "error.too_long"))
		return s.redirect(c, backURL)
	}
	override := c.FormValue("override_capacity") == "yes"
	var done, skipped int
	for _, v := range form["ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			skipped++
			continue
		}
		r, err := s.app.Store.FindRegistration(ctx, id)
		if model.ErrorCode(err) == model.ENotFound || err == nil && (r.EventID != ev.ID || r.Status != model.RegPending) {
			skipped++
			continue
		} else if err != nil {
			return err
		}
		if action == "approve" {
			_, err = s.app.ApproveRegistration(ctx, actor(c), id, override)
		} else {
			_, err = s.app.RejectRegistration(ctx, actor(c), id, reason)
		}
		switch model.ErrorCode(err) {
		case "":
			done++
		case model.EConflict, model.EInvalid, model.ENotFound:
			skipped++
		default:
			return err
		}
	}
	msg := s.i18n.N(lang, "registrations.bulk_done_"+action, done)
	if skipped > 0 {
		msg += " " + s.i18n.N(lang, "registrations.bulk_skipped", skipped)
	}
	kind := "ok"
	if done == 0 {
		kind = "error"
	}
	s.flashMessage(c, kind, msg)
	return s.redirect(c, backURL)
}

// registrationNewPage is the "add a registration by hand" form.
func (s *Server) registrationNewPage(c echo.Context, ev *model.Event, vals map[string]string, ferr *model.Error) (*Page, error) {
	questions, err := s.app.Store.ListQuestions(c.Request().Context(), ev.ID)
	if err != nil {
		return nil, err
	}
	p := s.page(c, "")
	p.Title = p.T("registrations.new_title") + " · " + ev.Title
	p.Nav = "events"
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Questions"] = questions
	p.Data["Platforms"] = model.Platforms
	if ev.Capacity > 0 {
		n, err := s.app.Store.CountConfirmed(c.Request().Context(), ev.ID)
		if err != nil {
			return nil, err
		}
		p.Data["Full"] = n >= int64(ev.Capacity)
	}
	if vals == nil {
		vals = map[string]string{"reg_lang": i18n.Supported(ev.Lang)}
	}
	p.Form.Values = vals
	if ferr != nil {
		p.Form.Errors, p.Form.Error = ferr.Fields, p.T(ferr.Message)
	}
	return p, nil
}

func (s *Server) handleRegistrationNew(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	p, err := s.registrationNewPage(c, ev, nil, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event_registration_new", p)
}

// handleRegistrationCreate adds a registration by hand: the public form's fields, no
// consent box, the capacity and the waitlist as usual unless the organizer overrides.
func (s *Server) handleRegistrationCreate(c echo.Context) error {
	ctx := c.Request().Context()
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	questions, err := s.app.Store.ListQuestions(ctx, ev.ID)
	if err != nil {
		return err
	}
	in, vals := bindRegistration(c, questions)
	in.Lang = i18n.Supported(c.FormValue("reg_lang"))
	in.OverrideCapacity = c.FormValue("override_capacity") == "yes"
	vals["reg_lang"] = in.Lang
	if in.OverrideCapacity {
		vals["override_capacity"] = "yes"
	}
	res, err := s.app.AddRegistration(ctx, actor(c), ev.ID, in)
	if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
		p, perr := s.registrationNewPage(c, ev, vals, me)
		if perr != nil {
			return perr
		}
		return s.render(c, http.StatusUnprocessableEntity, "event_registration_new", p)
	} else if err != nil {
		return err
	}
	r := res.Registration
	switch {
	case res.Duplicate:
		s.flash(c, "error", "registrations.already_registered")
	case r.Status == model.RegWaitlisted:
		s.flash(c, "ok", "registrations.added_waitlisted")
	default:
		s.flash(c, "ok", "registrations.added")
	}
	return s.redirect(c, registrationURL(ev.ID, r.ID))
}
