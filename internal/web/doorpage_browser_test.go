package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"relais/internal/browsertest"
	"relais/internal/model"
	"relais/internal/ticket"
)

// doorpageOpen starts a phone-sized Chromium on the door page of a new door link.
func doorpageOpen(t *testing.T, e *env, ev *model.Event, before ...chromedp.Action[chromedp.Void]) context.Context {
	t.Helper()
	tok := doorpageLink(e, ev, "Entrée principale", true, true).Token
	ctx := browsertest.New(t, 390, 844)
	steps := append(before, chromedp.Navigate(e.srv.URL+"/door/l/"+tok), chromedp.WaitVisible(chromedp.ID("scan")))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// doorpageScan types a code into the scanner field the way a keyboard-wedge scanner
// does (characters then Enter) and waits for the banner of the given kind.
func doorpageScan(t *testing.T, ctx context.Context, code, kind string) (title, detail string) {
	t.Helper()
	return doorpageAnswer(t, ctx, kind, chromedp.SendKeys(chromedp.ID("scan"), code+kb.Enter))
}

// doorpageAnswer runs an action and waits for the next banner, which must be of the
// given kind (ok, warn, bad, info); the focus must then be back on the scanner field.
func doorpageAnswer(t *testing.T, ctx context.Context, kind string, action chromedp.Action[chromedp.Void]) (title, detail string) {
	t.Helper()
	// The banner's data-seq moves on with each answer, so that two greens in a row are
	// told apart.
	seq, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`+document.getElementById('banner').dataset.seq || 0`))
	err := chromedp.Do(ctx, action,
		chromedp.Poll[chromedp.Void](`(+document.getElementById('banner').dataset.seq || 0) > `+itoa(int64(seq)), chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "answer-failed")
		t.Fatalf("no answer: %v", err)
	}
	class, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('banner').className`))
	title, _ = chromedp.Run(ctx, chromedp.Text(chromedp.ID("b-title")))
	detail, _ = chromedp.Run(ctx, chromedp.Text(chromedp.ID("b-detail")))
	if !strings.Contains(class, kind) {
		browsertest.Screenshot(t, ctx, "answer-"+kind)
		t.Fatalf("banner %q %q %q, want %s", class, title, detail, kind)
	}
	// Ready for the next ticket without a tap.
	if focused, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "scan" {
		t.Fatalf("after an answer the focus is on %q, not on the scanner field", focused)
	}
	return title, detail
}

// doorpageNetwork cuts or restores the network of the page and of its service worker,
// and tells the page (navigator.onLine and the online/offline events).
func doorpageNetwork(offline bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		var rules []*network.Conditions
		if offline {
			rules = []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}
		}
		yes := true
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &yes, MatchedNetworkConditions: rules}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	})
}

// doorpageCheckedIn reads the registration from the server's database.
func doorpageCheckedIn(t *testing.T, e *env, id int64) *model.Registration {
	t.Helper()
	r, err := e.app.Store.FindRegistration(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.CheckedInAt == nil {
		t.Fatalf("registration %d is not checked in on the server", id)
	}
	return r
}

// TestBrowserDoorKeyboardWedge: a USB scanner types a ticket code and Enter; the door
// page shows green with the name, amber for the same ticket again, red for an unknown code.
func TestBrowserDoorKeyboardWedge(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(40, model.ModeOpen)
	reg := doorpageRegister(e, ev, "Kafui", "Adjo", "kafui@example.tg", "Le blog de Kafui")
	ctx := doorpageOpen(t, e, ev)

	title, detail := doorpageScan(t, ctx, reg.TicketCode, "ok")
	if title != "Admis·e" || !strings.Contains(detail, "Kafui Adjo") || !strings.Contains(detail, "Le blog de Kafui") {
		t.Fatalf("green banner: %q %q", title, detail)
	}
	browsertest.Screenshot(t, ctx, "admitted")
	doorpageCheckedIn(t, e, reg.ID)
	title, _ = doorpageScan(t, ctx, strings.ToLower(reg.TicketCode), "warn")
	if !strings.HasPrefix(title, "Déjà admis·e à ") || !strings.Contains(title, "Entrée principale") {
		t.Fatalf("amber banner: %q", title)
	}
	browsertest.Screenshot(t, ctx, "already")
	title, _ = doorpageScan(t, ctx, ticket.NewCode(), "bad")
	if title != "Code inconnu" {
		t.Fatalf("red banner: %q", title)
	}
	browsertest.Screenshot(t, ctx, "unknown")
	// The short reference, typed by hand, admits too.
	other := doorpageRegister(e, ev, "Ama", "Mensah", "ama@example.tg", "Ama TV")
	if _, detail = doorpageScan(t, ctx, ticket.FormatReference(other.Reference), "ok"); !strings.Contains(detail, "Ama Mensah") {
		t.Fatalf("by reference: %q", detail)
	}
}

// TestBrowserDoorOffline: the door page keeps the roster; with the network cut it opens
// from the service worker, admits from the roster and counts the waiting scans, and
// sends them when the network is back.
func TestBrowserDoorOffline(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(40, model.ModeOpen)
	reg := doorpageRegister(e, ev, "Sena", "Agbeko", "sena@example.tg", "Sena Tech")
	doorpageRegister(e, ev, "Yawa", "Dosseh", "yawa@example.tg", "")
	ctx := doorpageOpen(t, e, ev)
	key := `'relais.door.` + itoa(ev.ID) + `.roster'`
	err := chromedp.Do(ctx,
		chromedp.Poll[chromedp.Void](`Object.keys((JSON.parse(localStorage.getItem(`+key+`)) || {items: {}}).items).length === 2`,
			chromedp.WithPollingTimeout(15*time.Second)),
		// The worker keeps the page once it is active.
		chromedp.Poll[chromedp.Void](`caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))
			.then(all => all.flat().some(r => new URL(r.url).pathname.startsWith('/door/l/')))`, chromedp.WithPollingTimeout(15*time.Second),
			chromedp.WithPollingInterval(100*time.Millisecond)),
	)
	if err != nil {
		t.Fatalf("roster or page not kept: %v", err)
	}

	// Network down: the page reopens from the worker's cache and admits from the roster.
	if err := chromedp.Do(ctx, doorpageNetwork(true), chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("scan")),
		chromedp.WaitVisible(chromedp.CSS("#net.offline"))); err != nil {
		browsertest.Screenshot(t, ctx, "offline-reload")
		t.Fatalf("offline reload: %v", err)
	}
	title, detail := doorpageScan(t, ctx, reg.TicketCode, "ok")
	if title != "Admis·e" || !strings.Contains(detail, "Sena Agbeko") {
		t.Fatalf("offline admission: %q %q", title, detail)
	}
	pending, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("pending")))
	if pending != "1 scan en attente d’envoi" {
		t.Fatalf("pending: %q", pending)
	}
	browsertest.Screenshot(t, ctx, "offline")
	if title, _ = doorpageScan(t, ctx, reg.TicketCode, "warn"); !strings.HasPrefix(title, "Déjà admis·e") {
		t.Fatalf("offline, same ticket again: %q", title)
	}
	if r, _ := e.app.Store.FindRegistration(context.Background(), reg.ID); r.CheckedInAt != nil {
		t.Fatal("admitted on the server while the network was down")
	}

	// Network back: the queue goes out by itself.
	if err := chromedp.Do(ctx, doorpageNetwork(false),
		chromedp.Poll[chromedp.Void](`document.getElementById('pending').textContent.indexOf('attente') < 0`,
			chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		browsertest.Screenshot(t, ctx, "sync-failed")
		t.Fatalf("queue not sent: %v", err)
	}
	r := doorpageCheckedIn(t, e, reg.ID)
	if age := time.Since(*r.CheckedInAt); age < 0 || age > time.Minute {
		t.Fatalf("checked in at %v: the scan time was not kept", r.CheckedInAt)
	}
	if q, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem('relais.door.`+itoa(ev.ID)+`.queue')`)); q != "[]" {
		t.Fatalf("queue after sync: %s", q)
	}
}

// TestBrowserDoorPhoto: where the browser has no BarcodeDetector, the door page offers a
// photo, which the server decodes; the ticket in it is admitted.
func TestBrowserDoorPhoto(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(40, model.ModeOpen)
	reg := doorpageRegister(e, ev, "Edem", "Kossi", "edem@example.tg", "Edem Info")
	noDetector := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `delete window.BarcodeDetector;`})
		return err
	})
	ctx := doorpageOpen(t, e, ev, noDetector)
	png, err := ticket.QRPNG(reg.TicketCode, 360)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ticket.png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("photo-btn")),
		chromedp.SetUploadFiles(chromedp.ID("photo"), []string{file}),
		chromedp.WaitVisible(chromedp.CSS("#banner.ok")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "photo-failed")
		t.Fatal(err)
	}
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('camera').hidden`)); !hidden {
		t.Fatal("camera button shown without BarcodeDetector")
	}
	if detail, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("b-detail"))); !strings.Contains(detail, "Edem Kossi") {
		t.Fatalf("photo admission: %q", detail)
	}
	browsertest.Screenshot(t, ctx, "photo")
	doorpageCheckedIn(t, e, reg.ID)
}

// TestBrowserDoorStaff: door staff, signed in, find a person by name and admit them,
// undo it, and register a walk-in; the page calls the API with the session and CSRF token.
func TestBrowserDoorStaff(t *testing.T) {
	e := newEnv(t, "sqlite")
	ev := e.publishedEvent(40, model.ModeOpen)
	e.user(model.RoleDoor, "porte@example.tg")
	reg := doorpageRegister(e, ev, "Ama", "Mensah", "ama@example.tg", "Ama TV")
	doorpageRegister(e, ev, "Kafui", "Adjo", "kafui@example.tg", "Le blog de Kafui")
	ctx := browsertest.New(t, 390, 844)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/door/events/"+itoa(ev.ID)),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), "porte@example.tg"),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("f-password")),
		chromedp.WaitVisible(chromedp.ID("scan")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "login-failed")
		t.Fatal(err)
	}
	ctx2 := context.Background()

	// Search: results as one types, each with an Admit button.
	title, detail := doorpageAnswer(t, ctx, "ok", chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("q"), "mens"),
		chromedp.WaitVisible(chromedp.CSS("#results button")),
		chromedp.Click(chromedp.CSS("#results button")),
	))
	if title != "Admis·e" || !strings.Contains(detail, "Ama Mensah") {
		t.Fatalf("admitted from the search: %q %q", title, detail)
	}
	doorpageCheckedIn(t, e, reg.ID)

	// Undo the last admission.
	if title, _ = doorpageAnswer(t, ctx, "info", chromedp.Click(chromedp.ID("undo"))); title != "Admission annulée" {
		t.Fatalf("undo: %q", title)
	}
	if r, _ := e.app.Store.FindRegistration(ctx2, reg.ID); r.CheckedInAt != nil {
		t.Fatal("still checked in after undo")
	}

	// A walk-in: registered and admitted at once.
	title, detail = doorpageAnswer(t, ctx, "ok", chromedp.Steps(
		chromedp.Click(chromedp.CSS("details.walkin summary")),
		chromedp.SendKeys(chromedp.ID("w-first_name"), "Koffi"),
		chromedp.SendKeys(chromedp.ID("w-last_name"), "Mawuli"),
		chromedp.SendKeys(chromedp.ID("w-phone"), "90 11 22 33"),
		chromedp.SendKeys(chromedp.ID("w-outlet"), "Koffi Vlog"),
		chromedp.Click(chromedp.CSS("#walkin button")),
	))
	if title != "Admis·e" || !strings.Contains(detail, "Koffi Mawuli — Koffi Vlog") {
		t.Fatalf("walk-in: %q %q", title, detail)
	}
	browsertest.Screenshot(t, ctx, "walk-in")
	if n, _, err := e.app.Store.AdmissionCounts(ctx2, ev.ID); err != nil || n != 1 {
		t.Fatalf("admitted on the server: %d %v", n, err)
	}
}
