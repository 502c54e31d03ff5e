package web

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"relais/internal/model"
)

var settingsFields = []string{"name", "about", "website", "address", "sender_name", "sender_email", "reply_to",
	"press_contact_name", "press_contact_email", "press_contact_phone", "default_lang", "default_timezone"}

func (s *Server) handleSettingsForm(c echo.Context) error {
	st, err := s.app.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	p := s.page(c, "settings.title")
	p.Nav = "settings"
	p.Data["Timezones"] = timezones
	p.Form.Values = settingsValues(st)
	return s.render(c, http.StatusOK, "settings", p)
}

func settingsValues(st *model.Settings) map[string]string {
	return map[string]string{"name": st.Name, "about": st.About, "website": st.Website, "address": st.Address,
		"sender_name": st.SenderName, "sender_email": st.SenderEmail, "reply_to": st.ReplyTo,
		"press_contact_name": st.PressContactName, "press_contact_email": st.PressContactEmail,
		"press_contact_phone": st.PressContactPhone, "default_lang": st.DefaultLang, "default_timezone": st.DefaultTimezone}
}

func (s *Server) handleSettingsSave(c echo.Context) error {
	v := map[string]string{}
	for _, f := range settingsFields {
		v[f] = strings.TrimSpace(c.FormValue(f))
	}
	errs := map[string]string{}
	if v["name"] == "" {
		errs["name"] = "error.required"
	}
	limits := map[string]int{"name": 200, "about": 2000, "website": 300, "address": 500, "sender_name": 200,
		"press_contact_name": 200, "press_contact_phone": 50}
	for f, n := range limits {
		if utf8.RuneCountInString(v[f]) > n {
			errs[f] = "error.too_long"
		}
	}
	for _, f := range []string{"sender_email", "reply_to", "press_contact_email"} {
		v[f] = model.NormalizeEmail(v[f])
		if v[f] != "" && !model.ValidEmail(v[f]) {
			errs[f] = "error.email"
		}
	}
	if v["website"] != "" && !strings.HasPrefix(v["website"], "https://") && !strings.HasPrefix(v["website"], "http://") {
		errs["website"] = "error.url"
	}
	if v["default_lang"] != "fr" && v["default_lang"] != "en" {
		errs["default_lang"] = "error.choice"
	}
	if _, err := time.LoadLocation(v["default_timezone"]); err != nil || v["default_timezone"] == "" {
		errs["default_timezone"] = "error.timezone"
	}
	if len(errs) > 0 {
		p := s.page(c, "settings.title")
		p.Nav = "settings"
		p.Data["Timezones"] = timezones
		p.Form = Form{Values: v, Errors: errs, Error: p.T("error.invalid_form")}
		return s.render(c, http.StatusUnprocessableEntity, "settings", p)
	}
	st := &model.Settings{Name: v["name"], About: v["about"], Website: v["website"], Address: v["address"],
		SenderName: v["sender_name"], SenderEmail: v["sender_email"], ReplyTo: v["reply_to"],
		PressContactName: v["press_contact_name"], PressContactEmail: v["press_contact_email"],
		PressContactPhone: v["press_contact_phone"], DefaultLang: v["default_lang"], DefaultTimezone: v["default_timezone"]}
	if err := s.app.SaveSettings(c.Request().Context(), actor(c), st); err != nil {
		return err
	}
	s.flash(c, "ok", "settings.saved")
	return s.redirect(c, "/admin/settings")
}
