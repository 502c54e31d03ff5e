package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/i18n"
	"relais/internal/mail"
	"relais/internal/model"
	"relais/internal/store/storetest"
	"relais/internal/web"
	"relais/templates"
)

// env is a running Relais (real router, real database) and helpers to drive it.
type env struct {
	t   *testing.T
	app *app.App
	srv *httptest.Server
	cfg config.Config
}

func newEnv(t *testing.T, driver string) *env {
	t.Helper()
	st := storetest.Open(t, driver)
	cfg := config.Defaults()
	cfg.PasswordMemoryKiB = 1024 // argon2id at its lowest cost: tests hash many passwords
	cfg.SecretKey = strings.Repeat("k", 32)
	// Errors reach the test's output; the rest is noise.
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	a := app.New(st, cfg, log)
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	a.I18n = b
	if a.Mail, err = mail.NewRenderer(templates.FS, b); err != nil {
		t.Fatal(err)
	}
	e, err := web.New(web.Deps{App: a, Config: cfg, I18n: b, Log: log, Secret: cfg.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	return &env{t: t, app: a, srv: srv, cfg: cfg}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// client is a browser-like HTTP client: cookies, no automatic redirects.
type client struct {
	e    *env
	http *http.Client
	lang string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, lang: "fr", http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type resp struct {
	*http.Response
	body string
}

func (c *client) do(method, path string, body io.Reader, ctype string) *resp {
	c.e.t.Helper()
	req, _ := http.NewRequest(method, c.e.srv.URL+path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept-Language", c.lang)
	if method != "GET" && method != "HEAD" {
		// As a browser does (an older one: no Sec-Fetch-Site, which would let Echo's CSRF
		// check pass without a token); the public registration form checks the Origin.
		req.Header.Set("Origin", c.e.srv.URL)
	}
	r, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	return &resp{r, string(b)}
}

func (c *client) get(path string) *resp { return c.do("GET", path, nil, "") }

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf fetches a page and returns its CSRF token.
func (c *client) csrf(path string) string {
	c.e.t.Helper()
	r := c.get(path)
	m := csrfRe.FindStringSubmatch(r.body)
	if m == nil {
		c.e.t.Fatalf("no CSRF token on %s (status %d)", path, r.StatusCode)
	}
	return m[1]
}

// post submits a form with the CSRF token of the page at from.
func (c *client) post(from, path string, vals url.Values) *resp {
	c.e.t.Helper()
	copied := url.Values{}
	for k, v := range vals {
		copied[k] = append([]string(nil), v...)
	}
	vals = copied // the caller's values stay as they were (they may be posted again)
	if vals.Get("_csrf") == "" {
		// A cached public page holds no token: its form relies on Fetch metadata.
		if m := csrfRe.FindStringSubmatch(c.get(from).body); m != nil {
			vals.Set("_csrf", m[1])
		}
	}
	return c.do("POST", path, strings.NewReader(vals.Encode()), "application/x-www-form-urlencoded")
}

func (e *env) user(role model.Role, email string) *model.User {
	e.t.Helper()
	u, err := e.app.CreateUser(context.Background(), app.Actor{Name: "test"}, app.UserInput{Email: email, Name: "Test " + string(role),
		Role: role, Password: "correct horse battery", Lang: "fr"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// login signs a new client in as a new user of the role.
func (e *env) login(role model.Role) *client {
	e.t.Helper()
	email := string(role) + "@example.tg"
	if _, err := e.app.Store.FindUserByEmail(context.Background(), email); err != nil {
		e.user(role, email)
	}
	c := e.client()
	r := c.post("/login", "/login", url.Values{"email": {email}, "password": {"correct horse battery"}})
	if r.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login as %s: %d %s", role, r.StatusCode, r.body)
	}
	return c
}

func expect(t *testing.T, r *resp, status int, contains ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, snippet(r.body))
	}
	for _, s := range contains {
		if !strings.Contains(r.body, s) {
			t.Fatalf("%s %s: body lacks %q\n%s", r.Request.Method, r.Request.URL.Path, s, snippet(r.body))
		}
	}
}

func snippet(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}
