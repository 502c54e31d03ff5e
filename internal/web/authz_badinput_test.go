package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/mail"
	"relais/internal/mail/mailtest"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// Bad input a hostile client may send, through the real router.

const authzCSRFMessage = "Le formulaire a expiré ou ne vient pas de ce site."

func authzEventForm(title string) url.Values {
	return url.Values{"title": {title}, "summary": {"Séance d’information"}, "venue_name": {"Ministère"},
		"venue_address": {"Lomé"}, "starts_at": {"2030-05-17T09:00"}, "ends_at": {"2030-05-17T12:00"},
		"timezone": {"Africa/Lome"}, "capacity": {"30"}, "registration_mode": {"open"}, "language": {"fr"}}
}

func authzCountEvents(t *testing.T, e *env) int {
	t.Helper()
	evs, err := e.app.Store.ListEvents(context.Background(), store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func TestBadInputForgedAndReplayedCSRF(t *testing.T) {
	e := newEnv(t, "sqlite")
	org := e.login(model.RoleOrganizer)
	thief := e.login(model.RoleOrganizer) // another browser of a staff member
	before := authzCountEvents(t, e)

	orgTok, thiefTok := org.csrf("/admin/events/new"), thief.csrf("/admin/events/new")
	if orgTok == thiefTok {
		t.Fatal("two browsers got the same CSRF token")
	}
	for name, tok := range map[string]string{
		"forged":                    "forged" + strings.Repeat("A", 26),
		"replayed from another one": orgTok,
		"missing":                   "",
	} {
		f := authzEventForm("Session piégée " + name)
		f.Set("_csrf", tok)
		r := thief.do("POST", "/admin/events", strings.NewReader(f.Encode()), "application/x-www-form-urlencoded")
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, authzCSRFMessage) {
			t.Errorf("%s CSRF token: %d, want 403 with the French message\n%s", name, r.StatusCode, snippet(r.body))
		}
	}
	// The JSON API through a session: the header must hold the session's own token.
	for name, tok := range map[string]string{"forged": "forged" + strings.Repeat("B", 26), "replayed": orgTok} {
		r, err := authzSessionAPI(e, thief, "POST", "/api/v1/events", tok,
			`{"title":"API piégée","starts_at":"2030-05-17T09:00:00Z","ends_at":"2030-05-17T12:00:00Z"}`)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, `"code":"forbidden"`) || !strings.Contains(r.body, authzCSRFMessage) {
			t.Errorf("API with a %s CSRF header: %d %s", name, r.StatusCode, r.body)
		}
	}
	// A browser that says the form comes from another site is refused even with a token.
	f := authzEventForm("Session d’un autre site")
	f.Set("_csrf", thiefTok)
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/events", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res, err := thief.http.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site form: %v %v", res.StatusCode, err)
	} else {
		res.Body.Close()
	}
	if n := authzCountEvents(t, e); n != before {
		t.Fatalf("refused forms created %d events", n-before)
	}
	// The same form with the browser's own token goes through: the refusals were the token's.
	f = authzEventForm("Session honnête")
	f.Set("_csrf", thiefTok)
	if r := thief.do("POST", "/admin/events", strings.NewReader(f.Encode()), "application/x-www-form-urlencoded"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("own token: %d %s", r.StatusCode, snippet(r.body))
	}
}

// authzSessionAPI calls the API with a client's cookies and the given CSRF header.
func authzSessionAPI(e *env, c *client, method, path, csrf, body string) (*resp, error) {
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", "fr")
	req.Header.Set("X-CSRF-Token", csrf)
	r, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return &resp{r, string(b)}, err
}

func TestBadInputSessionOfAnotherInstance(t *testing.T) {
	here, _ := authzNewEnv(t, "sqlite", nil, nil)
	there, _ := authzNewEnv(t, "sqlite", nil, nil) // another database, another secret
	here.user(model.RoleOrganizer, "organizer@example.tg")
	foreign := there.login(model.RoleOrganizer) // same address, other instance
	u, _ := url.Parse(there.srv.URL)
	var cookie *http.Cookie
	for _, ck := range foreign.http.Jar.Cookies(u) {
		if ck.Name == "relais_session" {
			cookie = &http.Cookie{Name: ck.Name, Value: ck.Value}
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie from the other instance")
	}
	if r := foreign.get("/admin"); r.StatusCode != http.StatusOK {
		t.Fatalf("the cookie does not even work where it was made: %d", r.StatusCode)
	}
	for _, ck := range []*http.Cookie{cookie, {Name: "relais_session", Value: app.NewToken()}} {
		r, err := authzDo(here, "GET", "/admin", nil, nil, ck)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("foreign session cookie on a staff page: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		r, err = authzDo(here, "GET", "/api/v1/events", nil, nil, ck)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("foreign session cookie on the API: %d %s", r.StatusCode, r.body)
		}
	}
}

func TestBadInputRevokedDoorLink(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			g := authzEvent(e, "A")
			org := e.login(model.RoleOrganizer)
			door := doorByLink(e, g.link.Token)
			base := "/api/v1/events/" + itoa(g.ev.ID)
			if r := door.call("GET", base+"/roster", ""); r.StatusCode != http.StatusOK {
				t.Fatalf("live link: %d", r.StatusCode)
			}
			expect(t, e.client().get("/door/l/"+g.link.Token), http.StatusOK)
			page := "/admin/events/" + itoa(g.ev.ID) + "/checkins"
			r := org.post(page, page[:len(page)-len("checkins")]+"door-links/"+itoa(g.link.ID)+"/revoke", nil)
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("revoke: %d %s", r.StatusCode, snippet(r.body))
			}
			for _, call := range []struct{ method, path, body string }{
				{"GET", base + "/roster", ""},
				{"GET", base + "/search?q=Kafui", ""},
				{"POST", base + "/checkins", doorScan(g.holder.TicketCode, "revoked-1", "Téléphone")},
				{"POST", base + "/walkins", `{"first_name":"Komi","last_name":"Tard","nonce":"revoked-2"}`},
			} {
				r := door.call(call.method, call.path, call.body)
				if r.StatusCode != http.StatusUnauthorized || r.Header.Get("X-Door-Link") != "revoked" {
					t.Errorf("%s %s with a revoked link: %d %q %s", call.method, call.path, r.StatusCode, r.Header.Get("X-Door-Link"), r.body)
				}
			}
			if reg, err := e.app.Store.FindRegistration(context.Background(), g.holder.ID); err != nil || reg.CheckedInAt != nil {
				t.Fatal("a revoked link checked someone in")
			}
			if r := e.client().get("/door/l/" + g.link.Token); r.StatusCode != http.StatusGone {
				t.Errorf("door page of a revoked link: %d", r.StatusCode)
			}
		})
	}
}

func TestBadInputDisabledUser(t *testing.T) {
	e := newEnv(t, "sqlite")
	tok := e.token(model.RoleOrganizer)
	victim, _ := e.app.Store.FindUserByEmail(context.Background(), "api-organizer@example.tg")
	session := e.client()
	if r := session.post("/login", "/login", url.Values{"email": {victim.Email}, "password": {"correct horse battery"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}
	api := e.client()
	expect(t, api.api("GET", "/api/v1/events", tok, ""), http.StatusOK)
	admin := e.login(model.RoleAdmin)
	page := "/admin/users/" + itoa(victim.ID)
	if r := admin.post(page, page+"/disable", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", r.StatusCode, snippet(r.body))
	}
	for _, path := range []string{"/api/v1/events", "/api/v1/contacts"} {
		if r := api.api("GET", path, tok, ""); r.StatusCode != http.StatusUnauthorized || errorCode(t, r) != "unauthorized" {
			t.Errorf("token of a disabled user on %s: %d %s", path, r.StatusCode, r.body)
		}
	}
	if r := api.api("POST", "/api/v1/events", tok, `{"title":"Après","starts_at":"2030-05-17T09:00:00Z","ends_at":"2030-05-17T12:00:00Z"}`); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("write with the token of a disabled user: %d", r.StatusCode)
	}
	if r := session.get("/admin"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("session of a disabled user: %d", r.StatusCode)
	}
}

// authzMultipart builds a form with one file and the CSRF field.
func authzMultipart(csrf, field, filename string, data []byte) (*bytes.Buffer, string) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if csrf != "" {
		w.WriteField("_csrf", csrf)
	}
	fw, _ := w.CreateFormFile(field, filename)
	fw.Write(data)
	w.Close()
	return &body, w.FormDataContentType()
}

func TestBadInputDocumentNames(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	g := authzEvent(e, "A")
	org := e.login(model.RoleOrganizer)
	page := "/admin/events/" + itoa(g.ev.ID)
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 500)...)
	for name, want := range map[string]string{
		"../../etc/passwd.pdf":              "passwd.pdf",
		`..\..\Windows\win.ini.pdf`:         "win.ini.pdf",
		"/etc/shadow.pdf":                   "shadow.pdf",
		`dossier"; filename="page.html.pdf`: "dossier; filename=page.html.pdf",
		"....pdf":                           "pdf",
	} {
		body, ctype := authzMultipart(org.csrf(page), "file", name, pdf)
		r := org.do("POST", page+"/documents", body, ctype)
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("upload %q: %d %s", name, r.StatusCode, snippet(r.body))
		}
		docs, err := e.app.Store.ListDocuments(ctx, g.ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		d := docs[len(docs)-1]
		for _, x := range docs {
			if x.ID > d.ID {
				d = x
			}
		}
		if d.Name != want || strings.ContainsAny(d.Name, `/\"`) || strings.Contains(d.Name, "..") {
			t.Errorf("%q stored as %q, want %q", name, d.Name, want)
		}
		r = e.client().get("/e/" + g.ev.Slug + "/documents/" + itoa(d.ID))
		disp, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
		if r.StatusCode != http.StatusOK || err != nil || disp != "attachment" || params["filename"] != d.Name {
			t.Errorf("%q served with %d, Content-Disposition %q (%v)", name, r.StatusCode, r.Header.Get("Content-Disposition"), err)
		}
		if r.Header.Get("Content-Type") != "application/pdf" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%q served as %q, nosniff %q", name, r.Header.Get("Content-Type"), r.Header.Get("X-Content-Type-Options"))
		}
	}
	// A page dressed as a PDF is refused by its content.
	body, ctype := authzMultipart(org.csrf(page), "file", "programme.pdf", []byte("<html><script>alert(1)</script></html>"))
	expect(t, org.do("POST", page+"/documents", body, ctype), http.StatusUnprocessableEntity, "Ce type de fichier")
}

// authzBigBody is a multipart body of n bytes made on the fly; it counts what was read.
type authzBigBody struct {
	n, max int64
	head   []byte
	read   atomic.Int64
}

func (b *authzBigBody) Read(p []byte) (int, error) {
	if b.n >= b.max {
		return 0, io.EOF
	}
	k := min(int64(len(p)), b.max-b.n)
	for i := range p[:k] {
		if off := b.n + int64(i); off < int64(len(b.head)) {
			p[i] = b.head[off]
		} else {
			p[i] = 'x'
		}
	}
	b.n += k
	b.read.Add(k)
	return int(k), nil
}

func authzBig(n int64) *authzBigBody {
	return &authzBigBody{max: n, head: []byte("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"gros.pdf\"\r\n" +
		"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n")}
}

func TestBadInputOversizedAndMalformedBodies(t *testing.T) {
	e, _ := authzNewEnv(t, "sqlite", nil, func(c *config.Config) { c.MaxUploadMB = 1 })
	g := authzEvent(e, "A")
	org := e.login(model.RoleOrganizer)
	csrf := org.csrf("/admin/account")
	tok := e.token(model.RoleOrganizer)
	sessionCookies := func() []*http.Cookie {
		u, _ := url.Parse(e.srv.URL)
		return org.http.Jar.Cookies(u)
	}
	evPath := "/admin/events/" + itoa(g.ev.ID)
	apiEv := "/api/v1/events/" + itoa(g.ev.ID)
	type target struct {
		path string
		hdr  map[string]string
		mb   int64 // a body this size is over the route's limit
	}
	targets := []target{
		{evPath + "/documents", map[string]string{"X-CSRF-Token": csrf}, 3},
		{"/admin/contacts/import", map[string]string{"X-CSRF-Token": csrf}, 7},
		{"/api/v1/contacts/import", map[string]string{"Authorization": "Bearer " + tok}, 7},
		{apiEv + "/decode", map[string]string{"Authorization": "Bearer " + tok}, 12},
		{evPath + "/questions", map[string]string{"X-CSRF-Token": csrf}, 2},
		{"/e/" + g.ev.Slug + "/register", map[string]string{"X-CSRF-Token": csrf}, 2},
	}
	send := func(path string, hdr map[string]string, ctype string, body io.Reader, length int64, cookies []*http.Cookie) (*http.Response, error) {
		req, _ := http.NewRequest("POST", e.srv.URL+path, body)
		req.ContentLength = length
		req.Header.Set("Content-Type", ctype)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		return res, err
	}
	for _, tg := range targets {
		for _, chunked := range []bool{false, true} {
			body := authzBig(tg.mb << 20)
			length := body.max
			if chunked {
				length = -1
			}
			res, err := send(tg.path, tg.hdr, "multipart/form-data; boundary=B", body, length, sessionCookies())
			if err != nil { // no answer: the server dropped the connection (a panic)
				t.Errorf("%s: %d MB body (chunked %v): %v", tg.path, tg.mb, chunked, err)
				continue
			}
			if res.StatusCode != http.StatusRequestEntityTooLarge && res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d MB body (chunked %v): %d, want 413 or 422", tg.path, tg.mb, chunked, res.StatusCode)
			}
		}
	}
	// Anyone may post to a staff route: the server must stop reading early, before the
	// CSRF check reads the form and long before the guard refuses the caller.
	for _, path := range []string{"/admin/events", evPath + "/documents", "/admin/contacts/import", "/admin/users"} {
		body := authzBig(200 << 20)
		res, err := send(path, nil, "multipart/form-data; boundary=B", body, -1, nil)
		if err == nil && res.StatusCode < 400 {
			t.Errorf("anonymous 200 MB body to %s: %d", path, res.StatusCode)
		}
		if n := body.read.Load(); n > 32<<20 {
			t.Errorf("anonymous body to %s: the server read %d MB of it", path, n>>20)
		}
	}

	// Malformed multipart: 400 or 422, never a 500.
	valid, vtype := authzMultipart("", "file", "a.pdf", []byte("%PDF-1.4\nx"))
	truncated := valid.Bytes()[:valid.Len()-10]
	malformed := []struct {
		name, ctype string
		body        []byte
	}{
		{"wrong boundary", "multipart/form-data; boundary=autre", valid.Bytes()},
		{"truncated", vtype, truncated},
		{"no boundary", "multipart/form-data", valid.Bytes()},
		{"empty", vtype, nil},
		{"boundary too long", "multipart/form-data; boundary=" + strings.Repeat("b", 200), valid.Bytes()},
		{"garbage", vtype, []byte("\x00\xff\xfe--\r\n\r\n--")},
		{"bad part header", vtype, []byte("--" + strings.TrimPrefix(vtype, "multipart/form-data; boundary=") + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\r\n\r\nx")},
	}
	for _, tg := range targets[:4] {
		for _, m := range malformed {
			res, err := send(tg.path, tg.hdr, m.ctype, bytes.NewReader(m.body), int64(len(m.body)), sessionCookies())
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s, %s multipart: %d, want 400 or 422", tg.path, m.name, res.StatusCode)
			}
		}
	}
}

// The payloads of the header-injection and HTML tests.
const (
	authzInjFirst = "Kafui\r\nBcc: pirate@evil.example"
	authzInjLast  = "Adjo\nX-Injected: oui"
)

func TestBadInputHeaderInjectionInEmails(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			org := e.login(model.RoleOrganizer)
			// An organizer's title with a line break (it goes in subjects).
			f := authzEventForm("Session\r\nBcc: pirate@evil.example")
			r := org.post("/admin/events/new", "/admin/events", f)
			evs, _ := e.app.Store.ListEvents(ctx, store.EventFilter{})
			var ev *model.Event
			switch {
			case r.StatusCode == http.StatusUnprocessableEntity:
				ev = e.publishedEvent(0, model.ModeOpen) // refused: use a clean event
			case r.StatusCode == http.StatusSeeOther && len(evs) == 1:
				ev = &evs[0] // kept as typed: what matters is the emails below
				page := "/admin/events/" + itoa(ev.ID)
				org.post(page, page+"/status", url.Values{"status": {"published"}})
			default:
				t.Fatalf("title with a line break: %d %s", r.StatusCode, snippet(r.body))
			}
			// A registrant whose name hides headers.
			c := e.client()
			page := "/e/" + ev.Slug
			r = c.post(page, page+"/register", url.Values{"first_name": {authzInjFirst}, "last_name": {authzInjLast},
				"email": {"kafui@example.tg"}, "outlet": {"Le blog\r\nX-Outlet: 1"}, "consent": {"yes"}})
			if r.StatusCode == http.StatusUnprocessableEntity {
				t.Logf("a name with a line break is refused")
			} else if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("register: %d %s", r.StatusCode, snippet(r.body))
			}
			// A follow-up whose subject hides a header.
			evPage := "/admin/events/" + itoa(ev.ID) + "/campaigns"
			r = org.post(evPage+"/new", evPage, url.Values{"segment": {"registered"}, "subject": {"Merci\r\nBcc: pirate@evil.example"},
				"body": {"Bonjour {first_name}"}})
			if r.StatusCode == http.StatusSeeOther {
				camps, err := e.app.Store.ListCampaigns(ctx, ev.ID)
				if err != nil || len(camps) != 1 {
					t.Fatalf("campaigns: %v %d", err, len(camps))
				}
				if _, err := e.app.SendCampaign(ctx, app.Actor{Name: "test"}, camps[0].ID); err != nil {
					t.Fatal(err)
				}
			} else if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("campaign with a line break in its subject: %d %s", r.StatusCode, snippet(r.body))
			}
			// A directory contact made through the API, then invited (the To name).
			tok := e.token(model.RoleOrganizer)
			r = org.api("POST", "/api/v1/contacts", tok, `{"first_name":"Yawa\r\nBcc: pirate@evil.example","last_name":"Agbeko\nX-Injected: oui","email":"yawa@example.tg"}`)
			if r.StatusCode == http.StatusCreated {
				var ct struct{ ID int64 }
				if err := json.Unmarshal([]byte(r.body), &ct); err != nil || ct.ID == 0 {
					t.Fatalf("contact: %s", r.body)
				}
				r = org.api("POST", "/api/v1/events/"+itoa(ev.ID)+"/invitations", tok, fmt.Sprintf(`{"contact_ids":[%d]}`, ct.ID))
				if r.StatusCode != http.StatusCreated && r.StatusCode != http.StatusOK {
					t.Fatalf("invite: %d %s", r.StatusCode, r.body)
				}
			} else if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("contact with a line break: %d %s", r.StatusCode, r.body)
			}
			msgs, _, err := e.app.Store.ListMessages(ctx, store.MessageFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if strings.ContainsAny(m.Subject+m.ToName+m.FromName, "\r\n") {
					t.Errorf("message %d (%s) queued with a line break: subject %q, to %q", m.ID, m.Kind, m.Subject, m.ToName)
				}
			}
			// Over SMTP: every message goes, to its one recipient, with no injected header.
			srv := mailtest.Start(t)
			sender, err := mail.NewSender(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer sender.Close()
			if _, err := mail.NewWorker(e.app.Store, sender, mail.WorkerOptions{}).RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			got := srv.Received()
			if len(got) != len(msgs) || len(got) == 0 {
				for _, m := range msgs {
					full, _ := e.app.Store.FindMessage(ctx, m.ID)
					t.Logf("message %d %s: %s %q", m.ID, m.Kind, full.Status, full.LastError)
				}
				t.Fatalf("%d messages sent of %d queued", len(got), len(msgs))
			}
			for _, rc := range got {
				if len(rc.To) != 1 || strings.Contains(rc.To[0], "evil") {
					t.Errorf("recipients %v", rc.To)
				}
				m, err := netmail.ReadMessage(bytes.NewReader(rc.Data))
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range []string{"Bcc", "Cc", "X-Injected", "X-Outlet"} {
					if v := m.Header.Get(h); v != "" {
						t.Errorf("injected header %s: %q\n%s", h, v, rc.Data[:min(len(rc.Data), 800)])
					}
				}
				if to, err := m.Header.AddressList("To"); err != nil || len(to) != 1 {
					t.Errorf("To header %q: %v", m.Header.Get("To"), err)
				}
			}
		})
	}
}

// What a hostile registrant types; none of it may reach a staff page as markup.
var authzXSS = map[string]string{
	"first_name":       "<script>alert(1)</script>",
	"last_name":        `Adjo"'><svg onload=alert(2)>`,
	"outlet":           `"><img src=x onerror=alert(3)>`,
	"city":             "</title><script>alert(4)</script>",
	"channel_facebook": `"><b onmouseover=alert(6)>`,
}

var authzMarkupRe = regexp.MustCompile(`(?i)<script>alert|<(svg|img|iframe|b)\b[^>]*\bon[a-z]+=alert|<iframe[^>]*javascript:|(href|src)="javascript:`)

func TestBadInputHTMLInTextShownToStaff(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	ev := e.publishedEvent(0, model.ModeOpen)
	q := &model.Question{EventID: ev.ID, Label: "Votre thématique", Kind: model.QText}
	if err := e.app.SaveQuestion(ctx, app.Actor{}, q); err != nil {
		t.Fatal(err)
	}
	page := "/e/" + ev.Slug
	blogger := e.client()
	f := url.Values{"email": {"xss@example.tg"}, "consent": {"yes"}, "phone": {"90 12 34 56"},
		"q" + itoa(q.ID): {`<iframe src="javascript:alert(5)">`}}
	for k, v := range authzXSS {
		f.Set(k, v)
	}
	r := blogger.post(page, page+"/register", f)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d %s", r.StatusCode, snippet(r.body))
	}
	ticketURL := r.Header.Get("Location")
	// A spreadsheet formula in the outlet of someone else.
	formula := `=HYPERLINK("http://evil.example","clic")`
	f2 := url.Values{"first_name": {"Ama"}, "last_name": {"Formule"}, "email": {"formule@example.tg"}, "consent": {"yes"}, "outlet": {formula}}
	if r := e.client().post(page, page+"/register", f2); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("register 2: %d %s", r.StatusCode, snippet(r.body))
	}
	// A javascript: blog address is refused, or never becomes a link.
	f3 := url.Values{"first_name": {"Yao"}, "last_name": {"Lien"}, "email": {"lien@example.tg"}, "consent": {"yes"}, "blog_url": {"javascript:alert(7)"}}
	if r := e.client().post(page, page+"/register", f3); r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("register 3: %d", r.StatusCode)
	}
	// Coverage links sent from the ticket page.
	covURL := `https://blog.example.org/"><script>alert(9)</script>`
	blogger.post(ticketURL, ticketURL+"/coverage", url.Values{"links": {covURL}, "reach": {"<b onmouseover=alert(10)>"}})

	reg, err := e.app.Store.FindRegistrationByToken(ctx, strings.TrimPrefix(ticketURL, "/t/"))
	if err != nil {
		t.Fatal(err)
	}
	org := e.login(model.RoleOrganizer)
	evp := "/admin/events/" + itoa(ev.ID)
	msgs, _, _ := e.app.Store.ListMessages(ctx, store.MessageFilter{Query: "xss@example.tg", Limit: 10})
	pages := []string{"/admin", evp, evp + "/registrations", evp + "/registrations/" + itoa(reg.ID), evp + "/registrations?q=alert",
		"/admin/contacts", "/admin/contacts?q=xss", "/admin/contacts/" + itoa(reg.ContactID), "/admin/contacts/" + itoa(reg.ContactID) + "/edit",
		"/admin/contacts/" + itoa(reg.ContactID) + "/erase", evp + "/checkins", evp + "/attendance-sheet", evp + "/badges",
		evp + "/coverage", evp + "/report", evp + "/invitations", "/admin/engagement", "/admin/mailbox", "/door/events/" + itoa(ev.ID)}
	for _, m := range msgs {
		pages = append(pages, "/admin/mailbox/"+itoa(m.ID), "/admin/mailbox/"+itoa(m.ID)+"/html")
	}
	escapedName := "&lt;script&gt;alert(1)&lt;/script&gt;"
	shown := 0
	for _, p := range pages {
		r := org.get(p)
		if r.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, r.StatusCode)
			continue
		}
		if m := authzMarkupRe.FindString(r.body); m != "" {
			i := strings.Index(r.body, m)
			t.Errorf("%s shows the payload as markup: …%s…", p, r.body[max(0, i-200):min(len(r.body), i+200)])
		}
		if strings.Contains(r.body, escapedName) {
			shown++
		}
	}
	for _, p := range []string{evp + "/registrations", evp + "/registrations/" + itoa(reg.ID), "/admin/contacts/" + itoa(reg.ContactID)} {
		if r := org.get(p); !strings.Contains(r.body, escapedName) {
			t.Errorf("%s does not show the name (escaped): the test would prove nothing", p)
		}
	}
	t.Logf("%d staff pages checked, %d show the hostile name escaped", len(pages), shown)
	admin := e.login(model.RoleAdmin)
	if r := admin.get("/admin/audit"); authzMarkupRe.MatchString(r.body) {
		t.Errorf("audit page shows the payload as markup")
	}
	// Exports are files, not pages, and neutralise spreadsheet formulas.
	for _, p := range []string{evp + "/registrations.csv", "/admin/contacts.csv", evp + "/coverage.csv", evp + "/admissions.csv"} {
		r := org.get(p)
		ct := r.Header.Get("Content-Type")
		if r.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/csv") || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") ||
			r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %q %q", p, r.StatusCode, ct, r.Header.Get("Content-Disposition"))
		}
		if strings.Contains(r.body, formula) && !strings.Contains(r.body, `'`+formula) && !strings.Contains(r.body, `"'`+strings.ReplaceAll(formula, `"`, `""`)) {
			t.Errorf("%s carries a live formula", p)
		}
		if strings.Contains(r.body, fmt.Sprintf(";%s;", formula)) || strings.Contains(r.body, `;"=HYPERLINK`) {
			t.Errorf("%s carries a live formula", p)
		}
	}
	r = org.get("/admin/contacts/" + itoa(reg.ContactID) + "/export.json")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || strings.Contains(r.body, "<script>") {
		t.Errorf("contact export: %q, raw markup %v", r.Header.Get("Content-Type"), strings.Contains(r.body, "<script>"))
	}
}

// A door link sees and changes its own event only, even when the path is its own event's
// and the ticket, registration or name belongs to another.
func TestBadInputDoorLinkStaysInItsEvent(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	a, b := authzEvent(e, "A"), authzEvent(e, "B")
	org := doorByToken(e, e.token(model.RoleOrganizer))
	if r := org.call("POST", "/api/v1/events/"+itoa(b.ev.ID)+"/checkins", doorScan(b.victim.TicketCode, "b-in-1", "Accueil B")); r.StatusCode != http.StatusOK {
		t.Fatalf("check-in at B: %d %s", r.StatusCode, r.body)
	}
	door := doorByLink(e, a.link.Token)
	base := "/api/v1/events/" + itoa(a.ev.ID)
	calls := []struct{ method, path, body string }{
		{"POST", base + "/checkins", doorScan(b.holder.TicketCode, "a-x-1", "Accueil A")},
		{"POST", base + "/checkins", doorScan(b.holder.Reference, "a-x-2", "Accueil A")},
		{"POST", base + "/checkins/batch", `{"checkins":[` + doorScan(b.holder.TicketCode, "a-x-3", "Accueil A") + `]}`},
		{"DELETE", base + "/checkins/" + itoa(b.victim.ID), ""},
		{"GET", base + "/search?q=" + url.QueryEscape(b.holderC.LastName), ""},
		{"GET", base + "/roster", ""},
	}
	for _, c := range calls {
		r := door.call(c.method, c.path, c.body)
		if r.StatusCode >= 500 {
			t.Errorf("%s %s: %d", c.method, c.path, r.StatusCode)
		}
		for _, m := range b.markers {
			if strings.Contains(r.body, m) {
				t.Errorf("%s %s (%d) shows %q of the other event", c.method, c.path, r.StatusCode, m)
			}
		}
	}
	for _, reg := range []*model.Registration{b.holder, b.victim} {
		got, err := e.app.Store.FindRegistration(ctx, reg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if (reg == b.holder) != (got.CheckedInAt == nil) {
			t.Errorf("registration %d of B changed through A's door link: checked in %v", reg.ID, got.CheckedInAt)
		}
	}
}
