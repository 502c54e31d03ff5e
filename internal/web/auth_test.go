package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"relais/internal/model"
	"relais/internal/store/storetest"
)

func TestLoginLogoutAndRoles(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			anon := e.client()
			r := anon.get("/admin/events/new")
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
				t.Fatalf("anonymous: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			e.user(model.RoleOrganizer, "orga@example.tg")
			// Wrong password and unknown account answer the same.
			bad := anon.post("/login", "/login", url.Values{"email": {"orga@example.tg"}, "password": {"wrong password!"}})
			unknown := anon.post("/login", "/login", url.Values{"email": {"nobody@example.tg"}, "password": {"wrong password!"}})
			expect(t, bad, http.StatusUnauthorized, "Adresse e-mail ou mot de passe incorrect.")
			expect(t, unknown, http.StatusUnauthorized, "Adresse e-mail ou mot de passe incorrect.")

			door := e.login(model.RoleDoor)
			expect(t, door.get("/admin"), http.StatusOK)
			expect(t, door.get("/admin/events/new"), http.StatusForbidden, "Vous n’avez pas accès à cette page.")
			expect(t, door.get("/admin/users"), http.StatusForbidden)

			org := e.login(model.RoleOrganizer)
			expect(t, org.get("/admin/events/new"), http.StatusOK, "Nouvelle session")
			expect(t, org.get("/admin/users"), http.StatusForbidden)

			adm := e.login(model.RoleAdmin)
			expect(t, adm.get("/admin/users"), http.StatusOK, "orga@example.tg")

			// Logout ends the session on the server: the old cookie no longer works.
			old := org.http.Jar.Cookies(mustURL(e.srv.URL))
			r = org.post("/admin", "/logout", nil)
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout: %d", r.StatusCode)
			}
			replay := e.client()
			replay.http.Jar.SetCookies(mustURL(e.srv.URL), old)
			if r := replay.get("/admin"); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("session after logout: %d", r.StatusCode)
			}
		})
	}
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}

func TestCSRFAndTamperedSession(t *testing.T) {
	e := newEnv(t, "sqlite")
	org := e.login(model.RoleOrganizer)
	r := org.post("/admin", "/admin/events", url.Values{"_csrf": {"forged-token"}, "title": {"X"}})
	expect(t, r, http.StatusForbidden, "Le formulaire a expiré")
	r = org.do("POST", "/admin/events", strings.NewReader("title=X"), "application/x-www-form-urlencoded")
	expect(t, r, http.StatusForbidden)
	events, _ := e.app.Store.ListEvents(context.Background(), storeFilterAll())
	if len(events) != 0 {
		t.Fatalf("a refused form created %d events", len(events))
	}
	// A tampered or invented session cookie grants nothing.
	c := e.client()
	c.http.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{{Name: "relais_session", Value: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}})
	if r := c.get("/admin"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("tampered cookie: %d", r.StatusCode)
	}
}

func TestSetupOnceThenRefused(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			tok, err := e.app.SetupToken(ctx)
			if err != nil || tok == "" {
				t.Fatalf("setup token: %q %v", tok, err)
			}
			c := e.client()
			expect(t, c.get("/setup?token=wrong"), http.StatusForbidden, "Ce lien de création est invalide")
			form := "/setup?token=" + tok
			r := c.post(form, "/setup", url.Values{"token": {tok}, "name": {"Admin"}, "email": {"admin@example.tg"}, "password": {"123"}, "lang": {"fr"}})
			expect(t, r, http.StatusUnprocessableEntity, "au moins 10 caractères")
			r = c.post(form, "/setup", url.Values{"token": {tok}, "name": {"Admin"}, "email": {"admin@example.tg"}, "password": {"une phrase assez longue"}, "lang": {"fr"}})
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("setup: %d %s", r.StatusCode, snippet(r.body))
			}
			expect(t, c.get("/admin"), http.StatusOK)
			// The token is spent: reusing it is refused and creates nobody.
			c2 := e.client()
			expect(t, c2.get(form), http.StatusForbidden)
			r = c2.post("/login", "/setup", url.Values{"token": {tok}, "name": {"Intrus"}, "email": {"x@example.tg"}, "password": {"une phrase assez longue"}})
			expect(t, r, http.StatusForbidden)
			if users, _ := e.app.Store.ListUsers(ctx); len(users) != 1 {
				t.Fatalf("%d users after reuse", len(users))
			}
			if tok2, _ := e.app.SetupToken(ctx); tok2 != "" {
				t.Fatal("a setup token was issued although an admin exists")
			}
		})
	}
}

// TestLoginRateLimit: after three failures each attempt waits longer (1 s, 2 s, 4 s…),
// and the hard limit per window still applies; counters are per account and per address.
func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, "sqlite")
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	e.app.Now, e.app.Store.Now = clock, clock
	c := e.client()
	try := func() *resp {
		return c.post("/login", "/login", url.Values{"email": {"x@example.tg"}, "password": {"nope nope nope"}})
	}
	for i := 0; i < 3; i++ {
		expect(t, try(), http.StatusUnauthorized, "Adresse e-mail ou mot de passe incorrect.")
	}
	r := try()
	expect(t, r, http.StatusTooManyRequests, "Patientez 1 seconde")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	now = now.Add(1100 * time.Millisecond)
	expect(t, try(), http.StatusUnauthorized)
	expect(t, try(), http.StatusTooManyRequests, "Patientez 2 secondes")
	// Waiting each delay out, the attempts reach the hard limit of the window.
	var last *resp
	for i := 0; i < e.cfg.LoginRate; i++ {
		now = now.Add(time.Minute)
		last = try()
	}
	expect(t, last, http.StatusTooManyRequests, "Trop de tentatives de connexion")
}

func TestAdminManagesUsers(t *testing.T) {
	e := newEnv(t, "sqlite")
	adm := e.login(model.RoleAdmin)
	r := adm.post("/admin/users/new", "/admin/users", url.Values{"name": {"Door"}, "email": {"DOOR2@Example.tg"}, "role": {"door"}, "lang": {"fr"}, "password": {"password123"}})
	expect(t, r, http.StatusUnprocessableEntity, "trop courant")
	r = adm.post("/admin/users/new", "/admin/users", url.Values{"name": {"Door"}, "email": {"DOOR2@Example.tg"}, "role": {"door"}, "lang": {"fr"}, "password": {"porte d'entrée 2017"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.StatusCode, snippet(r.body))
	}
	u, err := e.app.Store.FindUserByEmail(context.Background(), "door2@example.tg")
	if err != nil {
		t.Fatal(err)
	}
	doorC := e.client()
	expectLogin(t, doorC, "door2@example.tg", "porte d'entrée 2017")
	expect(t, doorC.get("/admin"), http.StatusOK)
	// Disabling ends the session at once.
	id := itoa(u.ID)
	r = adm.post("/admin/users/"+id, "/admin/users/"+id+"/disable", nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if r := doorC.get("/admin"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disabled user still in: %d", r.StatusCode)
	}
	// Role change: organizer → the session of the promoted user must be renewed.
	r = adm.post("/admin/users/"+id, "/admin/users/"+id+"/enable", nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("enable: %d", r.StatusCode)
	}
	expectLogin(t, doorC, "door2@example.tg", "porte d'entrée 2017")
	r = adm.post("/admin/users/"+id, "/admin/users/"+id, url.Values{"name": {"Door"}, "email": {"door2@example.tg"}, "role": {"organizer"}, "lang": {"fr"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("role change: %d %s", r.StatusCode, snippet(r.body))
	}
	if r := doorC.get("/admin"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("session survived a role change: %d", r.StatusCode)
	}
}

func expectLogin(t *testing.T, c *client, email, pw string) {
	t.Helper()
	r := c.post("/login", "/login", url.Values{"email": {email}, "password": {pw}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", email, r.StatusCode)
	}
}
