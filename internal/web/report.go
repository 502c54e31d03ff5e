package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/i18n"
	"relais/internal/store"
	"relais/internal/ticket"
)

// The event report (on screen and printed on A4), its CSV exports, and the engagement
// view of the directory across events.

// reportCharts are the report's charts, drawn in the reader's language.
type reportCharts struct {
	Funnel, PerDay, ByTime, Platforms chart
}

func (s *Server) reportCharts(p *Page, rep *app.Report) reportCharts {
	num := func(n int64) string { return formatCount(p.Lang, n) }
	f := rep.Funnel
	funnel := []chartPoint{{p.T("report.funnel.invited"), f.Invited}, {p.T("report.funnel.accepted"), f.Accepted},
		{p.T("report.funnel.registered"), f.Registered}, {p.T("report.funnel.confirmed"), f.Confirmed},
		{p.T("report.funnel.admitted"), f.Admitted}, {p.T("report.funnel.published"), f.Published}}
	out := reportCharts{Funnel: rowChart("chart-funnel", p.T("report.funnel"), p.T("report.funnel_desc",
		"Invited", num(f.Invited), "Accepted", num(f.Accepted), "Registered", num(f.Registered),
		"Confirmed", num(f.Confirmed), "Admitted", num(f.Admitted), "Published", num(f.Published)), funnel, num)}
	out.Funnel.LabelHeader, out.Funnel.ValueHeader = p.T("report.step"), p.T("report.count")

	days := make([]chartPoint, len(rep.RegistrationsPerDay))
	var total, top int64
	for i, d := range rep.RegistrationsPerDay {
		label := d.Day
		if t, err := time.Parse("2006-01-02", d.Day); err == nil {
			label = t.Format("02/01")
			if p.Lang == "en" {
				label = t.Format("Jan 2")
			}
		}
		days[i] = chartPoint{label, int64(d.Count)}
		total, top = total+int64(d.Count), max(top, int64(d.Count))
	}
	desc := p.T("report.no_data")
	if len(days) > 0 {
		// The days as the page's language writes them ("28 novembre 2026"), not as stored.
		day := func(d string) string {
			t, err := time.ParseInLocation("2006-01-02", d, p.loc)
			if err != nil {
				return d
			}
			return i18n.ShortDate(t.Add(12*time.Hour), p.loc, p.Lang)
		}
		desc = p.T("report.per_day_desc", "Total", num(total), "From", day(rep.RegistrationsPerDay[0].Day),
			"To", day(rep.RegistrationsPerDay[len(days)-1].Day), "Max", num(top))
	}
	out.PerDay = columnChart("chart-per-day", p.T("report.per_day"), desc, days, num)
	out.PerDay.LabelHeader, out.PerDay.ValueHeader = p.T("report.day"), p.T("report.count")

	slots := make([]chartPoint, len(rep.AdmissionsByTime))
	total, top = 0, 0
	for i, sl := range rep.AdmissionsByTime {
		slots[i] = chartPoint{sl.Start, int64(sl.Count)}
		total, top = total+int64(sl.Count), max(top, int64(sl.Count))
	}
	title := p.T("report.by_time", "Minutes", rep.SlotMinutes)
	desc = p.T("report.no_data")
	if len(slots) > 0 {
		desc = p.T("report.by_time_desc", "Total", num(total), "From", rep.AdmissionsByTime[0].Start,
			"To", rep.AdmissionsByTime[len(slots)-1].End, "Max", num(top))
	}
	out.ByTime = columnChart("chart-by-time", title, desc, slots, num)
	out.ByTime.LabelHeader, out.ByTime.ValueHeader = p.T("report.slot"), p.T("report.admitted")

	plats := make([]chartPoint, len(rep.Platforms))
	for i, pc := range rep.Platforms {
		plats[i] = chartPoint{p.T("platform." + pc.Platform), pc.Confirmed}
	}
	out.Platforms = rowChart("chart-platforms", p.T("report.platforms"), p.T("report.platforms_hint"), plats, num)
	out.Platforms.LabelHeader, out.Platforms.ValueHeader = p.T("report.platform"), p.T("report.confirmed")
	for _, c := range []*chart{&out.Funnel, &out.PerDay, &out.ByTime, &out.Platforms} {
		c.DataTitle = p.T("report.data")
	}
	return out
}

// handleReport shows an event's report; the print stylesheet lays it out on A4.
func (s *Server) handleReport(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	rep, err := s.app.EventReport(c.Request().Context(), ev.ID)
	if err != nil {
		return err
	}
	p := s.page(c, "")
	p.Title = p.T("report.title") + " · " + ev.Title
	p.Nav = "events"
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Report"] = rep
	p.Data["Charts"] = s.reportCharts(p, rep)
	p.Data["AttendancePct"] = attendancePct(p.Lang, rep)
	p.Data["Statuses"] = stringsOf(registrationStatuses)
	return s.render(c, http.StatusOK, "event_report", p)
}

// attendancePct writes the attendance rate as each language does ("67 %" in French,
// "67%" in English), or a dash when no seat was confirmed: there is no rate then, and
// "0 %" would read as if nobody came. Rounding never makes it 100 % while someone is
// missing (199 of 200), nor 0 % once someone came.
func attendancePct(lang string, rep *app.Report) string {
	f := rep.Funnel
	if f.Confirmed == 0 {
		return "—"
	}
	pct := strconv.FormatFloat(rep.AttendanceRate*100, 'f', 0, 64)
	switch {
	case pct == "100" && f.Admitted < f.Confirmed:
		pct = "99"
	case pct == "0" && f.Admitted > 0:
		pct = "1"
	}
	if lang == "fr" {
		return pct + "\u00a0%"
	}
	return pct + "%"
}

// writeCSV sends a CSV file that French Excel opens as it is: UTF-8 with a byte order
// mark, ";" between cells (sep=comma for ","), CRLF line ends, and every cell that a
// spreadsheet would run as a formula neutralised (csvSafe).
func writeCSV(c echo.Context, filename string, header []string, rows [][]string) error {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	if c.QueryParam("sep") == "comma" {
		w.Comma = ','
	}
	w.UseCRLF = true
	if err := w.Write(csvSafe(header)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := w.Write(csvSafe(r)); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// handleAdmissionsCSV exports who came in, in the order they came.
func (s *Server) handleAdmissionsCSV(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	yes := true
	rows, _, err := s.app.Store.ListRegistrations(c.Request().Context(), store.RegistrationFilter{EventID: ev.ID, CheckedIn: &yes})
	if err != nil {
		return err
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].CheckedInAt.Before(*rows[j].CheckedInAt) })
	t := func(id string) string { return s.i18n.T(langOf(c), id) }
	loc := ev.Location()
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, []string{r.CheckedInAt.In(loc).Format("2006-01-02 15:04:05"), ticket.FormatReference(r.Reference),
			r.FirstName, r.LastName, r.Email, r.Outlet, r.CheckedInBy, r.CheckedInDevice})
	}
	return writeCSV(c, "arrivees-"+ev.Slug+".csv", []string{t("csv.admitted_at"), t("csv.reference"), t("field.first_name"),
		t("field.last_name"), t("field.email"), t("field.outlet"), t("csv.admitted_by"), t("csv.device")}, out)
}

// handleCoverageCSV exports an event's coverage items, rejected ones included (with
// their status), the latest publication first.
func (s *Server) handleCoverageCSV(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	rows, err := s.app.Store.ListCoverage(c.Request().Context(), store.CoverageFilter{EventID: ev.ID})
	if err != nil {
		return err
	}
	lang := langOf(c)
	t := func(id string) string { return s.i18n.T(lang, id) }
	loc := ev.Location()
	yesNo := func(b bool) string {
		if b {
			return t("coverage.yes")
		}
		return t("coverage.no")
	}
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		published := ""
		if r.PublishedAt != nil {
			published = r.PublishedAt.In(loc).Format("2006-01-02")
		}
		check := r.CheckStatus
		if check == "" {
			check = "pending"
		}
		out = append(out, []string{r.FirstName, r.LastName, r.Outlet, r.Email, t("platform." + r.Platform), r.URL, r.Title,
			published, strconv.Itoa(r.Reach), t("cstatus." + string(r.Status)), t("coverage.by." + r.SubmittedBy),
			t("coverage.check." + check), r.PageTitle, yesNo(r.MentionsEvent), yesNo(r.LinksEvent),
			r.CreatedAt.In(loc).Format("2006-01-02 15:04")})
	}
	return writeCSV(c, "retombees-"+ev.Slug+".csv", []string{t("field.first_name"), t("field.last_name"), t("field.outlet"),
		t("field.email"), t("coverage.field.platform"), t("coverage.field.url"), t("coverage.field.title"),
		t("coverage.field.published_at"), t("coverage.field.reach"), t("coverage.field.status"), t("coverage.admin.submitted_by"),
		t("coverage.admin.check"), t("coverage.field.page_title"), t("coverage.field.mentions"), t("coverage.field.links"),
		t("coverage.admin.created_at")}, out)
}

const engagementPageSize = 50

// handleEngagement ranks the directory's contacts by what they did across events.
func (s *Server) handleEngagement(c echo.Context) error {
	page, _ := strconv.Atoi(c.QueryParam("page"))
	if page < 1 {
		page = 1
	}
	q := c.QueryParam("q")
	rows, total, err := s.app.Store.ListEngagement(c.Request().Context(), store.EngagementFilter{Query: q,
		Limit: engagementPageSize, Offset: (page - 1) * engagementPageSize})
	if err != nil {
		return err
	}
	p := s.page(c, "engagement.title")
	p.Nav = "engagement"
	p.Data["Rows"] = rows
	p.Data["Total"] = int(total)
	pageURL := func(n int) string {
		v := url.Values{"page": {strconv.Itoa(n)}}
		if q != "" {
			v.Set("q", q)
		}
		return "/admin/engagement?" + v.Encode()
	}
	if page > 1 {
		p.Data["PrevURL"] = pageURL(page - 1)
	}
	if int64(page*engagementPageSize) < total {
		p.Data["NextURL"] = pageURL(page + 1)
	}
	p.Data["Page"] = page
	p.Data["Pages"] = (total + engagementPageSize - 1) / engagementPageSize
	p.Form.Values = map[string]string{"q": q}
	return s.render(c, http.StatusOK, "engagement", p)
}

// thousands is the template function that groups digits in the page's language:
// {{thousands $.Lang .Reach}}.
func thousands(lang string, v any) string {
	switch n := v.(type) {
	case int:
		return formatCount(lang, int64(n))
	case int64:
		return formatCount(lang, n)
	}
	return fmt.Sprint(v)
}
