package web

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/ticket"
)

// handleRegistrationsCSV exports an event's registrations (with the list's filters) as
// a CSV file that French Excel opens as it is: UTF-8 with a byte order mark, ";" between
// cells (sep=comma for ","), CRLF line ends, the header in the reader's language, and
// one column per custom question.
func (s *Server) handleRegistrationsCSV(c echo.Context) error {
	ctx := c.Request().Context()
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	rows, _, err := s.app.Store.ListRegistrations(ctx, registrationFilter(c.QueryParams(), ev.ID))
	if err != nil {
		return err
	}
	questions, err := s.app.Store.ListQuestions(ctx, ev.ID)
	if err != nil {
		return err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ContactID
	}
	contacts, err := s.app.Store.FindContacts(ctx, ids)
	if err != nil {
		return err
	}
	lang := langOf(c)
	t := func(id string) string { return s.i18n.T(lang, id) }
	loc := ev.Location()
	stamp := func(at *time.Time) string {
		if at == nil {
			return ""
		}
		return at.In(loc).Format("2006-01-02 15:04")
	}

	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	if c.QueryParam("sep") == "comma" {
		w.Comma = ','
	}
	w.UseCRLF = true
	header := []string{t("csv.reference"), t("csv.status"), t("csv.source"), t("field.first_name"), t("field.last_name"),
		t("field.email"), t("field.phone"), t("field.outlet"), t("field.blog_url"), t("field.city"), t("field.audience"),
		t("field.channels"), t("csv.registered_at"), t("csv.checked_in_at")}
	for _, q := range questions {
		header = append(header, q.Label)
	}
	if err := w.Write(csvSafe(header)); err != nil {
		return err
	}
	for _, r := range rows {
		ct := contacts[r.ContactID]
		if ct == nil {
			ct = &model.Contact{Email: r.Email, FirstName: r.FirstName, LastName: r.LastName, Phone: r.Phone, Outlet: r.Outlet, City: r.City}
		}
		phone := ""
		if ct.Phone != "" {
			phone = app.FormatPhone(ct.Phone)
		}
		audience := ""
		if ct.Audience > 0 {
			audience = strconv.Itoa(ct.Audience)
		}
		channels := make([]string, 0, len(ct.Channels))
		for _, ch := range ct.Channels {
			channels = append(channels, t("platform."+ch.Platform)+": "+ch.Handle)
		}
		created := r.CreatedAt
		rec := []string{ticket.FormatReference(r.Reference), t("rstatus." + string(r.Status)), t("regadmin.source." + string(r.Source)),
			ct.FirstName, ct.LastName, ct.Email, phone, ct.Outlet, ct.BlogURL, ct.City, audience,
			strings.Join(channels, " | "), stamp(&created), stamp(r.CheckedInAt)}
		answers := decodeAnswers(r.Answers)
		for _, q := range questions {
			rec = append(rec, answerText(s.i18n, lang, q.Kind, answers[strconv.FormatInt(q.ID, 10)], " | "))
		}
		if err := w.Write(csvSafe(rec)); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="inscriptions-`+ev.Slug+`.csv"`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// csvSafe neutralises spreadsheet formulas: a cell that starts with = + - @ (or a tab or
// carriage return, which some spreadsheets skip before reading one) gets a leading
// apostrophe, so that a blogger's "=HYPERLINK(…)" is shown as text and never run.
func csvSafe(rec []string) []string {
	for i, v := range rec {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			rec[i] = "'" + v
		}
	}
	return rec
}
