// Package web is Relais' HTTP layer: Echo routes, forms, pages, the JSON API and the
// middleware that guards them. It is the only package that imports Echo.
package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/i18n"
)

// Deps is what the web layer needs; cmd/relais wires it.
type Deps struct {
	App    *app.App
	Config config.Config
	I18n   *i18n.Bundle
	Log    *slog.Logger
	// Secret signs cookies that are not stored server-side (the CSRF cookie is random).
	Secret string
}

// Server holds the handlers' shared state.
type Server struct {
	app      *app.App
	cfg      config.Config
	i18n     *i18n.Bundle
	log      *slog.Logger
	sessions *scs.SessionManager
	views    *views
	secure   bool
	maxBody  int64
	forms    *memLimiter
	// pages caches the anonymous public pages (pagecache.go); forms, the event and
	// questions a registration is checked against (register.go).
	pages    *pageCache
	regForms regFormCache
	// crossOrigin guards the public registration form (publicFormGuard).
	crossOrigin *http.CrossOriginProtection
}

// New builds the Echo instance with every route.
func New(d Deps) (*echo.Echo, error) {
	v, err := loadViews()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(d.Config.BaseURL)
	s := &Server{app: d.App, cfg: d.Config, i18n: d.I18n, log: d.Log, views: v,
		secure: u != nil && u.Scheme == "https", maxBody: int64(d.Config.MaxUploadMB) << 20, forms: newMemLimiter(),
		pages: newPageCache(time.Now), crossOrigin: http.NewCrossOriginProtection()}
	if u != nil && u.Scheme != "" && u.Host != "" {
		// Behind a proxy that rewrites Host, the configured address is still this site.
		if err := s.crossOrigin.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, err
		}
	}
	s.sessions = scs.New()
	s.sessions.Store = d.App.Store.Sessions(userIDFromSession)
	s.sessions.Lifetime = d.Config.SessionLifetime
	s.sessions.IdleTimeout = d.Config.SessionIdle
	s.sessions.Cookie.Name = "relais_session"
	s.sessions.Cookie.HttpOnly = true
	s.sessions.Cookie.SameSite = http.SameSiteLaxMode
	s.sessions.Cookie.Secure = s.secure
	s.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		d.Log.Error("session", "err", err)
		http.Error(w, "session error", http.StatusInternalServerError)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	if e.IPExtractor, err = clientAddress(d.Config.TrustedProxies); err != nil {
		return nil, err
	}
	e.HTTPErrorHandler = s.handleError
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.ReadTimeout = 60 * time.Second
	e.Server.WriteTimeout = 60 * time.Second
	e.Server.IdleTimeout = 120 * time.Second
	s.routes(e)
	return e, nil
}

// clientAddress tells c.RealIP() how to find a request's client. The X-Forwarded-For
// header is read from the right, each entry having been written by the hop before it:
// the first address that is not a trusted proxy (loopback, link-local and private
// addresses, and the trusted_proxies setting) is the client. When all are trusted, the
// client is on the local network and the rightmost entry, written by the proxy in front
// of Relais, is taken: the entries to its left may be the client's own words; so it is
// when an entry cannot be read. Echo's default reads the
// header's first address as it comes, so that anyone could escape the rate limits on
// sign-in and public forms by sending a new one with each request; its XFF extractor
// still believes the leftmost entry when all look local.
func clientAddress(trusted string) (echo.IPExtractor, error) {
	nets, err := config.ParseTrustedProxies(trusted)
	if err != nil {
		return nil, err
	}
	trust := func(ip net.IP) bool {
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() {
			return true
		}
		for _, n := range nets {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	return func(req *http.Request) string {
		client, _, err := net.SplitHostPort(req.RemoteAddr)
		if err != nil {
			client = req.RemoteAddr
		}
		if ip := net.ParseIP(client); ip == nil || !trust(ip) {
			return client
		}
		hops := strings.Split(strings.Join(req.Header.Values(echo.HeaderXForwardedFor), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			ip := hopAddress(hops[i])
			if ip == nil {
				return client
			}
			if i == len(hops)-1 {
				client = ip.String()
			}
			if !trust(ip) {
				return ip.String()
			}
		}
		return client
	}, nil
}

// hopAddress reads one X-Forwarded-For entry: an address, bracketed or not, with or
// without a port (some gateways write "203.0.113.5:51234"); nil when it is none.
func hopAddress(h string) net.IP {
	h = strings.TrimSpace(h)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return net.ParseIP(strings.Trim(h, "[]"))
}

// rateAddress is the client's address as the rate limits count it: an IPv6 address by
// its /64, which a single subscriber usually holds whole and could otherwise walk through.
func rateAddress(c echo.Context) string {
	ip := net.ParseIP(c.RealIP())
	if ip == nil || ip.To4() != nil {
		return c.RealIP()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// Sessions exposes the session manager (tests and background cleanup).
func (s *Server) Sessions() *scs.SessionManager { return s.sessions }

// SessionCleanup deletes expired sessions until ctx ends.
func SessionCleanup(ctx context.Context, a *app.App, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = a.Store.DeleteExpiredSessions(ctx)
			_ = a.Store.PruneRateLimits(ctx, a.Now().Add(-24*time.Hour))
		}
	}
}
