package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"relais/internal/app"
	"relais/internal/browsertest"
	"relais/internal/model"
)

// doorpageOfflineScan opens the door page of a new link, waits for the roster, cuts the
// network and admits reg offline: one scan waits in the queue.
func doorpageOfflineScan(t *testing.T, e *env, ev *model.Event, reg *model.Registration) (context.Context, *model.DoorLink) {
	t.Helper()
	link := doorpageLink(e, ev, "Entrée principale", true, true)
	ctx := browsertest.New(t, 390, 844)
	key := `'relais.door.` + itoa(ev.ID) + `.roster'`
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/door/l/"+link.Token), chromedp.WaitVisible(chromedp.ID("scan")),
		chromedp.Poll[chromedp.Void](`Object.keys((JSON.parse(localStorage.getItem(`+key+`)) || {items: {}}).items).length > 0`,
			chromedp.WithPollingTimeout(15*time.Second)),
		doorpageNetwork(true), chromedp.WaitVisible(chromedp.CSS("#net.offline"))); err != nil {
		t.Fatal(err)
	}
	if title, _ := doorpageScan(t, ctx, reg.TicketCode, "ok"); title != "Admis·e" {
		t.Fatalf("offline admission: %q", title)
	}
	return ctx, link
}

func doorpageQueue(t *testing.T, ctx context.Context, ev *model.Event) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(JSON.parse(localStorage.getItem('relais.door.`+itoa(ev.ID)+`.queue')) || []).length`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBrowserDoorLinkEnded: a door whose link ends while it holds offline scans never
// drops them. Revoked: the scans stay on the phone and the page says how many and what
// to do, and so does the server's page for the link. Expired a moment ago: the scans
// made while it was valid are still sent.
func TestBrowserDoorLinkEnded(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(40, model.ModeOpen)
	realNow := e.app.Now
	t.Cleanup(func() { e.app.Now = realNow })

	t.Run("revoked", func(t *testing.T) {
		reg := doorpageRegister(e, ev, "Sena", "Agbeko", "sena@example.tg", "Sena Tech")
		ctx, link := doorpageOfflineScan(t, e, ev, reg)
		if err := e.app.RevokeDoorLink(context.Background(), app.Actor{Name: "test"}, ev.ID, link.ID); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, doorpageNetwork(false), chromedp.WaitVisible(chromedp.ID("ended"))); err != nil {
			browsertest.Screenshot(t, ctx, "revoked")
			t.Fatalf("no message: %v", err)
		}
		msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("ended")))
		if !strings.Contains(msg, "1 admission faite hors ligne n’a pas été envoyée") || !strings.Contains(msg, "nouveau lien") {
			t.Fatalf("message: %q", msg)
		}
		browsertest.Screenshot(t, ctx, "revoked")
		if n := doorpageQueue(t, ctx, ev); n != 1 {
			t.Fatalf("%d scans kept, want 1", n)
		}
		if title, _ := doorpageScan(t, ctx, reg.TicketCode, "bad"); title != "Ce lien d’accueil ne fonctionne plus." {
			t.Fatalf("scan after the end: %q", title)
		}
		if r, _ := e.app.Store.FindRegistration(context.Background(), reg.ID); r.CheckedInAt != nil {
			t.Fatal("admitted by a revoked link")
		}
		// Opened again, the link is the server's page; the scans are still kept, and counted.
		if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("gone-pending"))); err != nil {
			browsertest.Screenshot(t, ctx, "gone")
			t.Fatalf("gone page: %v", err)
		}
		msg, _ = chromedp.Run(ctx, chromedp.Text(chromedp.ID("gone-pending")))
		if !strings.Contains(msg, "1 admission faite hors ligne n’a pas été envoyée") || doorpageQueue(t, ctx, ev) != 1 {
			t.Fatalf("gone page: %q, %d kept", msg, doorpageQueue(t, ctx, ev))
		}
		// A new link of the event, opened on the phone, sends them.
		fresh := doorpageLink(e, ev, "Entrée bis", false, false)
		if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/door/l/"+fresh.Token), chromedp.WaitVisible(chromedp.ID("scan")),
			chromedp.Poll[chromedp.Void](`(JSON.parse(localStorage.getItem('relais.door.`+itoa(ev.ID)+`.queue')) || []).length === 0`,
				chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			t.Fatalf("queue not sent by a new link: %v", err)
		}
		doorpageCheckedIn(t, e, reg.ID)
	})

	t.Run("expired", func(t *testing.T) {
		reg := doorpageRegister(e, ev, "Yawa", "Dosseh", "yawa@example.tg", "")
		ctx, link := doorpageOfflineScan(t, e, ev, reg)
		e.app.Now = func() time.Time { return link.ExpiresAt.Add(time.Hour) }
		if err := chromedp.Do(ctx, doorpageNetwork(false), chromedp.WaitVisible(chromedp.ID("ended")),
			chromedp.Poll[chromedp.Void](`(JSON.parse(localStorage.getItem('relais.door.`+itoa(ev.ID)+`.queue')) || []).length === 0`,
				chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			browsertest.Screenshot(t, ctx, "expired")
			t.Fatalf("late sync: %v", err)
		}
		doorpageCheckedIn(t, e, reg.ID) // and the page, with nothing left to send, keeps nothing
		if msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("ended"))); !strings.Contains(msg, "Tous les scans ont été envoyés") {
			t.Fatalf("message: %q", msg)
		}
	})
}
