package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestRedirectsStayOnTheSite: the language switch and the sign-in send the visitor back
// where they came from, never to another site, however the address is disguised (a
// browser drops tabs and line breaks from an address and reads "\" as "/").
func TestRedirectsStayOnTheSite(t *testing.T) {
	e := newEnv(t, "sqlite")
	c := e.client()
	for _, next := range []string{"//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
		"https://evil.example", "/\\/evil.example", "evil.example", "/ok\\..\\"} {
		r := c.get("/lang?l=en&next=" + url.QueryEscape(next))
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Errorf("/lang with next %q: %d to %q, want / ", next, r.StatusCode, r.Header.Get("Location"))
		}
		if r := c.get("/login?next=" + url.QueryEscape(next)); r.StatusCode != http.StatusOK {
			t.Errorf("/login with next %q: %d", next, r.StatusCode)
		} else {
			expect(t, r, http.StatusOK, `name="next" value="/admin"`)
		}
	}
	if r := c.get("/lang?l=fr&next=" + url.QueryEscape("/e/la-fibre?x=1")); r.Header.Get("Location") != "/e/la-fibre?x=1" {
		t.Errorf("a local path is refused: %q", r.Header.Get("Location"))
	}
}
