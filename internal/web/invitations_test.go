package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// invClock is the application's clock in these tests. It starts days in the past, so
// that moving it forward to the real time makes invitations due for their reminder
// while staff sessions (whose expiry scs sets from the real clock) stay valid.
type invClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *invClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *invClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC().Truncate(time.Microsecond)
	c.mu.Unlock()
}

// invSetup makes emailed links point at the test server and gives the app a clock
// set 80 hours back.
func invSetup(e *env) *invClock {
	clk := &invClock{}
	clk.Set(time.Now().Add(-80 * time.Hour))
	e.app.Now, e.app.Store.Now = clk.Now, clk.Now
	e.app.Config.BaseURL = e.srv.URL
	return clk
}

// invContact adds a contact to the directory with tags, as an import would.
func invContact(e *env, first, last, email, lang string, tags ...string) *model.Contact {
	e.t.Helper()
	c := &model.Contact{FirstName: first, LastName: last, Email: email, Lang: lang, Outlet: "Le blog de " + first,
		City: "Lomé", Phone: "+22890123456", UnsubscribeToken: app.NewToken(), Tags: tags,
		Channels: []model.ContactChannel{{Platform: "facebook", Handle: strings.ToLower(first) + ".blog"}}}
	if err := e.app.Store.CreateContact(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

var invLinkRe = regexp.MustCompile(`https?://[^\s"<>]+/i/[A-Za-z0-9_-]+`)

// invLink returns the invitation link of the (only) invitation email queued to email.
func invLink(e *env, email string) string {
	e.t.Helper()
	msgs, _, err := e.app.Store.ListMessages(context.Background(), store.MessageFilter{Query: email, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var links []string
	for _, m := range msgs {
		if m.Kind != "invitation" || m.ToEmail != email {
			continue
		}
		full, err := e.app.Store.FindMessage(context.Background(), m.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		links = append(links, invLinkRe.FindString(full.TextBody))
	}
	if len(links) != 1 || links[0] == "" {
		e.t.Fatalf("invitation links to %s: %q", email, links)
	}
	return strings.TrimPrefix(links[0], e.srv.URL)
}

func invCount(e *env, kind, email string) int {
	e.t.Helper()
	msgs, _, err := e.app.Store.ListMessages(context.Background(), store.MessageFilter{Query: email, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Kind == kind && m.ToEmail == email && m.Status != model.MessageCancelled {
			n++
		}
	}
	return n
}

// invFlash follows a redirect and returns the page it lands on.
func invFollow(t *testing.T, c *client, r *resp) *resp {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s %s: status %d, want 303\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, snippet(r.body))
	}
	return c.get(r.Header.Get("Location"))
}

// TestInvitationFlowThroughPages: an organizer invites a tag from the event's page; each
// contact gets one email; inviting again is refused with a clear message; one contact
// accepts through the pre-filled form (confirmed in approval mode, source invitation),
// another declines with a reason, a third is revoked; non-responders are reminded once
// and not before the delay.
func TestInvitationFlowThroughPages(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			clk := invSetup(e)
			ctx := context.Background()
			ev := e.publishedEvent(30, model.ModeApproval)
			kafui := invContact(e, "Kafui", "Adjo", "kafui@example.tg", "fr", "tech")
			edem := invContact(e, "Edem", "Kossi", "edem@example.tg", "fr", "tech")
			ama := invContact(e, "Ama", "Mensah", "ama@example.tg", "en", "tech")
			yao := invContact(e, "Yao", "Agbeko", "yao@example.tg", "fr", "tech")
			invContact(e, "Sena", "Ahiadzro", "sena@example.tg", "fr", "kara")
			org := e.login(model.RoleOrganizer)
			page := "/admin/events/" + itoa(ev.ID) + "/invitations"
			expect(t, org.get("/admin/events/"+itoa(ev.ID)), http.StatusOK, `href="`+page+`"`)
			expect(t, org.get(page), http.StatusOK, "Inviter des contacts", `<option value="tech">`, "Aucune invitation pour le moment.")
			// A tag nobody has: the form comes back with the message.
			expect(t, org.post(page, page, url.Values{"tag": {"inconnu"}}), http.StatusUnprocessableEntity, "Aucun contact ne porte ce mot-clé.")
			r := org.post(page, page, url.Values{"tag": {"tech"}, "note": {"Votre regard nous intéresse."}})
			expect(t, invFollow(t, org, r), http.StatusOK, "4 invitations envoyées.", "Envoyée : <strong>4</strong>", "Kafui Adjo", "ama@example.tg")
			for _, c := range []*model.Contact{kafui, edem, ama, yao} {
				if n := invCount(e, "invitation", c.Email); n != 1 {
					t.Fatalf("%s: %d invitation emails", c.Email, n)
				}
			}
			// Inviting again (from the directory's form): refused, named, nothing queued.
			r = org.post(page, "/admin/invitations", url.Values{"event_id": {itoa(ev.ID)}, "contact_id": {itoa(kafui.ID), itoa(edem.ID)}})
			expect(t, invFollow(t, org, r), http.StatusOK, "Aucune invitation envoyée.", "Déjà invité·e (ignoré·e) : Kafui Adjo, Edem Kossi.")
			if n := invCount(e, "invitation", kafui.Email); n != 1 {
				t.Fatalf("after inviting again: %d emails", n)
			}
			// From the directory with nobody selected: back there, with the reason.
			r = org.post(page, "/admin/invitations", url.Values{"event_id": {itoa(ev.ID)}, "tag": {""}, "back": {"/admin/contacts?tag=tech"}})
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/contacts?tag=tech" {
				t.Fatalf("empty invite from the directory: %d %q", r.StatusCode, r.Header.Get("Location"))
			}
			expect(t, org.get(page), http.StatusOK, "Choisissez au moins un contact, ou un mot-clé.")

			// Kafui accepts through the emailed link: the form is pre-filled from the directory.
			link := invLink(e, kafui.Email)
			blogger := e.client()
			r = blogger.get(link)
			expect(t, r, http.StatusOK, "Les blogueurs et la fibre", "Votre regard nous intéresse.", `value="Kafui"`, `value="Adjo"`,
				`value="Le blog de Kafui"`, `value="kafui.blog"`, "kafui@example.tg", "Décliner l’invitation")
			if r.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(r.Header.Get("Cache-Control"), "no-store") {
				t.Fatalf("invitation page headers %v", r.Header)
			}
			form := url.Values{"first_name": {""}, "last_name": {"Adjo"}, "phone": {"90 12 34 56"}, "outlet": {"Le blog de Kafui"},
				"channel_facebook": {"kafui.blog"}, "city": {"Lomé"}, "consent": {"yes"}, "email": {"intrus@example.tg"}}
			expect(t, blogger.post(link, link+"/accept", form), http.StatusUnprocessableEntity, "Ce champ est obligatoire.", `value="Adjo"`, `value="Le blog de Kafui"`)
			form.Set("first_name", "Kafui")
			r = blogger.post(link, link+"/accept", form)
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/t/") {
				t.Fatalf("accept: %d %s", r.StatusCode, snippet(r.body))
			}
			ticket := r.Header.Get("Location")
			expect(t, blogger.get(ticket), http.StatusOK, "Confirmée", "Kafui Adjo")
			reg, err := e.app.Store.FindRegistrationFor(ctx, ev.ID, kafui.ID)
			if err != nil || reg.Status != model.RegConfirmed || reg.Source != model.SourceInvitation {
				t.Fatalf("registration %+v %v", reg, err)
			}
			if _, err := e.app.Store.FindContactByEmail(ctx, "intrus@example.tg"); err == nil {
				t.Fatal("the form's address was used instead of the invited one")
			}
			// Answering again shows the answer and the ticket.
			expect(t, blogger.get(link), http.StatusOK, "Vous avez accepté l’invitation", `href="`+ticket+`"`)

			// Edem declines with a reason, then sees the thank-you page (and may still accept).
			link2 := invLink(e, edem.Email)
			other := e.client()
			r = other.post(link2, link2+"/decline", url.Values{"reason": {strings.Repeat("x", 1001)}})
			expect(t, r, http.StatusUnprocessableEntity, "Ce texte est trop long.")
			r = other.post(link2, link2+"/decline", url.Values{"reason": {"En reportage à Kara ce jour-là."}})
			expect(t, invFollow(t, other, r), http.StatusOK, "Merci pour votre réponse", "En reportage à Kara ce jour-là.",
				"Vous changez d’avis ?", "Je confirme ma venue")
			expect(t, org.get(page), http.StatusOK, "Déclinée", "En reportage à Kara ce jour-là.", "Acceptée")

			// Revoke Yao's invitation: the link answers 404, in French.
			invs, _ := e.app.Store.ListInvitations(ctx, ev.ID, "")
			var yaoInv store.InvitationRow
			for _, row := range invs {
				if row.ContactID == yao.ID {
					yaoInv = row
				}
			}
			link4 := invLink(e, yao.Email)
			r = org.post(page, page+"/"+itoa(yaoInv.ID)+"/revoke", nil)
			expect(t, invFollow(t, org, r), http.StatusOK, "Invitation retirée", "Retirée")
			expect(t, e.client().get(link4), http.StatusNotFound, "Cette invitation n’existe pas ou a été retirée.")
			expect(t, e.client().get("/i/nonexistenttokennonexistenttoken"), http.StatusNotFound, "Cette invitation n’existe pas")

			// Remind: nobody yet; after the delay, Ama (the only non-responder), once.
			clk.Set(clk.Now().Add(time.Hour))
			r = org.post(page, page+"/remind", nil)
			expect(t, invFollow(t, org, r), http.StatusOK, "Personne à relancer pour le moment.")
			clk.Set(time.Now())
			expect(t, org.get(page), http.StatusOK, "Relancer 1 personne")
			r = org.post(page, page+"/remind", nil)
			expect(t, invFollow(t, org, r), http.StatusOK, "1 relance envoyée.")
			r = org.post(page, page+"/remind", nil)
			expect(t, invFollow(t, org, r), http.StatusOK, "Personne à relancer pour le moment.")
			for c, want := range map[*model.Contact]int{ama: 1, kafui: 0, edem: 0, yao: 0} {
				if n := invCount(e, "invitation_reminder", c.Email); n != want {
					t.Fatalf("%s: %d reminders, want %d", c.Email, n, want)
				}
			}
			counts, _ := e.app.Store.CountInvitations(ctx, ev.ID)
			if counts["accepted"] != 1 || counts["declined"] != 1 || counts["revoked"] != 1 || counts["sent"] != 1 {
				t.Fatalf("counts %v", counts)
			}
			// A door account may not see invitations.
			expect(t, e.login(model.RoleDoor).get(page), http.StatusForbidden)
		})
	}
}

// TestInviteOnlySessionAcceptsInvitationsOnly: the public form of an invite-only
// session is refused; the invitation's form is accepted.
func TestInviteOnlySessionAcceptsInvitationsOnly(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			invSetup(e)
			ev := e.publishedEvent(0, model.ModeInviteOnly)
			c := invContact(e, "Afiwa", "Tchalla", "afiwa@example.tg", "fr")
			if _, err := e.app.Invite(context.Background(), app.Actor{Name: "test"}, ev.ID, []int64{c.ID}, ""); err != nil {
				t.Fatal(err)
			}
			link := invLink(e, c.Email)
			pub := e.client()
			expect(t, pub.get(link), http.StatusOK, `value="Afiwa"`, "Je confirme ma venue")
			// The public form, even with a valid CSRF token, is refused.
			eventPage := "/e/" + ev.Slug
			f := regForm("afiwa@example.tg")
			f.Set("_csrf", pub.csrf(link))
			expect(t, pub.post(eventPage, eventPage+"/register", f), http.StatusConflict, "sur invitation uniquement")
			r := pub.post(link, link+"/accept", url.Values{"first_name": {"Afiwa"}, "last_name": {"Tchalla"}, "consent": {"yes"}})
			expect(t, invFollow(t, pub, r), http.StatusOK, "Confirmée")
		})
	}
}

// TestUnsubscribeByLinkAndOneClick: the page asks before unsubscribing (with CSRF); a
// mail client's one-click POST needs neither cookie nor CSRF token; a POST that is
// neither is refused; unsubscribed contacts are not invited.
func TestUnsubscribeByLinkAndOneClick(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			invSetup(e)
			ctx := context.Background()
			ev := e.publishedEvent(0, model.ModeOpen)
			byPage := invContact(e, "Kodjo", "Apedo", "kodjo@example.tg", "fr", "tech")
			oneClick := invContact(e, "Abla", "Lawson", "abla@example.tg", "fr", "tech")
			multi := invContact(e, "Elom", "Attiogbe", "elom@example.tg", "fr", "tech")
			stays := invContact(e, "Dzifa", "Koudaya", "dzifa@example.tg", "fr", "tech")
			// By the link: a page with a button; GET changes nothing.
			c := e.client()
			u := "/u/" + byPage.UnsubscribeToken
			r := c.get(u)
			expect(t, r, http.StatusOK, "kodjo@example.tg", "Oui, ne plus m’écrire")
			if r.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Fatal("unsubscribe page without Referrer-Policy: no-referrer")
			}
			// Without the CSRF token and without the one-click body: refused.
			plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := plain.Post(e.srv.URL+"/u/"+stays.UnsubscribeToken+"?List-Unsubscribe=One-Click", "application/x-www-form-urlencoded", strings.NewReader("x=1"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("POST without CSRF nor one-click body: %d", resp.StatusCode)
			}
			r = c.post(u, u, nil)
			expect(t, invFollow(t, c, r), http.StatusOK, "C’est fait : kodjo@example.tg ne recevra plus nos invitations")
			// One click from a mail client: no cookie, no CSRF token, 200.
			resp, err = plain.Post(e.srv.URL+"/u/"+oneClick.UnsubscribeToken, "application/x-www-form-urlencoded",
				strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("one-click: %d", resp.StatusCode)
			}
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			mw.WriteField("List-Unsubscribe", "One-Click")
			mw.Close()
			resp, err = plain.Post(e.srv.URL+"/u/"+multi.UnsubscribeToken, mw.FormDataContentType(), &body)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("one-click multipart: %d", resp.StatusCode)
			}
			resp, err = plain.Post(e.srv.URL+"/u/unknowntokenunknowntokenunknown", "application/x-www-form-urlencoded",
				strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("one-click unknown token: %d", resp.StatusCode)
			}
			for _, x := range []*model.Contact{byPage, oneClick, multi} {
				got, _ := e.app.Store.FindContact(ctx, x.ID)
				if got.UnsubscribedAt == nil {
					t.Fatalf("%s not unsubscribed", x.Email)
				}
			}
			if got, _ := e.app.Store.FindContact(ctx, stays.ID); got.UnsubscribedAt != nil {
				t.Fatal("a refused POST unsubscribed")
			}
			// Then inviting the tag invites only the one still subscribed.
			org := e.login(model.RoleOrganizer)
			page := "/admin/events/" + itoa(ev.ID) + "/invitations"
			r = org.post(page, page, url.Values{"tag": {"tech"}})
			expect(t, invFollow(t, org, r), http.StatusOK, "1 invitation envoyée.", "Désinscrit·e des invitations (ignoré·e) :", "Kodjo Apedo")
			for _, x := range []*model.Contact{byPage, oneClick, multi} {
				if n := invCount(e, "invitation", x.Email); n != 0 {
					t.Fatalf("%s invited after unsubscribing", x.Email)
				}
			}
			if n := invCount(e, "invitation", stays.Email); n != 1 {
				t.Fatalf("subscribed contact: %d invitations", n)
			}
		})
	}
}

// TestAPIInvitations: POST answers 201 with what was created and skipped, 409 when
// every contact was invited already; GET lists them with the counts.
func TestAPIInvitations(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			invSetup(e)
			ev := e.publishedEvent(0, model.ModeOpen)
			a := invContact(e, "Kafui", "Adjo", "kafui@example.tg", "fr")
			b := invContact(e, "Edem", "Kossi", "edem@example.tg", "en")
			u := invContact(e, "Ama", "Mensah", "ama@example.tg", "fr")
			if _, err := e.app.Unsubscribe(context.Background(), u.UnsubscribeToken); err != nil {
				t.Fatal(err)
			}
			c := e.client()
			org, door := e.token(model.RoleOrganizer), e.token(model.RoleDoor)
			path := "/api/v1/events/" + itoa(ev.ID) + "/invitations"
			body := `{"contact_ids":[` + itoa(a.ID) + `,` + itoa(u.ID) + `],"note":"Bienvenue"}`
			if r := c.api("POST", path, door, body); r.StatusCode != http.StatusForbidden {
				t.Fatalf("door: %d", r.StatusCode)
			}
			r := c.api("POST", path, org, body)
			if r.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d %s", r.StatusCode, r.body)
			}
			var created struct {
				Invitations []map[string]any `json:"invitations"`
				Skipped     []struct {
					ContactID int64  `json:"contact_id"`
					Reason    string `json:"reason"`
				} `json:"skipped"`
			}
			if err := json.Unmarshal([]byte(r.body), &created); err != nil {
				t.Fatal(err)
			}
			if len(created.Invitations) != 1 || created.Invitations[0]["email"] != "kafui@example.tg" || created.Invitations[0]["status"] != "sent" ||
				created.Invitations[0]["note"] != "Bienvenue" || created.Invitations[0]["token"] != nil {
				t.Fatalf("created %s", r.body)
			}
			if len(created.Skipped) != 1 || created.Skipped[0].ContactID != u.ID || created.Skipped[0].Reason != "unsubscribed" {
				t.Fatalf("skipped %s", r.body)
			}
			// Every contact already invited (one, then several): 409.
			r = c.api("POST", path, org, `{"contact_ids":[`+itoa(a.ID)+`]}`)
			if r.StatusCode != http.StatusConflict || errorCode(t, r) != "conflict" {
				t.Fatalf("again: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", path, org, `{"contact_ids":[`+itoa(b.ID)+`]}`); r.StatusCode != http.StatusCreated {
				t.Fatalf("second: %d %s", r.StatusCode, r.body)
			}
			r = c.api("POST", path, org, `{"contact_ids":[`+itoa(a.ID)+`,`+itoa(b.ID)+`]}`)
			if r.StatusCode != http.StatusConflict || errorCode(t, r) != "conflict" || !strings.Contains(r.body, "déjà invités") {
				t.Fatalf("all again: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", path, org, `{"contact_ids":[]}`); r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("empty: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", path, org, `{"contact_ids":[`+itoa(a.ID)+`],"note":"`+strings.Repeat("x", 2001)+`"}`); r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("long note: %d %s", r.StatusCode, r.body)
			}
			r = c.api("GET", path, org, "")
			var list struct {
				Invitations []map[string]any `json:"invitations"`
				Counts      map[string]int   `json:"counts"`
			}
			if err := json.Unmarshal([]byte(r.body), &list); err != nil || r.StatusCode != http.StatusOK {
				t.Fatalf("list: %d %s", r.StatusCode, r.body)
			}
			if len(list.Invitations) != 2 || list.Counts["sent"] != 2 || list.Counts["accepted"] != 0 {
				t.Fatalf("list %s", r.body)
			}
			if r := c.api("GET", path+"?status=bogus", org, ""); r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("bad status: %d", r.StatusCode)
			}
			if r := c.api("GET", path, door, ""); r.StatusCode != http.StatusForbidden {
				t.Fatalf("door list: %d", r.StatusCode)
			}
		})
	}
}
