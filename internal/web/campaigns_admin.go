package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
)

// Organizer pages of the follow-ups (/admin/events/:id/campaigns): the list with the
// reminder settings, the campaign form, and the campaign page (preview for a real
// recipient, test to oneself, send now or at a set time, progress while it sends).

// campaignPreviewChoices is how many recipients the preview offers to choose from.
const campaignPreviewChoices = 200

func campaignPath(eventID, campaignID int64) string {
	return "/admin/events/" + strconv.FormatInt(eventID, 10) + "/campaigns/" + strconv.FormatInt(campaignID, 10)
}

// adminCampaign reads the event of the URL and its campaign :cid.
func (s *Server) adminCampaign(c echo.Context) (*model.Event, *model.Campaign, error) {
	e, err := s.adminEvent(c)
	if err != nil {
		return nil, nil, err
	}
	id, err := paramID(c, "cid")
	if err != nil {
		return nil, nil, err
	}
	camp, err := s.app.Store.FindCampaign(c.Request().Context(), id)
	if err != nil {
		return nil, nil, err
	}
	if camp.EventID != e.ID {
		return nil, nil, model.ErrNotFound
	}
	return e, camp, nil
}

// campaignRow is a campaign with its progress, for the list. Blocked: a scheduled
// campaign the scheduler would refuse now (the press kit is over the limit, or the
// session is cancelled or archived).
type campaignRow struct {
	model.Campaign
	Progress *app.CampaignProgress
	Blocked  bool
}

func (s *Server) handleCampaigns(c echo.Context) error {
	ctx := c.Request().Context()
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	camps, err := s.app.Store.ListCampaigns(ctx, e.ID)
	if err != nil {
		return err
	}
	over, err := s.app.ScheduledCampaignsOverPressKit(ctx, e.ID)
	if err != nil {
		return err
	}
	blocked := map[int64]bool{}
	for _, c := range over {
		blocked[c.ID] = true
	}
	if e.Status == model.EventCancelled || e.Status == model.EventArchived {
		for _, c := range camps { // the scheduler will not send them (app.closedEventRefusal)
			blocked[c.ID] = c.Status == model.CampaignScheduled
		}
	}
	rows := make([]campaignRow, len(camps))
	for i := range camps {
		p, err := s.app.CampaignProgress(ctx, &camps[i])
		if err != nil {
			return err
		}
		rows[i] = campaignRow{Campaign: camps[i], Progress: p, Blocked: blocked[camps[i].ID]}
	}
	p := s.page(c, "campaigns.title")
	p.Nav = "events"
	p.In(e.Timezone)
	p.Data["Event"] = e
	p.Data["Campaigns"] = rows
	if f, ok := c.Get("campaign_form").(Form); ok {
		p.Form = f
	}
	if err := s.reminderData(c, p, e); err != nil {
		return err
	}
	status := http.StatusOK
	if v, ok := c.Get("status_override").(int); ok {
		status = v
	}
	return s.render(c, status, "event_campaigns", p)
}

// reminderData puts the event's reminder settings and their times on the page.
func (s *Server) reminderData(c echo.Context, p *Page, e *model.Event) error {
	raw, plan, err := s.app.EventReminders(c.Request().Context(), e)
	if err != nil {
		return err
	}
	p.Data["ReminderPlan"] = plan
	if _, ok := p.Form.Values["reminder_offsets"]; !ok {
		p.Form.Values["reminder_offsets"] = strings.ReplaceAll(raw, ",", ", ")
	}
	n, err := s.app.Store.CountActiveRegistrations(c.Request().Context(), e.ID, []model.RegistrationStatus{model.RegConfirmed})
	if err != nil {
		return err
	}
	p.Data["Confirmed"] = int(n)
	return nil
}

func (s *Server) handleReminderOffsets(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	v := c.FormValue("reminder_offsets")
	if err := s.app.SetReminderOffsets(c.Request().Context(), actor(c), e.ID, v); err != nil {
		var me *model.Error
		if errors.As(err, &me) && me.Code == model.EInvalid {
			c.Set("campaign_form", s.translatedForm(c, me, map[string]string{"reminder_offsets": v}))
			c.Set("status_override", http.StatusUnprocessableEntity)
			return s.handleCampaigns(c)
		}
		return err
	}
	s.flash(c, "ok", "reminders.saved")
	return s.redirect(c, "/admin/events/"+strconv.FormatInt(e.ID, 10)+"/campaigns#reminders")
}

// translatedForm turns a validation error into a form whose messages are already
// translated with the error's arguments (an unknown placeholder's name, a size), so
// that Page.Err shows them as they are.
func (s *Server) translatedForm(c echo.Context, me *model.Error, vals map[string]string) Form {
	lang := langOf(c)
	var args []any
	for k, v := range me.Args {
		args = append(args, k, v)
	}
	f := Form{Values: vals, Errors: map[string]string{}, Error: s.i18n.T(lang, me.Message, args...)}
	for field, msg := range me.Fields {
		f.Errors[field] = s.i18n.T(lang, msg, args...)
	}
	return f
}

// segmentOption is a segment with how many people it holds now.
type segmentOption struct {
	Segment model.Segment
	N       int64
}

func (s *Server) campaignFormPage(c echo.Context, e *model.Event, camp *model.Campaign, f *Form) (*Page, error) {
	ctx := c.Request().Context()
	counts, err := s.app.Store.CountSegments(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	opts := make([]segmentOption, len(model.Segments))
	for i, seg := range model.Segments {
		opts[i] = segmentOption{Segment: seg, N: counts[seg]}
	}
	docs, err := s.app.Store.ListDocuments(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	title := "campaigns.new"
	if camp.ID != 0 {
		title = "campaigns.edit"
	}
	p := s.page(c, title)
	p.Nav = "events"
	p.In(e.Timezone)
	p.Data["Event"] = e
	p.Data["Campaign"] = camp
	p.Data["Segments"] = opts
	p.Data["Documents"] = docs
	p.Data["Placeholders"] = app.CampaignPlaceholders
	if f != nil {
		p.Form = *f
	} else {
		attach := ""
		if camp.AttachPressKit {
			attach = "yes"
		}
		p.Form.Values = map[string]string{"segment": string(camp.Segment), "subject": camp.Subject, "body": camp.Body,
			"attach_press_kit": attach}
	}
	return p, nil
}

func (s *Server) handleCampaignNew(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	seg := model.SegAttended
	if e.EndsAt.After(s.app.Now()) {
		seg = model.SegRegistered // before the event, nobody has attended yet
	}
	if v := model.Segment(c.QueryParam("segment")); v.Valid() {
		seg = v
	}
	p, err := s.campaignFormPage(c, e, &model.Campaign{EventID: e.ID, Segment: seg}, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event_campaign_form", p)
}

func bindCampaignForm(c echo.Context) (app.CampaignInput, map[string]string) {
	in := app.CampaignInput{Segment: model.Segment(c.FormValue("segment")), Subject: c.FormValue("subject"),
		Body: c.FormValue("body"), AttachPressKit: c.FormValue("attach_press_kit") != ""}
	vals := map[string]string{"segment": string(in.Segment), "subject": in.Subject, "body": in.Body,
		"attach_press_kit": c.FormValue("attach_press_kit")}
	return in, vals
}

// campaignFormError re-renders the form with the error's messages (422) when err is a
// validation error; other errors go to the error handler.
func (s *Server) campaignFormError(c echo.Context, err error, e *model.Event, camp *model.Campaign, vals map[string]string) error {
	var me *model.Error
	if !errors.As(err, &me) || me.Code != model.EInvalid {
		return err
	}
	f := s.translatedForm(c, me, vals)
	p, perr := s.campaignFormPage(c, e, camp, &f)
	if perr != nil {
		return perr
	}
	return s.render(c, http.StatusUnprocessableEntity, "event_campaign_form", p)
}

func (s *Server) handleCampaignCreate(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	in, vals := bindCampaignForm(c)
	camp, err := s.app.CreateCampaign(c.Request().Context(), actor(c), e.ID, in)
	if err != nil {
		return s.campaignFormError(c, err, e, &model.Campaign{EventID: e.ID}, vals)
	}
	s.flash(c, "ok", "campaigns.saved")
	return s.redirect(c, campaignPath(e.ID, camp.ID))
}

func (s *Server) handleCampaignEdit(c echo.Context) error {
	e, camp, err := s.adminCampaign(c)
	if err != nil {
		return err
	}
	if !camp.Status.Editable() {
		return s.redirect(c, campaignPath(e.ID, camp.ID))
	}
	p, err := s.campaignFormPage(c, e, camp, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event_campaign_form", p)
}

func (s *Server) handleCampaignUpdate(c echo.Context) error {
	e, camp, err := s.adminCampaign(c)
	if err != nil {
		return err
	}
	in, vals := bindCampaignForm(c)
	if _, err := s.app.UpdateCampaign(c.Request().Context(), actor(c), camp.ID, in); err != nil {
		return s.campaignFormError(c, err, e, camp, vals)
	}
	s.flash(c, "ok", "campaigns.saved")
	return s.redirect(c, campaignPath(e.ID, camp.ID))
}

func (s *Server) handleCampaignDelete(c echo.Context) error {
	e, camp, err := s.adminCampaign(c)
	if err != nil {
		return err
	}
	if err := s.app.DeleteCampaign(c.Request().Context(), actor(c), camp.ID); err != nil {
		return err
	}
	s.flash(c, "ok", "campaigns.deleted")
	return s.redirect(c, "/admin/events/"+strconv.FormatInt(e.ID, 10)+"/campaigns")
}

// previewContact reads the ?contact= of the preview, 0 for the first recipient.
func previewContact(c echo.Context) int64 {
	id, _ := strconv.ParseInt(c.QueryParam("contact"), 10, 64)
	if id < 0 {
		return 0
	}
	return id
}

func (s *Server) handleCampaign(c echo.Context) error {
	ctx := c.Request().Context()
	e, camp, err := s.adminCampaign(c)
	if err != nil {
		return err
	}
	progress, err := s.app.CampaignProgress(ctx, camp)
	if err != nil {
		return err
	}
	p := s.page(c, camp.Subject)
	p.Nav = "events"
	p.In(e.Timezone)
	p.Data["Event"] = e
	p.Data["Campaign"] = camp
	p.Data["Progress"] = progress
	p.Data["RecipientCount"] = int(progress.Recipients)
	p.Data["Me"] = currentUser(c)
	p.Data["PressKitMB"] = app.MaxPressKitAttachment >> 20
	// Why the scheduler would refuse it at its time if nothing changes (before), and why
	// it did (camp.LastError, after: the campaign is back to draft).
	problem, err := s.app.ScheduledCampaignProblem(ctx, camp)
	if err != nil {
		return err
	}
	p.Data["Problem"] = problem
	if camp.Status.Editable() {
		contact := previewContact(c)
		preview, err := s.app.PreviewCampaign(ctx, camp, contact)
		if model.ErrorCode(err) == model.ENotFound && contact > 0 {
			contact = 0
			preview, err = s.app.PreviewCampaign(ctx, camp, 0)
		}
		if err != nil {
			var me *model.Error
			if !errors.As(err, &me) || me.Code != model.EInvalid {
				return err
			}
			p.Data["PreviewError"] = s.translatedForm(c, me, nil).Error
		}
		p.Data["Preview"] = preview
		if preview != nil && preview.Recipient != nil {
			contact = preview.Recipient.ContactID
		}
		p.Data["PreviewContact"] = contact
		choices, err := s.app.CampaignRecipients(ctx, camp, campaignPreviewChoices)
		if err != nil {
			return err
		}
		p.Data["Choices"] = choices
		if _, ok := p.Form.Values["scheduled_at"]; !ok {
			at := s.app.Now().Add(time.Hour).Truncate(time.Hour)
			if camp.ScheduledAt != nil {
				at = *camp.ScheduledAt
			}
			p.Form.Values["scheduled_at"] = p.InputTime(at)
		}
	}
	if f, ok := c.Get("campaign_form").(Form); ok {
		p.Form = f
	}
	status := http.StatusOK
	if v, ok := c.Get("status_override").(int); ok {
		status = v
	}
	return s.render(c, status, "event_campaign", p)
}

// handleCampaignPreviewHTML serves the preview's HTML for the page's frame, sandboxed
// like the mailbox's messages.
func (s *Server) handleCampaignPreviewHTML(c echo.Context) error {
	_, camp, err := s.adminCampaign(c)
	if err != nil {
		return err
	}
	preview, err := s.app.PreviewCampaign(c.Request().Context(), camp, previewContact(c))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	return c.HTML(http.StatusOK, preview.HTML)
}

// campaignActionError shows a validation error of an action (test, send, schedule) on
// the campaign page, 422.
func (s *Server) campaignActionError(c echo.Context, err error, vals map[string]string) error {
	var me *model.Error
	if !errors.As(err, &me) || me.Code != model.EInvalid {
		return err
	}
	f := s.translatedForm(c, me, vals)
	if vals == nil {
		f.Values = map[string]string{}
	}
	c.Set("campaign_form", f)
	c.Set("status_override", http.StatusUnprocessableEntity)
	return s.handleCampaign(c)
}

func (s *Server) handleCampaignTest(c echo.Context) error {
	e, camp, err := s.adminCampaign(c)
	if err != nil {
		return err
	}
	contact, _ := strconv.ParseInt(c.FormValue("contact"), 10, 64)
	if err := s.app.SendCampaignTest(c.Request().Context(), actor(c), camp, currentUser(c), contact); err != nil {
		return s.campaignActionError(c, err, nil)
	}
	s.flash(c, "ok", "campaigns.test_sent")
	return s.redirect(c, campaignPath(e.ID, camp.ID))
}

func (s *Server) handleCampaignSend(c echo.Context) error {
	e, camp, err := s.adminCampaign(c)
	if err != nil {
		return err
	}
	if _, err := s.app.SendCampaign(c.Request().Context(), actor(c), camp.ID); err != nil {
		return s.campaignActionError(c, err, nil)
	}
	s.flash(c, "ok", "campaigns.sending")
	return s.redirect(c, campaignPath(e.ID, camp.ID))
}

func (s *Server) handleCampaignSchedule(c echo.Context) error {
	e, camp, err := s.adminCampaign(c)
	if err != nil {
		return err
	}
	v := strings.TrimSpace(c.FormValue("scheduled_at"))
	vals := map[string]string{"scheduled_at": v}
	var at time.Time
	if v != "" {
		if at, err = time.ParseInLocation("2006-01-02T15:04", v, e.Location()); err != nil {
			return s.campaignActionError(c, model.FieldErrors(map[string]string{"scheduled_at": "error.datetime"}), vals)
		}
	}
	if err := s.app.ScheduleCampaign(c.Request().Context(), actor(c), camp.ID, at.UTC()); err != nil {
		return s.campaignActionError(c, err, vals)
	}
	s.flash(c, "ok", "campaigns.scheduled")
	return s.redirect(c, campaignPath(e.ID, camp.ID))
}

func (s *Server) handleCampaignUnschedule(c echo.Context) error {
	e, camp, err := s.adminCampaign(c)
	if err != nil {
		return err
	}
	if err := s.app.UnscheduleCampaign(c.Request().Context(), actor(c), camp.ID); err != nil {
		return err
	}
	s.flash(c, "ok", "campaigns.unscheduled")
	return s.redirect(c, campaignPath(e.ID, camp.ID))
}

// campaignProgressJSON is what the campaign page's script polls.
type campaignProgressJSON struct {
	*app.CampaignProgress
	StatusLabel string `json:"status_label"`
	Done        bool   `json:"done"`
	Percent     int    `json:"percent"`
}

func (s *Server) handleCampaignProgress(c echo.Context) error {
	_, camp, err := s.adminCampaign(c)
	if err != nil {
		return err
	}
	p, err := s.app.CampaignProgress(c.Request().Context(), camp)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, campaignProgressJSON{CampaignProgress: p, Done: p.Done(), Percent: p.Percent(),
		StatusLabel: s.i18n.T(langOf(c), "campaigns.status."+string(p.Status))})
}

// notifyOffer is how many registrants the event form's "notify registrants" would reach.
func (s *Server) notifyOffer(c echo.Context, e *model.Event) int64 {
	n, err := s.app.NotifiableRegistrants(c.Request().Context(), e)
	if err != nil {
		s.log.Error("notifiable registrants", "event", e.ID, "err", err)
		return 0
	}
	return n
}

// documentAddedFlash says a press-kit document was added and, when the press kit is now
// over the attachment limit, which scheduled campaigns attaching it will not go out at
// their time (the upload is kept: it also serves the download page).
func (s *Server) documentAddedFlash(c echo.Context, eventID int64) {
	over, err := s.app.ScheduledCampaignsOverPressKit(c.Request().Context(), eventID)
	if err != nil {
		s.log.Error("campaigns over the press kit limit", "event", eventID, "err", err)
	}
	if len(over) == 0 {
		s.flash(c, "ok", "document.added")
		return
	}
	lang := langOf(c)
	quote := "“%s”"
	if lang == "fr" {
		quote = "« %s »"
	}
	subjects := make([]string, len(over))
	for i, camp := range over {
		subjects[i] = fmt.Sprintf(quote, camp.Subject)
	}
	s.flashMessage(c, "error", s.i18n.N(lang, "document.added_over_limit", len(over),
		"MB", app.MaxPressKitAttachment>>20, "Subjects", strings.Join(subjects, ", ")))
}
