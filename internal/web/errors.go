package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"relais/internal/model"
)

var codeStatus = map[string]int{
	model.EInvalid:      http.StatusUnprocessableEntity,
	model.EBadRequest:   http.StatusBadRequest,
	model.EUnauthorized: http.StatusUnauthorized,
	model.EForbidden:    http.StatusForbidden,
	model.ENotFound:     http.StatusNotFound,
	model.EConflict:     http.StatusConflict,
	model.ETooLarge:     http.StatusRequestEntityTooLarge,
	model.ERateLimited:  http.StatusTooManyRequests,
	model.EUnavailable:  http.StatusServiceUnavailable,
	model.EInternal:     http.StatusInternalServerError,
}

var statusCode = map[int]string{
	http.StatusBadRequest:            model.EBadRequest,
	http.StatusUnauthorized:          model.EUnauthorized,
	http.StatusForbidden:             model.EForbidden,
	http.StatusNotFound:              model.ENotFound,
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              model.EConflict,
	http.StatusRequestEntityTooLarge: model.ETooLarge,
	http.StatusUnprocessableEntity:   model.EInvalid,
	http.StatusTooManyRequests:       model.ERateLimited,
	http.StatusServiceUnavailable:    model.EUnavailable,
}

// handleError is the one place where errors become responses: a JSON error for the
// API, a page in the visitor's language otherwise. Internal errors are logged with the
// request id and never shown.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg := http.StatusInternalServerError, model.EInternal, "error.internal"
	var me *model.Error
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &me):
		code, msg = me.Code, me.Message
		status = codeStatus[me.Code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
	case errors.As(err, &mbe):
		status, code, msg = http.StatusRequestEntityTooLarge, model.ETooLarge, "error.body_too_large"
	case errors.As(err, &he):
		status = he.Code
		code = statusCode[status]
		if code == "" {
			code = model.EInternal
		}
		msg = "error." + code
	}
	if status == http.StatusServiceUnavailable {
		// Busy, not broken (a database locked past its timeout): the visitor tries again.
		s.log.Warn("busy, asked to try again", "id", c.Get("request_id"), "route", c.Path(), "err", err)
		c.Response().Header().Set("Retry-After", "5")
	} else if status >= 500 {
		s.log.Error("internal error", "id", c.Get("request_id"), "route", c.Path(), "err", err)
	}
	if status == http.StatusTooManyRequests {
		if ra, ok := c.Get("retry_after").(string); ok {
			c.Response().Header().Set("Retry-After", ra)
		}
	}
	// A message may name what was wrong (an unknown placeholder, a size): its Args.
	var args []any
	if me != nil {
		for k, v := range me.Args {
			args = append(args, k, v)
		}
	}
	if isAPI(c) {
		body := map[string]any{"code": code, "message": s.i18n.T(langOf(c), msg, args...)}
		if me != nil && len(me.Fields) > 0 {
			fields := map[string]string{}
			for f, m := range me.Fields {
				fields[f] = s.i18n.T(langOf(c), m, args...)
			}
			body["fields"] = fields
		}
		_ = c.JSON(status, map[string]any{"error": body})
		return
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	p := s.page(c, "error.title")
	p.Data["Status"] = status
	p.Data["Message"] = s.i18n.T(langOf(c), msg, args...)
	p.NoIndex = true
	if rerr := s.render(c, status, "error", p); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		_ = c.String(status, http.StatusText(status))
	}
}
