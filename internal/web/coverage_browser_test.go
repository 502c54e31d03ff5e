package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"relais/internal/browsertest"
	"relais/internal/model"
)

// TestBrowserCoverageFromTicketToReport: on a phone, a confirmed attendee opens their
// ticket page and sends two links at once; then, on a desktop screen, an organizer's
// report lists them with the total declared reach.
func TestBrowserCoverageFromTicketToReport(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(30, model.ModeOpen)
	r := covAttendee(t, e, ev, "Kafui", "kafui@example.org")
	e.user(model.RoleOrganizer, "orga@example.tg")
	ctx := browsertest.New(t, 390, 844)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/t/"+r.ManageToken),
		chromedp.WaitVisible(chromedp.ID("couverture")),
		chromedp.ScrollIntoView(chromedp.ID("f-links")),
		chromedp.SendKeys(chromedp.ID("f-links"), "https://www.facebook.com/kafui.blog/posts/42\nkafui.example.org/compte-rendu"),
		chromedp.SendKeys(chromedp.ID("f-reach"), "1 500"),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-form")
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "ticket-form")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#couverture button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#couverture .flash.ok`)),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-submit")
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "ticket-sent")
	section, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("couverture")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 liens enregistrés", "https://www.facebook.com/kafui.blog/posts/42", "https://kafui.example.org/compte-rendu", "Facebook", "Blog"} {
		if !strings.Contains(section, want) {
			t.Fatalf("coverage section lacks %q:\n%s", want, section)
		}
	}
	// The organizer, on a desktop screen.
	report := fmt.Sprintf("%s/admin/events/%d/report", e.srv.URL, ev.ID)
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(report),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), "orga@example.tg"),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("f-password")),
		chromedp.WaitVisible(chromedp.ID("total-reach")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "failed-report")
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "report")
	reach, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("total-reach")))
	if reach != "3\u202f000" {
		t.Fatalf("total reach %q", reach)
	}
	table, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("report-coverage")))
	for _, want := range []string{"Kafui Test", "https://www.facebook.com/kafui.blog/posts/42", "https://kafui.example.org/compte-rendu", "1\u202f500"} {
		if !strings.Contains(table, want) {
			t.Fatalf("report's coverage lacks %q:\n%s", want, table)
		}
	}
	// The charts are drawn: the funnel's bars are in the page as SVG.
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#chart-funnel svg rect').length`))
	if err != nil || bars != 6 {
		t.Fatalf("funnel bars: %d %v", bars, err)
	}
}
