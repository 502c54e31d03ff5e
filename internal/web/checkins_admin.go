package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/ticket"
)

// The organizer's side of the door: counters, the check-in log and its conflicts, the
// door links, and the printed attendance sheet and badges.

// doorLinkRow is a door link as the check-in page lists it.
type doorLinkRow struct {
	model.DoorLink
	URL   string
	State string // active, revoked, expired
}

// checkInLogSize is how many lines of the log the check-in page shows.
const checkInLogSize = 200

func checkinsURL(eventID int64) string {
	return "/admin/events/" + strconv.FormatInt(eventID, 10) + "/checkins"
}

// doorLinkURL is the address a phone opens to become a door.
func (s *Server) doorLinkURL(d *model.DoorLink) string {
	return strings.TrimRight(s.cfg.BaseURL, "/") + "/door/l/" + d.Token
}

func (s *Server) handleCheckinsAdmin(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	return s.renderCheckins(c, ev, http.StatusOK, nil)
}

// renderCheckins shows the check-in page; form carries a refused door link form back.
func (s *Server) renderCheckins(c echo.Context, ev *model.Event, status int, form *Form) error {
	ctx := c.Request().Context()
	stats, err := s.app.CheckInStats(ctx, doorOf(c), ev, "")
	if err != nil {
		return err
	}
	log, err := s.app.Store.ListCheckIns(ctx, ev.ID, false, checkInLogSize)
	if err != nil {
		return err
	}
	conflicts, err := s.app.Store.ListCheckIns(ctx, ev.ID, true, checkInLogSize)
	if err != nil {
		return err
	}
	links, err := s.app.Store.ListDoorLinks(ctx, ev.ID)
	if err != nil {
		return err
	}
	now := s.app.Now()
	rows := make([]doorLinkRow, len(links))
	for i, l := range links {
		state := "active"
		switch {
		case l.RevokedAt != nil:
			state = "revoked"
		case !l.Usable(now):
			state = "expired"
		}
		rows[i] = doorLinkRow{DoorLink: l, URL: s.doorLinkURL(&links[i]), State: state}
	}
	p := s.page(c, "")
	p.Title = p.T("checkin.title") + " · " + ev.Title
	p.Nav = "events"
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Stats"] = stats
	p.Data["Log"] = log
	p.Data["Conflicts"] = conflicts
	p.Data["Links"] = rows
	if form != nil {
		p.Form = *form
	} else {
		p.Form.Values = map[string]string{"expires_at": p.InputTime(ev.EndsAt.Add(app.DoorLinkGrace)), "allow_search": "yes"}
	}
	return s.render(c, status, "event_checkins", p)
}

func (s *Server) handleDoorLinkCreate(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	vals := map[string]string{"name": strings.TrimSpace(c.FormValue("name")), "expires_at": strings.TrimSpace(c.FormValue("expires_at")),
		"allow_search": c.FormValue("allow_search"), "allow_walk_ins": c.FormValue("allow_walk_ins")}
	in := app.DoorLinkInput{Name: vals["name"], AllowSearch: vals["allow_search"] == "yes", AllowWalkIns: vals["allow_walk_ins"] == "yes"}
	errs := map[string]string{}
	if v := vals["expires_at"]; v != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", v, ev.Location())
		if err != nil {
			errs["expires_at"] = "error.datetime"
		} else {
			in.ExpiresAt = &t
		}
	}
	if len(errs) == 0 {
		_, err = s.app.CreateDoorLink(c.Request().Context(), actor(c), ev, in)
		if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
			errs = me.Fields
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return s.renderCheckins(c, ev, http.StatusUnprocessableEntity,
			&Form{Values: vals, Errors: errs, Error: s.i18n.T(langOf(c), "error.invalid_form")})
	}
	s.flash(c, "ok", "doorlink.created")
	return s.redirect(c, checkinsURL(ev.ID)+"#door-links")
}

func (s *Server) handleDoorLinkRevoke(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	id, err := paramID(c, "link")
	if err != nil {
		return err
	}
	if err := s.app.RevokeDoorLink(c.Request().Context(), actor(c), ev.ID, id); err != nil {
		return err
	}
	s.flash(c, "ok", "doorlink.revoked")
	return s.redirect(c, checkinsURL(ev.ID)+"#door-links")
}

// handleDoorLinkQR shows a door link's address as a QR code, to open it on a phone.
func (s *Server) handleDoorLinkQR(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	id, err := paramID(c, "link")
	if err != nil {
		return err
	}
	d, err := s.app.Store.FindDoorLink(c.Request().Context(), ev.ID, id)
	if err != nil {
		return err
	}
	png, err := ticket.QRPNG(s.doorLinkURL(d), 360)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "image/png", png)
}

// confirmedByName returns an event's confirmed registrants sorted by last name.
func (s *Server) confirmedByName(c echo.Context, eventID int64) ([]store.RosterEntry, error) {
	ctx := c.Request().Context()
	rows, _, err := s.app.Store.ListRegistrations(ctx, store.RegistrationFilter{EventID: eventID, Status: model.RegConfirmed})
	if err != nil {
		return nil, err
	}
	// In the order of the alphabet as people read it, as the directory sorts: the
	// database may compare bytes (SQLite, PostgreSQL with the C collation), which puts
	// "Ékué" after "Zinsou", and "de Souza" after "Zinsou" too.
	keys := make(map[int64]string, len(rows))
	for _, r := range rows {
		keys[r.ID] = model.FoldText(strings.TrimSpace(r.LastName + " " + r.FirstName))
	}
	sort.SliceStable(rows, func(i, j int) bool { return keys[rows[i].ID] < keys[rows[j].ID] })
	out := make([]store.RosterEntry, len(rows))
	for i := range rows {
		out[i].RegistrationRow = rows[i]
	}
	return out, s.app.Store.AddPlatforms(ctx, eventID, out)
}

// handleAttendanceSheet prints the "feuille d'émargement": the confirmed registrants
// by last name, with their outlet and room to sign.
func (s *Server) handleAttendanceSheet(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	people, err := s.confirmedByName(c, ev.ID)
	if err != nil {
		return err
	}
	p := s.page(c, "")
	p.Title = p.T("print.sheet_title") + " · " + ev.Title
	p.NoIndex = true
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["People"] = people
	return s.render(c, http.StatusOK, "attendance_sheet", p)
}

// badge is one name badge; QR is the ticket code as a PNG data URI.
type badge struct {
	store.RosterEntry
	QR template.URL
}

// badgesPerSheet is how many badges one A4 sheet holds (2 columns of 4).
const badgesPerSheet = 8

// handleBadges prints name badges, 8 to an A4 sheet, each with the ticket's QR code.
func (s *Server) handleBadges(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	people, err := s.confirmedByName(c, ev.ID)
	if err != nil {
		return err
	}
	var sheets [][]badge
	for i, person := range people {
		png, err := ticket.QRPNG(person.TicketCode, 192)
		if err != nil {
			return err
		}
		if i%badgesPerSheet == 0 {
			sheets = append(sheets, make([]badge, 0, badgesPerSheet))
		}
		// A data URI: the sheet prints whole, with no request per badge.
		uri := template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		sheets[len(sheets)-1] = append(sheets[len(sheets)-1], badge{RosterEntry: person, QR: uri})
	}
	p := s.page(c, "")
	p.Title = p.T("print.badges_title") + " · " + ev.Title
	p.NoIndex = true
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Sheets"] = sheets
	p.Data["Count"] = len(people)
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return s.render(c, http.StatusOK, "badges", p)
}
