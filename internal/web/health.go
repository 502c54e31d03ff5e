package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

//go:embed static
var staticFS embed.FS

func (s *Server) handleHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 only when the database answers.
func (s *Server) handleReadyz(c echo.Context) error {
	if err := s.app.Store.Ping(c.Request().Context()); err != nil {
		s.log.Error("readiness", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "down"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}

// handleStatic serves the embedded stylesheet, scripts and images, cached for a day.
func (s *Server) handleStatic(c echo.Context) error {
	name := path.Clean("static/" + c.Param("*"))
	if !strings.HasPrefix(name, "static/") {
		return echo.ErrNotFound
	}
	b, err := fs.ReadFile(staticFS, name)
	if err != nil {
		return echo.ErrNotFound
	}
	ct := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
		".png": "image/png", ".svg": "image/svg+xml", ".json": "application/manifest+json", ".ico": "image/x-icon"}[path.Ext(name)]
	if ct == "" {
		ct = http.DetectContentType(b)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, ct, b)
}

func (s *Server) handleFavicon(c echo.Context) error {
	b, err := fs.ReadFile(staticFS, "static/favicon.svg")
	if err != nil {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=604800")
	return c.Blob(http.StatusOK, "image/svg+xml", b)
}
