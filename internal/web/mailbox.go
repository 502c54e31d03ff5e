package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"relais/internal/model"
	"relais/internal/store"
)

const mailboxPageSize = 50

// handleMailbox lists the outbox: with no SMTP configured this is where mail can be read.
func (s *Server) handleMailbox(c echo.Context) error {
	page, _ := strconv.Atoi(c.QueryParam("page"))
	if page < 1 {
		page = 1
	}
	f := store.MessageFilter{Status: model.MessageStatus(c.QueryParam("status")), Query: c.QueryParam("q"),
		Limit: mailboxPageSize, Offset: (page - 1) * mailboxPageSize}
	msgs, total, err := s.app.Store.ListMessages(c.Request().Context(), f)
	if err != nil {
		return err
	}
	p := s.page(c, "mailbox.title")
	p.Nav = "mailbox"
	p.Data["Messages"] = msgs
	p.Data["Total"] = int(total)
	p.Data["Page"] = page
	p.Data["HasNext"] = int64(page*mailboxPageSize) < total
	p.Data["KeepMode"] = s.cfg.SMTPURL == ""
	p.Form.Values = map[string]string{"status": string(f.Status), "q": f.Query}
	return s.render(c, http.StatusOK, "mailbox", p)
}

func (s *Server) mailboxMessage(c echo.Context) (*model.Message, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	m, err := s.app.Store.FindMessage(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if m.Kind == passwordResetKind && !currentUser(c).Role.AtLeast(model.RoleAdmin) {
		// Its link sets the password of a staff account, an administrator's maybe: an
		// organizer who asked for someone else's reset must not read it here.
		m.TextBody, m.HTMLBody, m.Attachments = "", "", nil
		c.Set("mailbox_hidden", true)
	}
	return m, nil
}

// passwordResetKind is the kind of the password reset emails (app.RequestPasswordReset).
const passwordResetKind = "password_reset"

func (s *Server) handleMailboxMessage(c echo.Context) error {
	m, err := s.mailboxMessage(c)
	if err != nil {
		return err
	}
	title := m.Subject
	if title == "" { // erased with its contact
		title = m.Kind
	}
	p := s.page(c, title)
	p.Nav = "mailbox"
	p.Data["Message"] = m
	p.Data["Hidden"] = c.Get("mailbox_hidden") != nil
	return s.render(c, http.StatusOK, "mailbox_message", p)
}

// handleMailboxHTML serves a message's HTML part for the preview frame, sandboxed: no
// script runs and nothing is loaded from elsewhere.
func (s *Server) handleMailboxHTML(c echo.Context) error {
	m, err := s.mailboxMessage(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	return c.HTML(http.StatusOK, m.HTMLBody)
}

func (s *Server) handleMailboxAttachment(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	attID, err := paramID(c, "att")
	if err != nil {
		return err
	}
	if _, err := s.mailboxMessage(c); err != nil {
		return err
	}
	if c.Get("mailbox_hidden") != nil {
		return model.ErrNotFound
	}
	a, err := s.app.Store.FindAttachment(c.Request().Context(), id, attID)
	if err != nil {
		return err
	}
	return sendFile(c, a.Filename, a.ContentType, a.Data)
}

func (s *Server) handleMailboxRetry(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.app.RetryMessage(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	s.flash(c, "ok", "mailbox.retried")
	return s.redirect(c, "/admin/mailbox/"+strconv.FormatInt(id, 10))
}
