package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"relais/internal/browsertest"
	"relais/internal/mail"
	"relais/internal/model"
)

// TestBrowserCampaignSendsAndShowsProgress: in Chromium, an organizer writes a follow-up
// to the attendees, sees it previewed for a real attendee, sends it, and watches the page
// count the messages as the outbox delivers them, without reloading (campaign.js).
func TestBrowserCampaignSendsAndShowsProgress(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.user(model.RoleOrganizer, "orga@example.tg")
	ev := e.publishedEvent(0, model.ModeOpen)
	e.campPeople(ev, 2, [2]string{"Kafui", "fr"}, [2]string{"Edem", "en"}, [2]string{"Ama", "fr"})
	ctx := browsertest.New(t, 1280, 900)
	base := e.srv.URL
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), "orga@example.tg"),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("f-password")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/events/new"]`)),
		chromedp.Navigate(base+"/admin/events/"+itoa(ev.ID)+"/campaigns/new"),
		chromedp.WaitVisible(chromedp.ID("f-subject")),
		chromedp.SetValue(chromedp.ID("f-segment"), "attended"),
		chromedp.SendKeys(chromedp.ID("f-subject"), "Merci {first_name} !"),
		chromedp.SendKeys(chromedp.ID("f-body"), "Bonjour {first_name},\n\nMerci d’être venu·e. Vos publications : {coverage_url}"),
		chromedp.Submit(chromedp.ID("f-subject")),
		chromedp.WaitVisible(chromedp.CSS("iframe.mailpreview")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed")
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "campaign-draft")
	text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#preview")))
	if !strings.Contains(text, "tel que Kafui Test") || !strings.Contains(text, "Merci Kafui !") {
		t.Fatalf("preview: %s", text)
	}
	// Submit rather than Click: a synthetic click right after the scroll may be routed to
	// the sandboxed preview frame (an out-of-process frame whose position the browser has
	// not updated yet); a person's click is not affected.
	err = chromedp.Do(ctx,
		chromedp.Submit(chromedp.CSS(`form[action$="/send"] button`)),
		chromedp.WaitVisible(chromedp.ID("campaign-progress")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-send")
		t.Fatal(err)
	}
	sent, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-count="sent"]`)))
	queued, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-count="queued"]`)))
	if sent != "0" || queued != "2" {
		t.Fatalf("before delivery: sent %q queued %q", sent, queued)
	}
	// The outbox delivers while the page is open.
	keep, err := mail.NewSender("")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := mail.NewWorker(e.app.Store, keep, mail.WorkerOptions{}).RunOnce(context.Background()); err != nil || n < 2 {
		t.Fatalf("worker: %d %v", n, err)
	}
	err = chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.querySelector('[data-count="sent"]').textContent === "2" &&
		document.querySelector('progress').value === 100 && document.getElementById('progress-auto').hidden`,
		chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-progress")
		t.Fatalf("the page did not update itself: %v", err)
	}
	browsertest.Screenshot(t, ctx, "campaign-sent")
}
