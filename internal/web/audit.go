package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"relais/internal/store"
)

const auditPageSize = 50

// auditActorOption is a choice of the person filter: a staff account by id ("12"), or
// an actor without an account by name ("name:holder").
type auditActorOption struct {
	Value, Label string
}

// auditLine is a row of the log as the page shows it.
type auditLine struct {
	store.AuditRow
	Label     string // the action in the reader's language, when the catalogue has it
	EventLink string
}

// handleAudit shows the audit log, newest first, filtered by person and by event.
func (s *Server) handleAudit(c echo.Context) error {
	ctx := c.Request().Context()
	page, _ := strconv.Atoi(c.QueryParam("page"))
	if page < 1 {
		page = 1
	}
	f := store.AuditFilter{Limit: auditPageSize, Offset: (page - 1) * auditPageSize}
	query := url.Values{}
	if a := c.QueryParam("actor"); strings.HasPrefix(a, "name:") && len(a) > 5 {
		f.ActorName = a[5:]
		query.Set("actor", a)
	} else if id, err := strconv.ParseInt(a, 10, 64); err == nil && id > 0 {
		f.ActorID = id
		query.Set("actor", a)
	}
	if id, err := strconv.ParseInt(c.QueryParam("event"), 10, 64); err == nil && id > 0 {
		f.EventID = id
		query.Set("event", c.QueryParam("event"))
	}
	rows, total, err := s.app.Store.ListAuditEntries(ctx, f)
	if err != nil {
		return err
	}
	actors, err := s.app.Store.ListAuditActors(ctx)
	if err != nil {
		return err
	}
	events, err := s.app.Store.ListAuditEvents(ctx)
	if err != nil {
		return err
	}
	p := s.page(c, "audit.title")
	p.Nav = "audit"
	opts := make([]auditActorOption, 0, len(actors))
	for _, a := range actors {
		if a.ActorID != nil {
			opts = append(opts, auditActorOption{Value: strconv.FormatInt(*a.ActorID, 10), Label: a.ActorName})
		} else {
			opts = append(opts, auditActorOption{Value: "name:" + a.ActorName, Label: a.ActorName})
		}
	}
	list := make([]auditLine, len(rows))
	for i, r := range rows {
		list[i].AuditRow = r
		if id := "audit.action." + r.Action; s.i18n.Has(p.Lang, id) {
			list[i].Label = p.T(id)
		}
		if r.EventID != nil {
			list[i].EventLink = "/admin/events/" + strconv.FormatInt(*r.EventID, 10)
		}
	}
	p.Data["Rows"] = list
	p.Data["Actors"] = opts
	p.Data["Events"] = events
	p.Data["Total"] = int(total)
	p.Data["Filtered"] = len(query) > 0
	pageURL := func(n int) string {
		v := url.Values{}
		for k, vs := range query {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(n))
		return "/admin/audit?" + v.Encode()
	}
	if page > 1 {
		p.Data["PrevURL"] = pageURL(page - 1)
	}
	if int64(page*auditPageSize) < total {
		p.Data["NextURL"] = pageURL(page + 1)
	}
	p.Data["Page"] = page
	p.Data["Pages"] = max((total+auditPageSize-1)/auditPageSize, 1)
	p.Form.Values = map[string]string{"actor": query.Get("actor"), "event": query.Get("event")}
	return s.render(c, http.StatusOK, "audit", p)
}
