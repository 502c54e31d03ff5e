package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// doorpageLink makes a door link for the event, as an organizer would, valid until the
// end of the event (plus the grace period).
func doorpageLink(e *env, ev *model.Event, name string, search, walkIns bool) *model.DoorLink {
	e.t.Helper()
	link, err := e.app.CreateDoorLink(context.Background(), app.Actor{Name: "test"}, ev,
		app.DoorLinkInput{Name: name, AllowSearch: search, AllowWalkIns: walkIns})
	if err != nil {
		e.t.Fatal(err)
	}
	return link
}

// doorpageRegister adds a confirmed registration (as an organizer would) and returns it.
func doorpageRegister(e *env, ev *model.Event, first, last, email, outlet string) *model.Registration {
	e.t.Helper()
	res, err := e.app.AddRegistration(context.Background(), app.Actor{Name: "test"}, ev.ID, app.RegistrationInput{
		ContactInput: app.ContactInput{FirstName: first, LastName: last, Email: email, Outlet: outlet}, Lang: "fr"})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Registration
}

var doorpageMsgsRe = regexp.MustCompile(`(?s)<script type="application/json" id="door-msgs">(.*?)</script>`)

// doorpageNoInlineScript fails when a page carries script the CSP would block: a <script>
// without src (other than the JSON data block) or an inline event handler.
func doorpageNoInlineScript(t *testing.T, body string) {
	t.Helper()
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(tag, ` src="`) && !strings.Contains(tag, `type="application/json"`) {
			t.Fatalf("inline script: %s", tag)
		}
	}
	if m := regexp.MustCompile(`\s on[a-z]+=`).FindString(body); m != "" {
		t.Fatalf("inline event handler: %q", m)
	}
}

func TestDoorPage(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := e.publishedEvent(40, model.ModeOpen)
			tok := doorpageLink(e, ev, "Entrée principale", true, false).Token
			c := e.client()
			r := c.get("/door/l/" + tok)
			expect(t, r, http.StatusOK, ev.Title, "Entrée principale", `data-token="`+tok+`"`, `data-auth="link"`,
				`data-search="true"`, `data-walkins="false"`, `id="scan"`, `id="q"`, `href="/door/manifest.webmanifest"`, `lang="fr"`)
			if strings.Contains(r.body, `id="walkin"`) {
				t.Fatal("walk-in form shown for a link that does not allow walk-ins")
			}
			for h, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
				"Permissions-Policy": "camera=(self)"} {
				if got := r.Header.Get(h); !strings.Contains(got, want) {
					t.Fatalf("%s: %q, want %q", h, got, want)
				}
			}
			if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") {
				t.Fatalf("CSP %q", csp)
			}
			if r.Header.Get("Set-Cookie") != "" {
				t.Fatalf("a door link page sets a cookie: %s", r.Header.Get("Set-Cookie"))
			}
			doorpageNoInlineScript(t, r.body)
			m := doorpageMsgsRe.FindStringSubmatch(r.body)
			var msgs map[string]string
			if m == nil || json.Unmarshal([]byte(m[1]), &msgs) != nil || msgs["ok"] != "Admis·e" || !strings.Contains(msgs["already"], "{time}") {
				t.Fatalf("script messages: %v", m)
			}
			// Elsewhere the camera stays off.
			if pp := c.get("/").Header.Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") {
				t.Fatalf("home Permissions-Policy %q", pp)
			}

			en := e.client()
			en.lang = "en"
			expect(t, en.get("/door/l/"+tok), http.StatusOK, `lang="en"`, `"ok":"Admitted"`, "Ticket code or reference")

			// Revoked, expired, unknown: a page that says so (and lets door.js wipe the event).
			revoked := doorpageLink(e, ev, "Entrée B", false, false)
			if err := e.app.RevokeDoorLink(context.Background(), app.Actor{Name: "test"}, ev.ID, revoked.ID); err != nil {
				t.Fatal(err)
			}
			expired := doorpageLink(e, ev, "Entrée C", false, false)
			gone := func(tk string) {
				t.Helper()
				r := c.get("/door/l/" + tk)
				expect(t, r, http.StatusGone, "Ce lien ne fonctionne plus", `id="door-gone"`, `data-event="`+itoa(ev.ID)+`"`, `src="/static/door.js"`)
				if r.Header.Get("Cache-Control") != "no-store" || strings.Contains(r.body, tk) {
					t.Fatalf("gone page: cache %q, token in body %v", r.Header.Get("Cache-Control"), strings.Contains(r.body, tk))
				}
			}
			gone(revoked.Token)
			now := e.app.Now
			e.app.Now = func() time.Time { return expired.ExpiresAt.Add(time.Second) }
			gone(expired.Token)
			e.app.Now = now
			expect(t, c.get("/door/l/"+strings.Repeat("x", 32)), http.StatusNotFound, "Ce lien ne fonctionne plus")

			// Staff: sign-in required; then the page calls the API with the session and CSRF token.
			r = e.client().get("/door/events/" + itoa(ev.ID))
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
				t.Fatalf("anonymous staff door page: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			door := e.login(model.RoleDoor)
			r = door.get("/door/events/" + itoa(ev.ID))
			expect(t, r, http.StatusOK, `data-auth="session"`, `data-token=""`, `id="walkin"`, `id="q"`, "Test door")
			if !regexp.MustCompile(`data-csrf="[^"]{16,}"`).MatchString(r.body) || r.Header.Get("Permissions-Policy") == "" {
				t.Fatal("staff door page without a CSRF token")
			}
			doorpageNoInlineScript(t, r.body)
			expect(t, door.get("/door/events/999999"), http.StatusNotFound)

			// The PWA's worker and manifest, scoped to /door/.
			sw := c.get("/door/sw.js")
			expect(t, sw, http.StatusOK, "relais-door")
			if sw.Header.Get("Service-Worker-Allowed") != "/door/" || !strings.HasPrefix(sw.Header.Get("Content-Type"), "text/javascript") {
				t.Fatalf("sw.js headers: %v", sw.Header)
			}
			mf := c.get("/door/manifest.webmanifest")
			var manifest struct {
				Scope, Display string
				Icons          []struct{ Src string }
			}
			if mf.Header.Get("Content-Type") != "application/manifest+json" || json.Unmarshal([]byte(mf.body), &manifest) != nil ||
				manifest.Scope != "/door/" || manifest.Display != "standalone" || len(manifest.Icons) == 0 {
				t.Fatalf("manifest: %s %s", mf.Header.Get("Content-Type"), mf.body)
			}
			expect(t, c.get(manifest.Icons[0].Src), http.StatusOK, "<svg")
		})
	}
}

// TestDoorPageWeight keeps the door page light for phones on a weak network: its HTML,
// script and stylesheet, gzip-compressed as the server sends them.
func TestDoorPageWeight(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(40, model.ModeOpen)
	tok := doorpageLink(e, ev, "Entrée principale", true, true).Token
	html := e.client().get("/door/l/" + tok).body
	raw, gz := map[string]int{"html": len(html)}, map[string]int{"html": doorpageGzip(html)}
	for _, f := range []string{"door.js", "door.css"} {
		b, err := fs.ReadFile(os.DirFS("static"), f)
		if err != nil {
			t.Fatal(err)
		}
		raw[f], gz[f] = len(b), doorpageGzip(string(b))
	}
	t.Logf("door page bytes, raw: %v; gzip: %v; total gzip %d", raw, gz, gz["html"]+gz["door.js"]+gz["door.css"])
	if raw["door.js"]+raw["door.css"] > 30<<10 {
		t.Fatalf("door.js + door.css weigh %d bytes: keep them under 30 KB", raw["door.js"]+raw["door.css"])
	}
	if total := gz["html"] + gz["door.js"] + gz["door.css"]; total > 15<<10 {
		t.Fatalf("door page weighs %d bytes compressed", total)
	}
}

func doorpageGzip(s string) int {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, 6)
	w.Write([]byte(s))
	w.Close()
	return b.Len()
}
