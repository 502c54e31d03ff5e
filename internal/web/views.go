package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/i18n"
	"relais/internal/model"
	"relais/templates"
)

// views holds one template set per page: the layout, every partial and the page. A set
// is parsed on the page's first render and kept: a process holds the parse trees of the
// pages it serves only (about 230 KB each; all of them parsed at start held 11 MB).
type views struct {
	pages map[string]func() (*template.Template, error)
}

// lookup returns the parsed set of a page, parsing it on first use.
func (v *views) lookup(name string) (*template.Template, error) {
	load, ok := v.pages[name]
	if !ok {
		return nil, fmt.Errorf("web: no page template %q", name)
	}
	return load()
}

var funcs = template.FuncMap{
	"markdown": app.RenderMarkdown,
	"add":      func(a, b int) int { return a + b },
	"join":     strings.Join,
	"list":     func(xs ...string) []string { return xs },
	"splitlines": func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	},
	"hasline": func(s, line string) bool {
		for _, l := range strings.Split(s, "\n") {
			if l == line {
				return true
			}
		}
		return false
	},
	"int64": func(v any) int64 {
		switch n := v.(type) {
		case int:
			return int64(n)
		case int64:
			return n
		}
		return 0
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"deref": func(p *time.Time) time.Time {
		if p == nil {
			return time.Time{}
		}
		return *p
	},
	"kb": func(n int64) string {
		if n < 1<<20 {
			return fmt.Sprintf("%d Ko", (n+1023)/1024)
		}
		return fmt.Sprintf("%.1f Mo", float64(n)/(1<<20))
	},
	"thousands": thousands, // report.go
}

// loadViews reads the templates and checks that each file parses, so that a broken
// template still stops the start; the sets themselves are parsed on first use.
func loadViews() (*views, error) {
	layout, err := fs.ReadFile(templates.FS, "layouts/base.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if _, err := template.New("base").Funcs(funcs).Parse(string(layout)); err != nil {
		return nil, fmt.Errorf("templates: layout: %w", err)
	}
	partialFiles, _ := fs.Glob(templates.FS, "partials/*.html")
	partials := make([]string, len(partialFiles))
	for i, part := range partialFiles {
		b, _ := fs.ReadFile(templates.FS, part)
		if _, err := template.New(path.Base(part)).Funcs(funcs).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", part, err)
		}
		partials[i] = string(b)
	}
	pages, _ := fs.Glob(templates.FS, "pages/*.html")
	v := &views{pages: map[string]func() (*template.Template, error){}}
	for _, p := range pages {
		b, _ := fs.ReadFile(templates.FS, p)
		page := string(b)
		if _, err := template.New("page").Funcs(funcs).Parse(page); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", p, err)
		}
		v.pages[strings.TrimSuffix(path.Base(p), ".html")] = sync.OnceValues(func() (*template.Template, error) {
			t := template.New("base").Funcs(funcs)
			if _, err := t.Parse(string(layout)); err != nil {
				return nil, fmt.Errorf("templates: layout: %w", err)
			}
			for i, part := range partialFiles {
				if _, err := t.New(path.Base(part)).Parse(partials[i]); err != nil {
					return nil, fmt.Errorf("templates: %s: %w", part, err)
				}
			}
			if _, err := t.New("page").Parse(page); err != nil {
				return nil, fmt.Errorf("templates: %s: %w", p, err)
			}
			return t, nil
		})
	}
	return v, nil
}

// Page is what every page template receives. Templates call its methods for
// translations and dates: {{.T "key"}}, {{.Date .Event.StartsAt}}.
type Page struct {
	Lang      string
	Title     string
	User      *model.User
	CSRF      string
	Path      string
	Query     string
	Flash     string
	FlashKind string
	Org       *model.Settings
	Form      Form
	Data      map[string]any
	Nav       string
	NoIndex   bool
	Meta      map[string]string // Open Graph and other <meta> tags
	i18n      *i18n.Bundle
	loc       *time.Location
}

// T translates a message id; args are key, value pairs.
func (p *Page) T(id string, args ...any) string { return p.i18n.T(p.Lang, id, args...) }

// N translates a plural message.
func (p *Page) N(id string, n int, args ...any) string { return p.i18n.N(p.Lang, id, n, args...) }

// In sets the time zone used by the date methods (an event's zone) and returns "".
func (p *Page) In(tz string) string {
	if l, err := model.LoadLocation(tz); err == nil {
		p.loc = l
	}
	return ""
}

// Date writes a day in the page's language and zone.
func (p *Page) Date(t time.Time) string { return i18n.Date(t, p.loc, p.Lang) }

// DateTime writes a day and time.
func (p *Page) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return i18n.DateTime(t, p.loc, p.Lang)
}

// Range writes an event's span.
func (p *Page) Range(a, b time.Time) string { return i18n.Range(a, b, p.loc, p.Lang) }

// Clock writes a time of day.
func (p *Page) Clock(t time.Time) string { return i18n.Clock(t, p.loc) }

// InputTime writes a time for an <input type="datetime-local"> in the page's zone.
func (p *Page) InputTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.loc).Format("2006-01-02T15:04")
}

// Err returns the translated error of a form field, or "".
func (p *Page) Err(field string) string {
	if msg, ok := p.Form.Errors[field]; ok {
		return p.T(msg)
	}
	return ""
}

// Val returns the submitted value of a form field.
func (p *Page) Val(field string) string { return p.Form.Values[field] }

// Form carries submitted values and field errors back to a re-rendered page.
type Form struct {
	Values map[string]string
	Errors map[string]string
	Error  string
}

func (s *Server) page(c echo.Context, title string) *Page {
	lang := langOf(c)
	p := &Page{Lang: lang, Title: title, i18n: s.i18n, loc: s.defaultLoc(), Path: c.Request().URL.Path,
		Query: c.Request().URL.RawQuery, Data: map[string]any{}, Form: Form{Values: map[string]string{}, Errors: map[string]string{}}}
	if u, ok := c.Get("user").(*model.User); ok {
		p.User = u
	}
	if tok, ok := c.Get("csrf").(string); ok {
		p.CSRF = tok
	}
	if org, err := s.app.Settings(c.Request().Context()); err == nil {
		p.Org = org
	} else {
		p.Org = &model.Settings{Name: "Relais"}
	}
	if s.sessions != nil && c.Get("session_loaded") == true {
		ctx := c.Request().Context()
		if f := s.sessions.PopString(ctx, "flash"); f != "" {
			p.Flash, p.FlashKind = f, s.sessions.PopString(ctx, "flash_kind")
		}
	}
	return p
}

func (s *Server) defaultLoc() *time.Location {
	l, err := model.LoadLocation(s.cfg.Timezone)
	if err != nil {
		return time.UTC
	}
	return l
}

// render writes a page with a status code.
func (s *Server) render(c echo.Context, status int, name string, p *Page) error {
	t, err := s.views.lookup(name)
	if err != nil {
		return err
	}
	if p.Title != "" && !strings.Contains(p.Title, " ") && p.i18n.Has(p.Lang, p.Title) {
		p.Title = p.T(p.Title)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	c.Response().Header().Set("Content-Language", p.Lang)
	return c.HTMLBlob(status, buf.Bytes())
}

// flash keeps a message for the next page.
func (s *Server) flash(c echo.Context, kind, msgID string) {
	ctx := c.Request().Context()
	s.sessions.Put(ctx, "flash", s.i18n.T(langOf(c), msgID))
	s.sessions.Put(ctx, "flash_kind", kind)
}

func (s *Server) redirect(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}
