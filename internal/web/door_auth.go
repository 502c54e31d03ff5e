package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
)

// doorTokenHeader carries a door link's token on the check-in API.
const doorTokenHeader = "X-Door-Token"

// doorLinkStatusHeader tells the door page why its link was refused ("unknown",
// "revoked" or "expired"), beside the 401; the page then wipes what it kept.
const doorLinkStatusHeader = "X-Door-Link"

// scanRoutes are the routes of scans (see doorAuth).
var scanRoutes = map[string]bool{"/api/v1/events/:id/checkins": true, syncRoute: true}

// syncRoute is where a door sends its offline scans: a link that expired recently may
// still send those it made while valid (app.DoorLinkForSync).
const syncRoute = "/api/v1/events/:id/checkins/batch"

// doorAuth authenticates a door link given in X-Door-Token and puts it in the context
// as "door_link". Like an API token, the header is no ambient authority: the request
// skips the session and the CSRF check. A revoked, expired or unknown link is a 401,
// but for the sync of offline scans by a link that expired recently.
func (s *Server) doorAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := c.Request(); r.Method == http.MethodPost && scanRoutes[c.Path()] {
			// A scan is short and its writes are not abandoned with the client (a door
			// retries with the same nonce): its reads are not either. Without a
			// cancellable context, the SQLite driver steps each row inline, not in a
			// goroutine of its own, and database/sql watches no context per query.
			c.SetRequest(r.WithContext(context.WithoutCancel(r.Context())))
		}
		tok := c.Request().Header.Get(doorTokenHeader)
		if tok == "" {
			return next(c)
		}
		if c.Request().Header.Get("Authorization") != "" {
			return model.Errorf(model.EBadRequest, "checkin.two_credentials")
		}
		find := s.app.DoorLinkForToken
		if c.Request().Method == http.MethodPost && c.Path() == syncRoute {
			find = s.app.DoorLinkForSync
		}
		link, err := find(c.Request().Context(), tok)
		if err != nil {
			if model.ErrorCode(err) == model.EUnauthorized {
				status := "unknown"
				switch {
				case link != nil && link.RevokedAt != nil:
					status = "revoked"
				case link != nil:
					status = "expired"
				}
				c.Response().Header().Set(doorLinkStatusHeader, status)
			}
			return err
		}
		c.Set("door_link", link)
		c.Set("api_token", true)
		return next(c)
	}
}

// unlessDoorToken runs the middleware mws (the session, its user and the CSRF check)
// only for requests that no door link or API token authenticated: those carry no
// session, and loading one for them is wasted work on every scan.
func unlessDoorToken(mws ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withSession := next
		for i := len(mws) - 1; i >= 0; i-- {
			withSession = mws[i](withSession)
		}
		return func(c echo.Context) error {
			if c.Get("api_token") == true {
				return next(c)
			}
			return withSession(c)
		}
	}
}

// requireDoor lets through a door link for the event of the path only (any other
// event is a 404, as if it did not exist), and staff of every role.
func (s *Server) requireDoor(next echo.HandlerFunc) echo.HandlerFunc {
	staff := requireRole(model.RoleDoor)(next)
	return func(c echo.Context) error {
		if link := doorLinkOf(c); link != nil {
			if id, err := paramID(c, "id"); err != nil || id != link.EventID {
				return model.ErrNotFound
			}
			return next(c)
		}
		return staff(c)
	}
}

func doorLinkOf(c echo.Context) *model.DoorLink {
	l, _ := c.Get("door_link").(*model.DoorLink)
	return l
}

// doorOf is who checks in through this request.
func doorOf(c echo.Context) app.Door {
	return app.Door{User: currentUser(c), Link: doorLinkOf(c)}
}
