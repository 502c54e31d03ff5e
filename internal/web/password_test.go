package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"relais/internal/model"
	"relais/internal/store"
)

func TestPasswordResetOnceWithoutEnumeration(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	e.user(model.RoleOrganizer, "orga@example.tg")
	c := e.client()
	known := c.post("/password/forgot", "/password/forgot", url.Values{"email": {"orga@example.tg"}})
	unknown := c.post("/password/forgot", "/password/forgot", url.Values{"email": {"nobody@example.tg"}})
	expect(t, known, http.StatusOK, "Si un compte existe avec cette adresse")
	expect(t, unknown, http.StatusOK, "Si un compte existe avec cette adresse")
	msgs, _, _ := e.app.Store.ListMessages(ctx, store.MessageFilter{Limit: 10})
	if len(msgs) != 1 || msgs[0].ToEmail != "orga@example.tg" || msgs[0].Kind != "password_reset" {
		t.Fatalf("messages: %+v", msgs)
	}
	full, _ := e.app.Store.FindMessage(ctx, msgs[0].ID)
	tok := regexp.MustCompile(`/password/reset\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(full.TextBody)
	if tok == nil {
		t.Fatalf("no link in %q", full.TextBody)
	}
	// An old session of the user ends with the reset.
	old := e.client()
	expectLogin(t, old, "orga@example.tg", "correct horse battery")
	form := "/password/reset?token=" + tok[1]
	expect(t, c.get(form), http.StatusOK, "Choisir un nouveau mot de passe")
	r := c.post(form, "/password/reset", url.Values{"token": {tok[1]}, "password": {"court"}})
	expect(t, r, http.StatusUnprocessableEntity, "au moins 10 caractères")
	r = c.post(form, "/password/reset", url.Values{"token": {tok[1]}, "password": {"un nouveau mot de passe solide"}})
	expect(t, r, http.StatusOK, "Votre mot de passe est changé")
	if r := old.get("/admin"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("old session survived the reset: %d", r.StatusCode)
	}
	expectLogin(t, e.client(), "orga@example.tg", "un nouveau mot de passe solide")
	// Single use.
	expect(t, c.get(form), http.StatusForbidden, "Ce lien n’est plus valable")
}

func TestSignOutEverywhereAndPrivacyPage(t *testing.T) {
	e := newEnv(t, "sqlite")
	a := e.login(model.RoleOrganizer)
	b := e.client()
	expectLogin(t, b, "organizer@example.tg", "correct horse battery")
	r := a.post("/admin/account", "/admin/account/sign-out-everywhere", nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", r.StatusCode)
	}
	for _, c := range []*client{a, b} {
		if r := c.get("/admin"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("a session survived: %d", r.StatusCode)
		}
	}
	expect(t, e.client().get("/confidentialite"), http.StatusOK, "Vos données personnelles", "24 mois")
}
