package web

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
)

func actor(c echo.Context) app.Actor { return app.UserActor(currentUser(c)) }

func paramID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, model.ErrNotFound
	}
	return id, nil
}

func (s *Server) handleDashboard(c echo.Context) error {
	ctx := c.Request().Context()
	now := s.app.Now()
	upcoming, err := s.app.Store.ListEvents(ctx, store.EventFilter{EndsFrom: &now,
		Statuses: []model.EventStatus{model.EventDraft, model.EventPublished, model.EventCancelled}})
	if err != nil {
		return err
	}
	past, err := s.app.Store.ListEvents(ctx, store.EventFilter{EndsTo: &now, Desc: true, Limit: 100})
	if err != nil {
		return err
	}
	p := s.page(c, "dashboard.title")
	p.Nav = "events"
	p.Data["Upcoming"] = upcoming
	p.Data["Past"] = past
	return s.render(c, http.StatusOK, "dashboard", p)
}

// eventFormFields are the form fields of the event editor, in order.
var eventFormFields = []string{"title", "slug", "occasion", "theme", "summary", "description", "venue_name",
	"venue_address", "starts_at", "ends_at", "timezone", "capacity", "registration_mode", "registration_opens_at",
	"registration_closes_at", "press_contact_name", "press_contact_email", "press_contact_phone", "language"}

// bindEventForm copies the posted fields into e. Times are read in the event's time zone.
func bindEventForm(c echo.Context, e *model.Event) (map[string]string, map[string]string) {
	vals := map[string]string{}
	for _, f := range eventFormFields {
		vals[f] = strings.TrimSpace(c.FormValue(f))
	}
	vals["description"] = c.FormValue("description")
	errs := map[string]string{}
	e.Title, e.Slug, e.Occasion, e.Theme = vals["title"], vals["slug"], vals["occasion"], vals["theme"]
	e.Summary, e.Description = vals["summary"], strings.ReplaceAll(vals["description"], "\r\n", "\n")
	e.VenueName, e.VenueAddress = vals["venue_name"], vals["venue_address"]
	e.Timezone = vals["timezone"]
	e.RegistrationMode = model.RegistrationMode(vals["registration_mode"])
	e.PressContactName, e.PressContactEmail, e.PressContactPhone = vals["press_contact_name"], model.NormalizeEmail(vals["press_contact_email"]), vals["press_contact_phone"]
	e.Lang = vals["language"]
	loc, err := time.LoadLocation(e.Timezone)
	if err != nil || e.Timezone == "" {
		loc = time.UTC
	}
	parse := func(field string, required bool) *time.Time {
		v := vals[field]
		if v == "" {
			if required {
				errs[field] = "error.required"
			}
			return nil
		}
		t, err := time.ParseInLocation("2006-01-02T15:04", v, loc)
		if err != nil {
			errs[field] = "error.datetime"
			return nil
		}
		t = t.UTC()
		return &t
	}
	if t := parse("starts_at", true); t != nil {
		e.StartsAt = *t
	} else {
		e.StartsAt = time.Time{}
	}
	if t := parse("ends_at", true); t != nil {
		e.EndsAt = *t
	} else {
		e.EndsAt = time.Time{}
	}
	e.RegistrationOpensAt = parse("registration_opens_at", false)
	e.RegistrationClosesAt = parse("registration_closes_at", false)
	e.Capacity = 0
	if v := vals["capacity"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs["capacity"] = "error.number"
		} else {
			e.Capacity = n
		}
	}
	return vals, errs
}

func (s *Server) eventFormPage(c echo.Context, e *model.Event, vals, errs map[string]string) *Page {
	p := s.page(c, "event_form.title_new")
	if e.ID != 0 {
		p.Title = e.Title
	}
	p.Nav = "events"
	p.In(e.Timezone)
	p.Data["Event"] = e
	p.Data["Timezones"] = timezones
	p.Data["NotifyOffer"] = int(s.notifyOffer(c, e)) // campaigns_admin.go
	if vals != nil {
		p.Form.Values = vals
	} else {
		p.Form.Values = map[string]string{"title": e.Title, "slug": e.Slug, "occasion": e.Occasion, "theme": e.Theme,
			"summary": e.Summary, "description": e.Description, "venue_name": e.VenueName, "venue_address": e.VenueAddress,
			"starts_at": p.InputTime(e.StartsAt), "ends_at": p.InputTime(e.EndsAt), "timezone": e.Timezone,
			"capacity": strconv.Itoa(e.Capacity), "registration_mode": string(e.RegistrationMode),
			"registration_opens_at": p.InputTime(deref(e.RegistrationOpensAt)), "registration_closes_at": p.InputTime(deref(e.RegistrationClosesAt)),
			"press_contact_name": e.PressContactName, "press_contact_email": e.PressContactEmail,
			"press_contact_phone": e.PressContactPhone, "language": e.Lang}
	}
	if errs != nil {
		p.Form.Errors = errs
		if len(errs) > 0 {
			p.Form.Error = p.T("error.invalid_form")
		}
	}
	return p
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// timezones offered in the editor; any IANA name is accepted through the API.
var timezones = []string{"Africa/Lome", "Africa/Abidjan", "Africa/Accra", "Africa/Cotonou", "Africa/Dakar",
	"Africa/Douala", "Africa/Kinshasa", "Africa/Lagos", "Africa/Niamey", "Africa/Ouagadougou", "Africa/Bamako",
	"Africa/Casablanca", "Africa/Tunis", "Europe/Paris", "Europe/Brussels", "America/Montreal", "UTC"}

func (s *Server) handleEventNew(c echo.Context) error {
	settings, err := s.app.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	e := &model.Event{Timezone: s.cfg.Timezone, Lang: s.cfg.Lang, RegistrationMode: model.ModeOpen,
		PressContactName: settings.PressContactName, PressContactEmail: settings.PressContactEmail,
		PressContactPhone: settings.PressContactPhone}
	if settings.DefaultTimezone != "" {
		e.Timezone = settings.DefaultTimezone
	}
	return s.render(c, http.StatusOK, "event_form", s.eventFormPage(c, e, nil, nil))
}

func (s *Server) handleEventCreate(c echo.Context) error {
	e := &model.Event{Status: model.EventDraft}
	return s.saveEventForm(c, e)
}

func (s *Server) saveEventForm(c echo.Context, e *model.Event) error {
	vals, errs := bindEventForm(c, e)
	err, notified := error(nil), 0
	if len(errs) == 0 {
		// A change notice goes only if the date, time or venue changed (notices.go).
		notified, err = s.app.SaveEventAndNotify(c.Request().Context(), actor(c), e, c.FormValue("notify_registrants") != "")
	}
	if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
		for k, v := range me.Fields {
			if _, seen := errs[k]; !seen {
				errs[k] = v
			}
		}
	} else if err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.render(c, http.StatusUnprocessableEntity, "event_form", s.eventFormPage(c, e, vals, errs))
	}
	if notified > 0 {
		s.flash(c, "ok", "campaigns.change_notified")
	} else {
		s.flash(c, "ok", "event.saved")
	}
	return s.redirect(c, "/admin/events/"+strconv.FormatInt(e.ID, 10))
}

func (s *Server) handleEventEdit(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "event_form", s.eventFormPage(c, e, nil, nil))
}

func (s *Server) handleEventUpdate(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	return s.saveEventForm(c, e)
}

func (s *Server) adminEvent(c echo.Context) (*model.Event, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.app.Store.FindEventByID(c.Request().Context(), id)
}

func (s *Server) handleEventAdmin(c echo.Context) error {
	ctx := c.Request().Context()
	e, err := s.adminEvent(c)
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
	p.Nav = "events"
	p.In(e.Timezone)
	p.Data["Event"] = e
	p.Data["Agenda"] = agenda
	p.Data["Documents"] = docs
	p.Data["MaxUploadMB"] = s.cfg.MaxUploadMB
	if f, ok := c.Get("agenda_form").(Form); ok {
		p.Form = f
	}
	if msg, ok := c.Get("upload_error").(string); ok {
		p.Data["UploadError"] = msg
	}
	status := http.StatusOK
	if v, ok := c.Get("status_override").(int); ok {
		status = v
	}
	return s.render(c, status, "event_admin", p)
}

func (s *Server) handleEventStatus(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	to := model.EventStatus(c.FormValue("status"))
	if _, err := s.app.SetEventStatus(c.Request().Context(), actor(c), id, to); err != nil {
		return err
	}
	s.flash(c, "ok", "event.status_changed."+string(to))
	return s.redirect(c, "/admin/events/"+strconv.FormatInt(id, 10))
}

func (s *Server) handleAgendaAdd(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	it := &model.AgendaItem{EventID: e.ID, StartTime: c.FormValue("start_time"), Title: c.FormValue("title"), Speaker: c.FormValue("speaker")}
	if err := s.app.AddAgendaItem(c.Request().Context(), actor(c), it); err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			c.Set("agenda_form", Form{Values: map[string]string{"start_time": it.StartTime, "title": it.Title, "speaker": it.Speaker},
				Errors: me.Fields, Error: s.i18n.T(langOf(c), me.Message)})
			c.Set("status_override", http.StatusUnprocessableEntity)
			return s.handleEventAdmin(c)
		}
		return err
	}
	return s.redirect(c, "/admin/events/"+strconv.FormatInt(e.ID, 10)+"#agenda")
}

func (s *Server) handleAgendaUpdate(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	itemID, err := paramID(c, "item")
	if err != nil {
		return err
	}
	it := &model.AgendaItem{ID: itemID, EventID: e.ID, StartTime: c.FormValue("start_time"),
		Title: c.FormValue("title"), Speaker: c.FormValue("speaker")}
	if err := s.app.UpdateAgendaItem(c.Request().Context(), actor(c), it); err != nil {
		if me, ok := err.(*model.Error); !ok || me.Code != model.EInvalid {
			return err
		}
		s.flash(c, "error", "error.invalid_form")
	}
	return s.redirect(c, "/admin/events/"+strconv.FormatInt(e.ID, 10)+"#agenda")
}

func (s *Server) handleAgendaMove(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	itemID, err := paramID(c, "item")
	if err != nil {
		return err
	}
	dir := 1
	if c.FormValue("dir") == "up" {
		dir = -1
	}
	if err := s.app.MoveAgendaItem(c.Request().Context(), actor(c), e.ID, itemID, dir); err != nil {
		return err
	}
	return s.redirect(c, "/admin/events/"+strconv.FormatInt(e.ID, 10)+"#agenda")
}

func (s *Server) handleAgendaDelete(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	itemID, err := paramID(c, "item")
	if err != nil {
		return err
	}
	if err := s.app.DeleteAgendaItem(c.Request().Context(), actor(c), e.ID, itemID); err != nil {
		return err
	}
	return s.redirect(c, "/admin/events/"+strconv.FormatInt(e.ID, 10)+"#agenda")
}

// handleDocumentUpload stores a press-kit file; too large or of a forbidden type
// re-renders the event page with the reason.
func (s *Server) handleDocumentUpload(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	fail := func(msg string, args ...any) error {
		c.Set("upload_error", s.i18n.T(langOf(c), msg, args...))
		c.Set("status_override", http.StatusUnprocessableEntity)
		return s.handleEventAdmin(c)
	}
	fh, err := c.FormFile("file")
	if err != nil {
		if strings.Contains(err.Error(), "request body too large") {
			return fail("error.file_too_large", "MB", s.cfg.MaxUploadMB)
		}
		return fail("error.file_missing")
	}
	if fh.Size > s.maxBody {
		return fail("error.file_too_large", "MB", s.cfg.MaxUploadMB)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, s.maxBody+1))
	if err != nil {
		return err
	}
	if _, err := s.app.AddDocument(c.Request().Context(), actor(c), e.ID, fh.Filename, data, s.maxBody); err != nil {
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			return fail(me.Fields["file"], "MB", s.cfg.MaxUploadMB)
		}
		return err
	}
	s.documentAddedFlash(c, e.ID)
	return s.redirect(c, "/admin/events/"+strconv.FormatInt(e.ID, 10)+"#documents")
}

func (s *Server) handleDocumentDelete(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	docID, err := paramID(c, "doc")
	if err != nil {
		return err
	}
	if err := s.app.DeleteDocument(c.Request().Context(), actor(c), e.ID, docID); err != nil {
		return err
	}
	return s.redirect(c, "/admin/events/"+strconv.FormatInt(e.ID, 10)+"#documents")
}
