package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// pageCacheGet fetches path with the given headers, returning the raw (undecoded) answer.
func pageCacheGet(t *testing.T, e *env, path string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestPublicPageCache(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := e.publishedEvent(1, model.ModeOpen)
			page := "/e/" + ev.Slug

			// An anonymous visitor: no token, no cookie, an ETag, gzip when asked.
			res, raw := pageCacheGet(t, e, page, map[string]string{"Accept-Language": "fr"})
			if res.StatusCode != 200 || !strings.Contains(string(raw), "Je m’inscris") {
				t.Fatalf("event page: %d %.200s", res.StatusCode, raw)
			}
			if strings.Contains(string(raw), `name="_csrf"`) || len(res.Cookies()) > 0 {
				t.Fatalf("anonymous event page carries a token or sets a cookie: %v", res.Header["Set-Cookie"])
			}
			etag := res.Header.Get("ETag")
			if etag == "" || res.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(res.Header.Get("Vary"), "Accept-Language") {
				t.Fatalf("headers: ETag %q, Cache-Control %q, Vary %q", etag, res.Header.Get("Cache-Control"), res.Header.Get("Vary"))
			}
			if res.Header.Get("Content-Security-Policy") == "" {
				t.Fatal("cached page without its security headers")
			}
			res, gz := pageCacheGet(t, e, page, map[string]string{"Accept-Language": "fr", "Accept-Encoding": "gzip"})
			if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("ETag") != etag {
				t.Fatalf("gzip: encoding %q, etag %q (want %q)", res.Header.Get("Content-Encoding"), res.Header.Get("ETag"), etag)
			}
			zr, err := gzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				t.Fatal(err)
			}
			unzipped, _ := io.ReadAll(zr)
			if !bytes.Equal(unzipped, raw) {
				t.Fatal("the compressed page differs from the plain one")
			}
			// The same page again: 304 and no body.
			res, body := pageCacheGet(t, e, page, map[string]string{"Accept-Language": "fr", "If-None-Match": etag})
			if res.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Fatalf("If-None-Match: %d, %d bytes", res.StatusCode, len(body))
			}
			// Each language its own page.
			_, en := pageCacheGet(t, e, page, map[string]string{"Accept-Language": "en"})
			if !strings.Contains(string(en), `lang="en"`) || strings.Contains(string(en), "Je m’inscris") {
				t.Fatalf("English visitor got: %.300s", en)
			}

			// A registration through this instance fills the last seat: the next
			// visitor sees it at once, not a second later.
			c := e.client()
			r := c.post(page, page+"/register", regForm("kafui@example.tg"))
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("register: %d %s", r.StatusCode, snippet(r.body))
			}
			expect(t, e.client().get(page), http.StatusOK, "La session est complète")

			// Staff (with a session) get a fresh page, with their token for sign-out.
			staff := e.login(model.RoleOrganizer)
			expect(t, staff.get(page), http.StatusOK, `name="_csrf"`)

			// A draft is not cached into public view: the organizer's preview stays theirs.
			draft := &model.Event{Title: "Brouillon", StartsAt: ev.StartsAt, EndsAt: ev.EndsAt, Status: model.EventDraft}
			if err := e.app.SaveEvent(context.Background(), app.Actor{Name: "test"}, draft); err != nil {
				t.Fatal(err)
			}
			expect(t, staff.get("/e/"+draft.Slug), http.StatusOK, "Brouillon")
			expect(t, e.client().get("/e/"+draft.Slug), http.StatusNotFound)
		})
	}
}

// The public registration form has no token: a cross-site POST is refused by its Fetch
// metadata, the way the browser reports it.
func TestPublicFormCrossOrigin(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(10, model.ModeOpen)
	page := "/e/" + ev.Slug
	post := func(hdr map[string]string, email string) *http.Response {
		req, _ := http.NewRequest("POST", e.srv.URL+page+"/register", strings.NewReader(regForm(email).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"cross-site fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"same-site but another origin", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"an older browser: Origin only, another site", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.srv.URL}, http.StatusSeeOther},
		{"an older browser: Origin only, this site", map[string]string{"Origin": e.srv.URL}, http.StatusSeeOther},
		{"the user typed it (no fetch metadata)", map[string]string{"Sec-Fetch-Site": "none"}, http.StatusSeeOther},
	} {
		res := post(tc.hdr, "visitor"+itoa(int64(len(tc.name)))+"@example.tg")
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	n, err := e.app.Store.CountConfirmed(context.Background(), ev.ID)
	if err != nil || n != 3 {
		t.Fatalf("%d registrations recorded (err %v), want the 3 same-origin ones", n, err)
	}
}
