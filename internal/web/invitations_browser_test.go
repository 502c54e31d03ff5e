package web_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"relais/internal/browsertest"
	"relais/internal/mail"
	"relais/internal/mail/mailtest"
	"relais/internal/model"
)

// invMailText returns the decoded plain-text part of a raw message.
func invMailText(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	var text string
	var walk func(ct, cte string, body io.Reader)
	walk = func(ct, cte string, body io.Reader) {
		mt, params, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					return
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
		if mt == "text/plain" && text == "" {
			if strings.EqualFold(cte, "quoted-printable") {
				body = quotedprintable.NewReader(body)
			}
			b, _ := io.ReadAll(body)
			text = string(b)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return text
}

// TestBrowserOrganizerInvitesTagAndBloggerAccepts: in Chromium, an organizer signs in and
// invites every contact tagged "kara" to an invite-only session; the outbox worker
// delivers the invitations over SMTP; on a phone-sized screen, a blogger opens the link
// from the email, finds the form filled in from the directory, accepts, and gets the
// confirmed ticket.
func TestBrowserOrganizerInvitesTagAndBloggerAccepts(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.app.Config.BaseURL = e.srv.URL
	ev := e.publishedEvent(30, model.ModeInviteOnly)
	essowe := invContact(e, "Essowè", "Pali", "essowe@example.tg", "fr", "kara")
	invContact(e, "Tchilabalo", "Bakali", "tchila@example.tg", "fr", "kara")
	invContact(e, "Kafui", "Adjo", "kafui@example.tg", "fr", "lome")
	e.user(model.RoleOrganizer, "orga@example.tg")
	ctx := browsertest.New(t, 1280, 900)
	page := e.srv.URL + "/admin/events/" + itoa(ev.ID) + "/invitations"
	err := chromedp.Do(ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), "orga@example.tg"),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("f-password")),
		chromedp.WaitVisible(chromedp.ID("f-tag")),
		chromedp.SendKeys(chromedp.ID("f-tag"), "kara"),
		chromedp.SendKeys(chromedp.ID("f-note"), "Votre regard depuis Kara nous intéresse."),
		chromedp.Submit(chromedp.ID("f-tag")),
		chromedp.WaitVisible(chromedp.CSS(".flash.ok")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-invite")
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "invited")
	flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash.ok")))
	if !strings.Contains(flash, "2 invitations envoyées") {
		t.Fatalf("flash after inviting: %q", flash)
	}
	// The worker delivers the outbox to a real SMTP server.
	srv := mailtest.Start(t)
	sender, err := mail.NewSender(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	if n, err := mail.NewWorker(e.app.Store, sender, mail.WorkerOptions{}).RunOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("worker sent %d: %v", n, err)
	}
	var link string
	for _, r := range srv.Received() {
		if len(r.To) == 1 && r.To[0] == essowe.Email {
			link = invLinkRe.FindString(invMailText(t, r.Data))
		}
	}
	if !strings.HasPrefix(link, e.srv.URL+"/i/") {
		t.Fatalf("no invitation link in the email to %s: %q", essowe.Email, link)
	}
	// The blogger, on a phone, with none of the organizer's cookies.
	err = chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
			return err
		}),
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("f-first_name")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-open")
		t.Fatal(err)
	}
	for id, want := range map[string]string{"f-first_name": "Essowè", "f-last_name": "Pali", "f-outlet": "Le blog de Essowè", "f-channel_facebook": "essowè.blog"} {
		got, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID(id)))
		if err != nil || got != want {
			t.Fatalf("%s pre-filled with %q, want %q (%v)", id, got, want, err)
		}
	}
	note, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".note blockquote")))
	if note != "Votre regard depuis Kara nous intéresse." {
		t.Fatalf("note %q", note)
	}
	browsertest.Screenshot(t, ctx, "invitation")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("f-consent")),
		chromedp.Click(chromedp.CSS("#accepter button.wide")),
		chromedp.WaitVisible(chromedp.CSS(".badge.r-confirmed")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-accept")
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "ticket")
	state, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".badge.r-confirmed")))
	if state != "Confirmée" {
		t.Fatalf("ticket state %q", state)
	}
	r, err := e.app.Store.FindRegistrationFor(context.Background(), ev.ID, essowe.ID)
	if err != nil || r.Status != model.RegConfirmed || r.Source != model.SourceInvitation {
		t.Fatalf("registration %+v %v", r, err)
	}
}
