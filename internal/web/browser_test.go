package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"relais/internal/browsertest"
	"relais/internal/model"
)

// TestBrowserOrganizerPublishesEvent: in Chromium, an organizer signs in, creates and
// publishes a session, and opens its public page.
func TestBrowserOrganizerPublishesEvent(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.user(model.RoleOrganizer, "orga@example.tg")
	ctx := browsertest.New(t, 1280, 900)
	base := e.srv.URL
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), "orga@example.tg"),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("f-password")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/events/new"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/admin/events/new"]`)),
		chromedp.WaitVisible(chromedp.ID("f-title")),
		chromedp.SendKeys(chromedp.ID("f-title"), "Briefing de la blogosphère"),
		chromedp.SendKeys(chromedp.ID("f-theme"), "Les mégadonnées pour un méga impact"),
		chromedp.SetValue(chromedp.ID("f-starts_at"), "2030-05-17T09:00"),
		chromedp.SetValue(chromedp.ID("f-ends_at"), "2030-05-17T12:00"),
		chromedp.SendKeys(chromedp.ID("f-venue_name"), "Ministère, Lomé"),
		chromedp.Submit(chromedp.ID("f-title")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="published"]`)),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed")
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "event-admin")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[value="published"]`)),
		chromedp.WaitVisible(chromedp.CSS(`h1 .badge.published`))); err != nil {
		t.Fatal(err)
	}
	flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash.ok")))
	if !strings.Contains(flash, "publiée") {
		t.Fatalf("flash after publish: %q", flash)
	}
	ev, err := e.app.Store.FindEventBySlug(context.Background(), "briefing-de-la-blogosphere")
	if err != nil || ev.Status != model.EventPublished {
		t.Fatalf("event: %+v %v", ev, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/e/briefing-de-la-blogosphere"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "public-page")
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{"Briefing de la blogosphère", "vendredi 17 mai 2030, 09:00 – 12:00", "Les mégadonnées pour un méga impact"} {
		if !strings.Contains(body, want) {
			t.Fatalf("public page lacks %q:\n%s", want, body)
		}
	}
}

// TestBrowserBloggerRegistersOnPhone: on a phone-sized screen, a blogger registers from
// the public page, sees the ticket with its QR code, and cancels with the confirmation step.
func TestBrowserBloggerRegistersOnPhone(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(30, model.ModeOpen)
	ctx := browsertest.New(t, 390, 844)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/e/"+ev.Slug),
		chromedp.WaitVisible(chromedp.ID("f-first_name")),
		chromedp.SendKeys(chromedp.ID("f-first_name"), "Kafui"),
		chromedp.SendKeys(chromedp.ID("f-last_name"), "Adjo"),
		chromedp.SendKeys(chromedp.ID("f-email"), "kafui@example.org"),
		chromedp.SendKeys(chromedp.ID("f-phone"), "90 12 34 56"),
		chromedp.SendKeys(chromedp.ID("f-channel_facebook"), "kafui.blog"),
		chromedp.Click(chromedp.ID("f-consent")),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "form")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button.wide`)), chromedp.WaitVisible(chromedp.CSS(".qr img"))); err != nil {
		browsertest.Screenshot(t, ctx, "failed")
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "ticket")
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('.qr img').naturalWidth > 100`))
	if err != nil || !loaded {
		t.Fatalf("QR image not loaded: %v", err)
	}
	ref, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".ref")))
	if len(strings.ReplaceAll(ref, "-", "")) != 6 {
		t.Fatalf("reference %q", ref)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a.button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(`form button.danger`)),
		chromedp.Click(chromedp.CSS(`form button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(`.badge.r-cancelled`)),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-cancel")
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "cancelled")
	c, _ := e.app.Store.FindContactByEmail(context.Background(), "kafui@example.org")
	r, err := e.app.Store.FindRegistrationFor(context.Background(), ev.ID, c.ID)
	if err != nil || r.Status != model.RegCancelled || c.Phone != "+22890123456" {
		t.Fatalf("registration %+v contact %+v %v", r, c, err)
	}
}
