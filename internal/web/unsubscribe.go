package web

import (
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"relais/internal/model"
)

// The unsubscribe link, /u/{token}, in every outreach email: a page with a button for
// people, and the one-click POST of RFC 8058 for mail clients.

// isOneClickUnsubscribe reports a mail client's one-click unsubscription: a POST whose
// form body (URL-encoded or multipart, as RFC 8058 allows) says List-Unsubscribe=One-Click.
// It carries neither cookie nor CSRF token, so the CSRF check skips exactly this request:
// the unguessable token in the URL is its authority, and all it can do is unsubscribe.
func isOneClickUnsubscribe(c echo.Context) bool {
	r := c.Request()
	if r.Method != http.MethodPost {
		return false
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (ct != "application/x-www-form-urlencoded" && ct != "multipart/form-data") {
		return false
	}
	// The body only: a query string does not make a one-click request.
	return r.PostFormValue("List-Unsubscribe") == "One-Click"
}

func (s *Server) unsubscribePage(c echo.Context, contact *model.Contact) *Page {
	p := s.page(c, "unsubscribe.title")
	p.NoIndex = true
	p.Data["Contact"] = contact
	p.Data["Base"] = "/u/" + contact.UnsubscribeToken
	p.Data["Done"] = contact.UnsubscribedAt != nil
	return p
}

// handleUnsubscribePage asks for a confirmation (a GET must change nothing: link
// checkers and mail scanners open links).
func (s *Server) handleUnsubscribePage(c echo.Context) error {
	contact, err := s.app.UnsubscribeContact(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "unsubscribe", s.unsubscribePage(c, contact))
}

// handleUnsubscribe unsubscribes: from the page's form (with its CSRF token), then back
// to the page, which confirms; or from a mail client's one-click POST, answered 200.
func (s *Server) handleUnsubscribe(c echo.Context) error {
	contact, err := s.app.Unsubscribe(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	if isOneClickUnsubscribe(c) {
		return c.String(http.StatusOK, s.i18n.T(langOf(c), "unsubscribe.done_plain"))
	}
	return s.redirect(c, "/u/"+contact.UnsubscribeToken)
}
