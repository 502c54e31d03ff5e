package web_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/mail"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// authzLogBuffer collects what the server logs (from its goroutines).
type authzLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *authzLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *authzLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// authzSecrets is what must never reach the logs, by what it is.
type authzSecrets map[string]string

func (s authzSecrets) add(what, v string) {
	if v != "" {
		s[what+" "+v] = v
	}
}

// cookies records the session and CSRF cookies a client holds now.
func (s authzSecrets) cookies(e *env, c *client) {
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "relais_session" || ck.Name == "relais_csrf" {
			s.add(ck.Name+" cookie", ck.Value)
		}
	}
}

// authzFailingSender refuses every message the way SMTP servers do, naming the address.
type authzFailingSender struct{}

func (authzFailingSender) Send(_ context.Context, m *model.Message) error {
	return errors.New("450 4.2.0 <" + m.ToEmail + ">: mailbox busy, try later")
}
func (authzFailingSender) Close() error { return nil }

// TestLogsHoldNoSecrets runs the whole life of a session of Relais (setup, sign-in,
// registration, ticket, invitation, unsubscribe, API, door, password reset, mail) with
// every log line kept at debug level, then looks for every password, token, cookie and
// personal address it used in them.
func TestLogsHoldNoSecrets(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			var buf authzLogBuffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			e, _ := authzNewEnv(t, driver, log, nil)
			secrets := authzLogFlow(t, e, log)
			out := buf.String()
			if !strings.Contains(out, "route=/t/:token") || !strings.Contains(out, "route=/api/v1/events/:id/roster") ||
				!strings.Contains(out, "mail") {
				t.Fatalf("the flow was not logged as expected (request and mail lines):\n%s", snippet(out))
			}
			for what, v := range secrets {
				for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
					if strings.Contains(out, form) {
						i := strings.Index(out, form)
						line := out[strings.LastIndexByte(out[:i], '\n')+1:]
						if j := strings.IndexByte(line, '\n'); j >= 0 {
							line = line[:j]
						}
						t.Errorf("the logs hold the %s:\n%s", what, line)
						break
					}
				}
			}
			t.Logf("%d log lines searched for %d secrets", strings.Count(out, "\n"), len(secrets))
		})
	}
}

var (
	authzResetRe  = regexp.MustCompile(`/password/reset\?token=([A-Za-z0-9_-]+)`)
	authzInviteRe = regexp.MustCompile(`/i/([A-Za-z0-9_-]{20,})`)
	authzAPITokRe = regexp.MustCompile(`rls_[A-Za-z0-9_-]+`)
)

// authzLogFlow drives the flow and returns the secrets it used.
func authzLogFlow(t *testing.T, e *env, log *slog.Logger) authzSecrets {
	ctx := context.Background()
	s := authzSecrets{}
	check := func(r *resp, want int, what string) *resp {
		t.Helper()
		if r.StatusCode != want {
			t.Fatalf("%s: %d, want %d\n%s", what, r.StatusCode, want, snippet(r.body))
		}
		return r
	}

	// First run: the setup link creates the administrator.
	setupTok, err := e.app.SetupToken(ctx)
	if err != nil || setupTok == "" {
		t.Fatalf("setup token: %q %v", setupTok, err)
	}
	s.add("setup token", setupTok)
	adminEmail, adminPw := "afi.mensah.perso@example.tg", "Le port de Lomé au matin"
	s.add("admin email", adminEmail)
	s.add("admin password", adminPw)
	admin := e.client()
	check(admin.post("/setup?token="+setupTok, "/setup", url.Values{"token": {setupTok}, "email": {adminEmail},
		"name": {"Afi Mensah"}, "password": {adminPw}, "lang": {"fr"}}), http.StatusSeeOther, "setup")
	s.cookies(e, admin)
	check(admin.post("/admin", "/logout", nil), http.StatusSeeOther, "logout")
	// A wrong password, then the right one.
	wrongPw := "Mauvais mot de passe 42"
	s.add("wrong password", wrongPw)
	check(admin.post("/login", "/login", url.Values{"email": {adminEmail}, "password": {wrongPw}}), http.StatusUnauthorized, "bad login")
	check(admin.post("/login", "/login", url.Values{"email": {adminEmail}, "password": {adminPw}}), http.StatusSeeOther, "login")
	s.cookies(e, admin)
	s.add("CSRF token", admin.csrf("/admin/account"))

	// An API token, made on the account page and used once.
	r := check(admin.post("/admin/account", "/admin/account/tokens", url.Values{"name": {"Script du service"}}), http.StatusOK, "new API token")
	apiTok := authzAPITokRe.FindString(r.body)
	if apiTok == "" {
		t.Fatalf("no API token on the page:\n%s", snippet(r.body))
	}
	s.add("API token", apiTok)
	check(admin.api("GET", "/api/v1/events", apiTok, ""), http.StatusOK, "API with the token")
	check(admin.api("GET", "/api/v1/events", apiTok+"x", ""), http.StatusUnauthorized, "API with a wrong token")

	// An event, a public registration, the ticket.
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Hour)
	ev := &model.Event{Title: "Les blogueurs et la 4G", StartsAt: start, EndsAt: start.Add(3 * time.Hour),
		RegistrationMode: model.ModeOpen, Status: model.EventPublished, VenueName: "Ministère, Lomé"}
	if err := e.app.SaveEvent(ctx, app.Actor{Name: "test"}, ev); err != nil {
		t.Fatal(err)
	}
	regEmail := "kafui.adjo.perso@example.tg"
	s.add("registrant email", regEmail)
	blogger := e.client()
	page := "/e/" + ev.Slug
	r = check(blogger.post(page, page+"/register", url.Values{"first_name": {"Kafui"}, "last_name": {"Adjo"},
		"email": {regEmail}, "phone": {"90 12 34 56"}, "outlet": {"Le blog de Kafui"}, "consent": {"yes"}}), http.StatusSeeOther, "register")
	ticketURL := r.Header.Get("Location")
	manage := strings.TrimPrefix(ticketURL, "/t/")
	s.add("ticket manage token", manage)
	s.cookies(e, blogger)
	for _, p := range []string{ticketURL, ticketURL + "/qr.png", ticketURL + "/event.ics", ticketURL + "/edit"} {
		check(blogger.get(p), http.StatusOK, p)
	}
	check(blogger.get("/t/"+app.NewToken()), http.StatusNotFound, "unknown ticket")
	reg, err := e.app.Store.FindRegistrationByToken(ctx, manage)
	if err != nil {
		t.Fatal(err)
	}
	s.add("ticket code", reg.TicketCode)

	// An invitation, declined; an unsubscribe link, used twice.
	inviteeEmail := "yawa.agbeko.perso@example.tg"
	s.add("invitee email", inviteeEmail)
	ct, err := e.app.CreateContact(ctx, app.Actor{Name: "test"}, app.ContactForm{FirstName: "Yawa", LastName: "Agbeko", Email: inviteeEmail, Lang: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Invite(ctx, app.Actor{Name: "test"}, ev.ID, []int64{ct.ID}, ""); err != nil {
		t.Fatal(err)
	}
	invTok := authzMailMatch(t, e, inviteeEmail, "invitation", authzInviteRe)
	s.add("invitation token", invTok)
	invitee := e.client()
	check(invitee.get("/i/"+invTok), http.StatusOK, "invitation page")
	check(invitee.post("/i/"+invTok, "/i/"+invTok+"/decline", url.Values{"reason": {"Pas disponible"}}), http.StatusSeeOther, "decline")
	ct, _ = e.app.Store.FindContact(ctx, ct.ID)
	s.add("unsubscribe token", ct.UnsubscribeToken)
	check(invitee.get("/u/"+ct.UnsubscribeToken), http.StatusOK, "unsubscribe page")
	check(invitee.do("POST", "/u/"+ct.UnsubscribeToken, strings.NewReader("List-Unsubscribe=One-Click"),
		"application/x-www-form-urlencoded"), http.StatusOK, "one-click unsubscribe")

	// The door: a link, its page, the roster, a scan.
	link, err := e.app.CreateDoorLink(ctx, app.Actor{Name: "test"}, ev, app.DoorLinkInput{Name: "Entrée principale", AllowSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	s.add("door token", link.Token)
	door := doorByLink(e, link.Token)
	check(e.client().get("/door/l/"+link.Token), http.StatusOK, "door page")
	base := "/api/v1/events/" + itoa(ev.ID)
	check(door.call("GET", base+"/roster", ""), http.StatusOK, "roster")
	check(door.call("GET", base+"/search?q=Kafui", ""), http.StatusOK, "search")
	check(door.call("POST", base+"/checkins", doorScan(reg.TicketCode, "log-nonce-1", "Téléphone")), http.StatusOK, "check-in")
	check(doorByLink(e, link.Token+"x").call("GET", base+"/roster", ""), http.StatusUnauthorized, "wrong door token")

	// A staff member forgets their password.
	orgaEmail, orgaPw, newPw := "edem.kpodar.perso@example.tg", "Le marché de Bè le samedi", "Les cocotiers de la plage"
	s.add("organizer email", orgaEmail)
	s.add("organizer password", orgaPw)
	s.add("new password", newPw)
	if _, err := e.app.CreateUser(ctx, app.Actor{Name: "test"}, app.UserInput{Email: orgaEmail, Name: "Edem Kpodar",
		Role: model.RoleOrganizer, Password: orgaPw, Lang: "fr"}); err != nil {
		t.Fatal(err)
	}
	orga := e.client()
	check(orga.post("/password/forgot", "/password/forgot", url.Values{"email": {orgaEmail}}), http.StatusOK, "forgot")
	resetTok := authzMailMatch(t, e, orgaEmail, "password_reset", authzResetRe)
	s.add("reset token", resetTok)
	form := "/password/reset?token=" + resetTok
	check(orga.get(form), http.StatusOK, "reset form")
	check(orga.post(form, "/password/reset", url.Values{"token": {resetTok}, "password": {newPw}}), http.StatusOK, "reset")
	check(orga.get(form), http.StatusForbidden, "spent reset link")
	check(orga.post("/login", "/login", url.Values{"email": {orgaEmail}, "password": {newPw}}), http.StatusSeeOther, "login after reset")
	s.cookies(e, orga)
	s.add("CSRF token", orga.csrf("/admin/account"))

	// The mail goes out (kept), and a server refuses some of it for a while.
	if _, err := mail.NewWorker(e.app.Store, mail.KeepSender{Logger: log}, mail.WorkerOptions{Logger: log}).RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.QueueTestMail(ctx, adminEmail); err != nil {
		t.Fatal(err)
	}
	if _, err := mail.NewWorker(e.app.Store, authzFailingSender{}, mail.WorkerOptions{Logger: log}).RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// authzMailMatch returns the first group of re in the (only) message of kind to email.
func authzMailMatch(t *testing.T, e *env, email, kind string, re *regexp.Regexp) string {
	t.Helper()
	ctx := context.Background()
	msgs, _, err := e.app.Store.ListMessages(ctx, store.MessageFilter{Query: email, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Kind != kind || m.ToEmail != email {
			continue
		}
		full, err := e.app.Store.FindMessage(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g := re.FindStringSubmatch(full.TextBody); g != nil {
			return g[1]
		}
	}
	t.Fatalf("no %s message to %s matching %s", kind, email, re)
	return ""
}
