package web

import (
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/model"
)

// memLimiter counts hits per key in fixed windows, in this process only. Public forms
// use it: their limit only has to stop floods from one address, and keeping it out of
// the database spares the single SQLite writer one transaction per registration. (With
// N instances an address may post N times the limit; logins, whose limit matters for
// security, are counted in the database and shared.)
type memLimiter struct {
	mu      sync.Mutex
	windows map[string]*memWindow
	swept   time.Time
}

type memWindow struct {
	start time.Time
	count int
}

func newMemLimiter() *memLimiter { return &memLimiter{windows: map[string]*memWindow{}} }

// hit counts one hit and reports whether it is within limit, or how long to wait, and
// how many hits the window holds.
func (l *memLimiter) hit(key string, limit int, window time.Duration, now time.Time) (bool, time.Duration, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, w := range l.windows {
			if now.Sub(w.start) > time.Hour {
				delete(l.windows, k)
			}
		}
		l.swept = now
	}
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= window {
		w = &memWindow{start: now}
		l.windows[key] = w
	}
	w.count++
	if w.count > limit {
		return false, window - now.Sub(w.start), w.count
	}
	return true, 0, w.count
}

// formRateGrace is how many posts past the limit still get their form back (a person
// who shares an address with many): past it, a flood gets the short answer, which
// reads nothing from the database.
const formRateGrace = 5

// formRateFlood marks, in the context, a post far over the limit (formRateGrace).
const formRateFlood = "form_rate_flood"

// limitForm applies the per-address limit of public form posts.
func (s *Server) limitForm(c echo.Context) error {
	ok, wait, n := s.forms.hit("form:ip:"+rateAddress(c), s.cfg.FormRate, time.Minute, time.Now())
	if !ok {
		if n > s.cfg.FormRate+formRateGrace {
			c.Set(formRateFlood, true)
		}
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return model.Errorf(model.ERateLimited, "error.form_rate")
	}
	return nil
}
