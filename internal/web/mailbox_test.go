package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"relais/internal/mail"
	"relais/internal/model"
	"relais/internal/store"
)

// TestDevMailbox: with no SMTP configured, mail is kept and readable on the Mailbox page.
func TestDevMailbox(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	ev := e.publishedEvent(5, model.ModeOpen)
	page := "/e/" + ev.Slug
	blogger := e.client()
	if r := blogger.post(page, page+"/register", regForm("kafui@example.org")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d", r.StatusCode)
	}
	w := mail.NewWorker(e.app.Store, mail.KeepSender{}, mail.WorkerOptions{})
	if n, err := w.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("worker: %d %v", n, err)
	}
	msgs, _, _ := e.app.Store.ListMessages(ctx, store.MessageFilter{Limit: 10})
	if len(msgs) != 1 || msgs[0].Status != model.MessageSent {
		t.Fatalf("messages: %+v", msgs)
	}
	org := e.login(model.RoleOrganizer)
	r := org.get("/admin/mailbox")
	expect(t, r, http.StatusOK, "Aucun serveur SMTP n’est configuré", "kafui@example.org", "Envoyé")
	id := itoa(msgs[0].ID)
	r = org.get("/admin/mailbox/" + id)
	expect(t, r, http.StatusOK, "Version texte", "/admin/mailbox/"+id+"/html", "billet-qr.png", ".ics")
	html := org.get("/admin/mailbox/" + id + "/html")
	expect(t, html, http.StatusOK, "Les blogueurs et la fibre")
	if !strings.Contains(html.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("mail preview not sandboxed: %v", html.Header)
	}
	att := regexp.MustCompile(`/admin/mailbox/` + id + `/attachments/\d+`).FindString(r.body)
	if a := org.get(att); a.StatusCode != 200 || !strings.HasPrefix(a.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("attachment %s: %d", att, a.StatusCode)
	}
	expect(t, org.get("/admin/mailbox?status=failed"), http.StatusOK, "Aucun courriel.")
	// Door staff may not read the mailbox.
	expect(t, e.login(model.RoleDoor).get("/admin/mailbox"), http.StatusForbidden)
}

func TestLanguageSwitchAndFrenchPlural(t *testing.T) {
	e := newEnv(t, "sqlite")
	c := e.client()
	c.lang = ""
	expect(t, c.get("/"), http.StatusOK, `lang="fr"`, "Sessions à venir")
	r := c.get("/lang?l=en&next=/")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("switch: %d", r.StatusCode)
	}
	expect(t, c.get("/"), http.StatusOK, `lang="en"`, "Upcoming sessions")
	if r := c.get("/lang?l=en&next=//evil.example"); r.Header.Get("Location") != "/" {
		t.Fatalf("open redirect: %s", r.Header.Get("Location"))
	}
	if got := e.app.I18n.N("fr", "event.seats", 0); got != "0 place" {
		t.Fatalf("French plural of 0: %q", got)
	}
	if got := e.app.I18n.N("en", "event.seats", 0); got != "0 seats" {
		t.Fatalf("English plural of 0: %q", got)
	}
}

func TestAccountTokens(t *testing.T) {
	e := newEnv(t, "sqlite")
	org := e.login(model.RoleOrganizer)
	r := org.post("/admin/account", "/admin/account/tokens", url.Values{"name": {"Script de la cellule"}})
	expect(t, r, http.StatusOK, "Copiez-le maintenant")
	tok := regexp.MustCompile(`rls_[A-Za-z0-9_-]+`).FindString(r.body)
	if tok == "" {
		t.Fatal("no token shown")
	}
	if a := org.api("GET", "/api/v1/events", tok, ""); a.StatusCode != 200 {
		t.Fatalf("new token: %d", a.StatusCode)
	}
	r = org.get("/admin/account")
	expect(t, r, http.StatusOK, "Script de la cellule")
	if strings.Contains(r.body, tok) {
		t.Fatal("the clear token is shown again")
	}
	id := regexp.MustCompile(`/admin/account/tokens/(\d+)/revoke`).FindStringSubmatch(r.body)[1]
	org.post("/admin/account", "/admin/account/tokens/"+id+"/revoke", nil)
	if a := org.api("GET", "/api/v1/events", tok, ""); a.StatusCode != 401 {
		t.Fatalf("revoked token: %d", a.StatusCode)
	}
}

// TestMailboxHidesPasswordResets: an organizer who asks for an administrator's password
// reset cannot read its link in the mailbox (and take the account over); an
// administrator can, for the server-less set-up where the mailbox is the only way.
func TestMailboxHidesPasswordResets(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	e.user(model.RoleAdmin, "chef@example.tg")
	if err := e.app.RequestPasswordReset(ctx, "chef@example.tg"); err != nil {
		t.Fatal(err)
	}
	msgs, _, _ := e.app.Store.ListMessages(ctx, store.MessageFilter{Limit: 10})
	if len(msgs) != 1 || msgs[0].Kind != "password_reset" {
		t.Fatalf("messages: %+v", msgs)
	}
	id := itoa(msgs[0].ID)
	org := e.login(model.RoleOrganizer)
	r := org.get("/admin/mailbox/" + id)
	expect(t, r, http.StatusOK, "chef@example.tg", "seul un administrateur peut le lire ici")
	for _, got := range []*resp{r, org.get("/admin/mailbox/" + id + "/html")} {
		if strings.Contains(got.body, "/password/reset") {
			t.Fatalf("an organizer reads the reset link: %s", snippet(got.body))
		}
	}
	r = e.login(model.RoleAdmin).get("/admin/mailbox/" + id)
	expect(t, r, http.StatusOK, "/password/reset?token=")
}
