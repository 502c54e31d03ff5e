package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"relais/internal/i18n"
	"relais/internal/model"
)

// requestID gives every request an id, echoed in X-Request-Id and in the logs.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		b := make([]byte, 8)
		rand.Read(b)
		id := hex.EncodeToString(b)
		c.Set("request_id", id)
		c.Response().Header().Set("X-Request-Id", id)
		return next(c)
	}
}

// localOnly answers 404 to a request that came through a proxy, or from outside
// loopback, link-local and private addresses: /metrics is for the monitoring on the
// deployment's own network, which asks each instance directly, not for the Internet.
// A proxied request is refused whatever its header says, as a proxy whose header
// cannot be read leaves only its own, private, address to judge by.
func localOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		ip := net.ParseIP(c.RealIP())
		if h.Get(echo.HeaderXForwardedFor) != "" || h.Get("Forwarded") != "" || h.Get(echo.HeaderXRealIP) != "" ||
			ip == nil || !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()) {
			return model.ErrNotFound
		}
		return next(c)
	}
}

// logRequests writes one structured line per request. The path is logged without its
// query string, and token-bearing paths are shortened, so that no secret reaches the logs.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		path := c.Path()
		if path == "" {
			path = "(unmatched)"
		}
		s.log.LogAttrs(c.Request().Context(), level, "request",
			slog.String("id", fmt.Sprint(c.Get("request_id"))),
			slog.String("method", c.Request().Method),
			slog.String("route", path),
			slog.Int("status", status),
			slog.Int64("bytes", c.Response().Size),
			slog.Duration("took", time.Since(start)),
		)
		return nil
	}
}

// recoverPanics turns a panic into a 500 page and a log line with the stack.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		return next(c)
	}
}

// securityHeaders sets a strict CSP (no inline script) and the other protective headers.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return next(c)
	}
}

// bodyLimit refuses request bodies over n bytes with a 413.
func bodyLimit(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > n {
				return &model.Error{Code: model.ETooLarge, Message: "error.body_too_large"}
			}
			r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(c.Response(), r.Body, n), c: c}
			return next(c)
		}
	}
}

// limitedBody notes in the context that a body without a length went over its limit:
// the CSRF check, which reads the form first, then answers 413 rather than "no token".
type limitedBody struct {
	io.ReadCloser
	c echo.Context
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		b.c.Set("body_too_large", true)
	}
	return n, err
}

// negotiateLang picks the language from the "lang" cookie, then Accept-Language.
func (s *Server) negotiateLang(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cookie := ""
		if ck, err := c.Cookie("lang"); err == nil {
			cookie = ck.Value
		}
		accept := c.Request().Header.Get("Accept-Language")
		lang := s.i18n.Negotiate(cookie, accept)
		if cookie == "" && accept == "" {
			lang = s.cfg.Lang
		}
		c.Set("lang", lang)
		return next(c)
	}
}

func langOf(c echo.Context) string {
	if l, ok := c.Get("lang").(string); ok {
		return l
	}
	return i18n.Langs[0]
}

// loadSession loads the request's session (scs) and notes that it has one: the error
// page of a request refused before this middleware ran (a body over its limit) must not
// touch the session, which scs would answer with a panic.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return echo.WrapMiddleware(s.sessions.LoadAndSave)(func(c echo.Context) error {
		c.Set("session_loaded", true)
		return next(c)
	})
}

// userIDFromSession reads the signed-in user id from encoded session data, so that
// the session table can end every session of a user.
func userIDFromSession(b []byte) *int64 {
	_, values, err := scs.GobCodec{}.Decode(b)
	if err != nil {
		return nil
	}
	if id, ok := values["user_id"].(int64); ok {
		return &id
	}
	return nil
}

// loadUser puts the signed-in, active user (if any) in the context as "user".
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if id := s.sessions.GetInt64(ctx, "user_id"); id != 0 {
			u, err := s.app.Store.FindUserByID(ctx, id)
			if err == nil && u.Active() && string(u.Role) == s.sessions.GetString(ctx, "role") {
				c.Set("user", u)
			} else if err == nil || model.ErrorCode(err) == model.ENotFound {
				// Disabled, removed or role changed: the session no longer grants anything.
				_ = s.sessions.Destroy(ctx)
			} else {
				return err
			}
		}
		return next(c)
	}
}

// bearerAuth accepts "Authorization: Bearer rls_…" API tokens on /api routes.
func (s *Server) bearerAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		if h == "" {
			return next(c)
		}
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return model.Errorf(model.EUnauthorized, "error.bad_token")
		}
		u, err := s.app.UserForAPIToken(c.Request().Context(), strings.TrimSpace(tok))
		if err != nil {
			return err
		}
		c.Set("user", u)
		c.Set("api_token", true)
		return next(c)
	}
}

// requireRole lets through users whose role includes min; anonymous visitors of pages
// are sent to the login page, API callers get 401, other users a 403.
func requireRole(min model.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, _ := c.Get("user").(*model.User)
			if u == nil {
				// A door link's token grants no staff page: 401, not the login form.
				if isAPI(c) || c.Request().Header.Get(doorTokenHeader) != "" {
					return model.Errorf(model.EUnauthorized, "error.login_required")
				}
				return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(safeNext(c.Request().URL.RequestURI())))
			}
			if !u.Role.AtLeast(min) {
				return model.Errorf(model.EForbidden, "error.forbidden")
			}
			return next(c)
		}
	}
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

// safeNext keeps only local paths for post-login redirects.
func safeNext(p string) string { return localPath(p, "/admin") }

// localPath returns p when it is a path on this site, fallback otherwise. Browsers drop
// tabs and line breaks from an address and read a backslash as a slash, so "/\t/evil.example"
// and "/\\evil.example" would take the visitor to another site: control characters and
// backslashes are refused anywhere, as is anything a URL parser reads with a host.
func localPath(p, fallback string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return fallback
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return fallback
		}
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	return p
}

func currentUser(c echo.Context) *model.User {
	u, _ := c.Get("user").(*model.User)
	return u
}
