package web

import (
	"io/fs"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"relais/internal/model"
)

// The door page: the phone (or laptop with a USB scanner) that admits people at the
// entrance. It is a small PWA: door.js talks to the check-in API, keeps the event's
// roster in the browser and queues scans while the network is down; door-sw.js keeps
// the page itself so that it opens offline.

// doorScriptMessages are the catalogue ids (under "door.js.") that door.js needs; the
// page carries them translated, so that the script holds no text of its own.
var doorScriptMessages = []string{
	"ok", "already", "already_time", "unknown_code", "other_event", "cancelled", "waitlisted", "pending",
	"rejected", "error", "offline_saved", "pending_one", "pending_other", "synced", "conflict", "undone",
	"undo_offline", "no_qr", "photo_offline", "reading", "camera_error", "no_results", "admit", "admitted_at",
	"st_confirmed", "st_waitlisted", "st_pending", "st_cancelled", "st_rejected", "refused", "link_ended",
	"ended_none", "ended_one", "ended_other",
}

// doorHeaders: the page carries a secret (the door link's token) in its URL and personal
// data in its body, so it is never sent as a referrer nor kept by shared caches; and it
// alone may use the camera (securityHeaders denies it everywhere else).
func doorHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
		h.Set("X-Robots-Tag", "noindex")
		return next(c)
	}
}

// handleDoorLinkPage opens the door page of a door link: the token in the URL is the key,
// no session is needed. A revoked or expired link gets a page that says so and wipes what
// the browser kept for the event.
func (s *Server) handleDoorLinkPage(c echo.Context) error {
	ctx := c.Request().Context()
	link, err := s.app.DoorLinkForToken(ctx, c.Param("token"))
	if model.ErrorCode(err) == model.EUnauthorized {
		if link != nil { // revoked or expired
			return s.doorGone(c, link.EventID)
		}
		return s.doorGone(c, 0)
	} else if err != nil {
		return err
	}
	ev, err := s.app.Store.FindEventByID(ctx, link.EventID)
	if err != nil {
		return err
	}
	p := s.doorPage(c, ev, link.Name)
	p.Data["Auth"] = "link"
	p.Data["Token"] = link.Token
	p.Data["AllowSearch"] = link.AllowSearch
	p.Data["AllowWalkIns"] = link.AllowWalkIns
	return s.render(c, http.StatusOK, "door", p)
}

// handleDoorStaffPage opens the door page of an event for signed-in staff; the API calls
// then go with the session cookie and the CSRF token.
func (s *Server) handleDoorStaffPage(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return model.ErrNotFound
	}
	ev, err := s.app.Store.FindEventByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	u := currentUser(c)
	p := s.doorPage(c, ev, u.Name)
	p.Data["Auth"] = "session"
	p.Data["AllowSearch"] = true
	p.Data["AllowWalkIns"] = true
	return s.render(c, http.StatusOK, "door", p)
}

func (s *Server) doorPage(c echo.Context, ev *model.Event, door string) *Page {
	p := s.page(c, ev.Title)
	p.NoIndex = true
	p.In(ev.Timezone)
	p.Data["Event"] = ev
	p.Data["Door"] = door
	msgs := make(map[string]string, len(doorScriptMessages))
	for _, id := range doorScriptMessages {
		msgs[id] = p.T("door.js." + id)
	}
	p.Data["Messages"] = msgs
	return p
}

// doorGone answers a door link that no longer works (410) or never existed (404).
func (s *Server) doorGone(c echo.Context, eventID int64) error {
	p := s.page(c, "door.gone_title")
	p.NoIndex = true
	status := http.StatusNotFound
	if eventID != 0 {
		status = http.StatusGone
		p.Data["EventID"] = eventID
	}
	return s.render(c, status, "door_gone", p)
}

// handleDoorServiceWorker serves the service worker from /door/ so that its scope covers
// the door pages (and nothing else of the site).
func (s *Server) handleDoorServiceWorker(c echo.Context) error {
	b, err := fs.ReadFile(staticFS, "static/door-sw.js")
	if err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Service-Worker-Allowed", "/door/")
	h.Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", b)
}

// handleDoorManifest serves the web app manifest inside the door scope. It names no
// start_url: an installed door page opens the link (or event) it was installed from.
func (s *Server) handleDoorManifest(c echo.Context) error {
	b, err := fs.ReadFile(staticFS, "static/door.webmanifest")
	if err != nil {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "application/manifest+json", b)
}
