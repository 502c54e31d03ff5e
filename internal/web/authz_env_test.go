package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/i18n"
	"relais/internal/mail"
	"relais/internal/model"
	"relais/internal/store/storetest"
	"relais/internal/ticket"
	"relais/internal/web"
	"relais/templates"
)

// Shared pieces of the security tests (authz_*_test.go): an env whose *echo.Echo and
// logger the test holds, and fixtures of every kind an id in a route may name.

// authzNewEnv is newEnv with a chosen logger and configuration, returning the very
// *echo.Echo that serves the requests (so that its routes are the ones under test).
func authzNewEnv(t *testing.T, driver string, log *slog.Logger, tweak func(*config.Config)) (*env, *echo.Echo) {
	t.Helper()
	st := storetest.Open(t, driver)
	cfg := config.Defaults()
	cfg.PasswordMemoryKiB = 1024 // argon2id at its lowest cost: tests hash many passwords
	cfg.SecretKey = strings.Repeat("k", 32)
	if tweak != nil {
		tweak(&cfg)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	}
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
	return &env{t: t, app: a, srv: srv, cfg: cfg}, e
}

// authzEventFix is one event and one object of every kind that belongs to an event.
type authzEventFix struct {
	ev         *model.Event
	holder     *model.Registration // the ticket holder's registration (confirmed)
	holderC    *model.Contact
	victim     *model.Registration // what staff routes act on (cancel, approve, …)
	victimC    *model.Contact
	inv        *model.Invitation // the holder's own invitation
	victimInv  *model.Invitation // what the revoke route acts on
	link       *model.DoorLink   // the door link used as a caller
	victimLink *model.DoorLink   // what the revoke route acts on
	doc        *model.Document
	item       *model.AgendaItem
	q          *model.Question
	camp       *model.Campaign
	cov        *model.Coverage
	markers    []string // personal data of this event's people: never in a refusal
}

func authzContact(e *env, first, last string) *model.Contact {
	e.t.Helper()
	c := &model.Contact{Email: strings.ToLower(first+"."+last) + "@blog.example.org", FirstName: first, LastName: last,
		Phone: "+22890000000", Outlet: "Le blog de " + first, Lang: "fr", UnsubscribeToken: app.NewToken()}
	if err := e.app.Store.CreateContact(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func authzRegistration(e *env, ev *model.Event, c *model.Contact) *model.Registration {
	e.t.Helper()
	r := &model.Registration{EventID: ev.ID, ContactID: c.ID, Status: model.RegConfirmed, Source: model.SourceOnline, Lang: "fr",
		Answers: "{}", TicketCode: ticket.NewCode(), Reference: ticket.NewReference(), ManageToken: app.NewToken()}
	if err := e.app.Store.CreateRegistration(context.Background(), r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func authzInvitation(e *env, ev *model.Event, c *model.Contact) *model.Invitation {
	e.t.Helper()
	now := time.Now().UTC()
	inv := &model.Invitation{EventID: ev.ID, ContactID: c.ID, Token: app.NewToken(), Status: "sent", SentAt: &now}
	if err := e.app.Store.CreateInvitation(context.Background(), inv); err != nil {
		e.t.Fatal(err)
	}
	return inv
}

// authzEvent builds a published event with people, documents, questions, campaigns,
// coverage, invitations and door links. tag ("A", "B") makes its people's names unique.
func authzEvent(e *env, tag string) *authzEventFix {
	e.t.Helper()
	ctx := context.Background()
	actor := app.Actor{Name: "test"}
	start := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Minute)
	f := &authzEventFix{ev: &model.Event{Title: "Session " + tag + " des blogueurs", StartsAt: start, EndsAt: start.Add(3 * time.Hour),
		RegistrationMode: model.ModeOpen, Status: model.EventPublished, VenueName: "Ministère, Lomé"}}
	if err := e.app.SaveEvent(ctx, actor, f.ev); err != nil {
		e.t.Fatal(err)
	}
	f.holderC = authzContact(e, "Kafui", "Porteur"+tag)
	f.holder = authzRegistration(e, f.ev, f.holderC)
	f.victimC = authzContact(e, "Ama", "Cible"+tag)
	f.victim = authzRegistration(e, f.ev, f.victimC)
	f.inv = authzInvitation(e, f.ev, f.holderC)
	f.victimInv = authzInvitation(e, f.ev, authzContact(e, "Edem", "Invite"+tag))
	f.markers = []string{f.holderC.Email, f.holderC.LastName, f.victimC.Email, f.victimC.LastName, f.holder.ManageToken, f.holder.TicketCode}
	var err error
	if f.link, err = e.app.CreateDoorLink(ctx, actor, f.ev, app.DoorLinkInput{Name: "Entrée principale", AllowSearch: true, AllowWalkIns: true}); err != nil {
		e.t.Fatal(err)
	}
	if f.victimLink, err = e.app.CreateDoorLink(ctx, actor, f.ev, app.DoorLinkInput{Name: "Entrée de service"}); err != nil {
		e.t.Fatal(err)
	}
	pdf := append([]byte("%PDF-1.4\n"), strings.Repeat("x", 200)...)
	if f.doc, err = e.app.AddDocument(ctx, actor, f.ev.ID, "dossier-"+tag+".pdf", pdf, 1<<20); err != nil {
		e.t.Fatal(err)
	}
	f.item = &model.AgendaItem{EventID: f.ev.ID, StartTime: "09:30", Title: "Ouverture", Speaker: "Le ministre"}
	if err := e.app.AddAgendaItem(ctx, actor, f.item); err != nil {
		e.t.Fatal(err)
	}
	f.q = &model.Question{EventID: f.ev.ID, Label: "Votre thématique", Kind: model.QText}
	if err := e.app.SaveQuestion(ctx, actor, f.q); err != nil {
		e.t.Fatal(err)
	}
	if f.camp, err = e.app.CreateCampaign(ctx, actor, f.ev.ID, app.CampaignInput{Segment: model.SegRegistered,
		Subject: "Merci {first_name}", Body: "Bonjour {first_name}, merci."}); err != nil {
		e.t.Fatal(err)
	}
	if f.cov, err = e.app.AddCoverage(ctx, actor, f.ev.ID, app.CoverageInput{RegistrationID: f.holder.ID,
		URL: "https://blog.example.org/" + strings.ToLower(tag) + "/relais", Title: "Mon article"}); err != nil {
		e.t.Fatal(err)
	}
	return f
}

// authzGlobal holds the objects that belong to no event.
type authzGlobal struct {
	a, b        *authzEventFix
	victimUser  *model.User
	victimToken *model.APIToken
	msg         *model.Message
	att         int64
}

func authzFixtures(e *env) *authzGlobal {
	e.t.Helper()
	ctx := context.Background()
	g := &authzGlobal{a: authzEvent(e, "A"), b: authzEvent(e, "B")}
	g.victimUser = e.user(model.RoleOrganizer, "victime@example.tg")
	var err error
	if _, g.victimToken, err = e.app.CreateAPIToken(ctx, app.Actor{Name: "test"}, g.victimUser.ID, "script de la victime"); err != nil {
		e.t.Fatal(err)
	}
	evID, cID := g.a.ev.ID, g.a.holderC.ID
	g.msg = &model.Message{Kind: "test", IdempotencyKey: "authz:" + app.NewToken(), ToEmail: g.a.holderC.Email, ToName: "Kafui",
		FromEmail: "relais@example.tg", Subject: "Votre billet", TextBody: "Bonjour", HTMLBody: "<p>Bonjour</p>", Lang: "fr",
		EventID: &evID, ContactID: &cID,
		Attachments: []model.Attachment{{Filename: "billet.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4\n")}}}
	if _, err := e.app.Store.EnqueueMessage(ctx, g.msg); err != nil {
		e.t.Fatal(err)
	}
	m, err := e.app.Store.FindMessage(ctx, g.msg.ID)
	if err != nil || len(m.Attachments) == 0 {
		e.t.Fatalf("message fixture: %v %+v", err, m)
	}
	g.att = m.Attachments[0].ID
	return g
}

// authzCSRF returns a fresh CSRF cookie value and the matching form token, as a browser
// gets them from the login page.
func authzCSRF(e *env) (cookie, token string) {
	e.t.Helper()
	c := e.client()
	r := c.get("/login")
	m := csrfRe.FindStringSubmatch(r.body)
	if m == nil {
		e.t.Fatalf("no CSRF token on /login: %d", r.StatusCode)
	}
	for _, ck := range r.Cookies() {
		if ck.Name == "relais_csrf" {
			cookie = ck.Value
		}
	}
	if cookie == "" {
		e.t.Fatal("no relais_csrf cookie from /login")
	}
	return cookie, m[1]
}

// authzSessionData signs a user of the role in through the login form and returns the
// session's stored data, so that the test can open as many identical sessions as it
// needs (some routes end the session they are called with).
func authzSessionData(e *env, role model.Role) []byte {
	e.t.Helper()
	c := e.login(role)
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "relais_session" {
			data, ok, err := e.app.Store.Sessions(authzUserIDOf).FindCtx(context.Background(), ck.Value)
			if err != nil || !ok {
				e.t.Fatalf("session of %s: %v %v", role, ok, err)
			}
			return data
		}
	}
	e.t.Fatalf("login as %s set no session cookie", role)
	return nil
}

// authzCloneSession stores a new session with data and returns its cookie value.
func authzCloneSession(e *env, data []byte) string {
	e.t.Helper()
	tok := app.NewToken()
	if err := e.app.Store.Sessions(authzUserIDOf).CommitCtx(context.Background(), tok, data, time.Now().Add(time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func authzUserIDOf(b []byte) *int64 {
	_, values, err := scs.GobCodec{}.Decode(b)
	if err != nil {
		return nil
	}
	if id, ok := values["user_id"].(int64); ok {
		return &id
	}
	return nil
}

// authzDo sends one request with the given headers and cookies and reads the answer.
func authzDo(e *env, method, path string, body io.Reader, hdr map[string]string, cookies ...*http.Cookie) (*resp, error) {
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Language", "fr")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return &resp{r, string(b)}, nil
}
