package web_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"relais/internal/browsertest"
	"relais/internal/mail"
	"relais/internal/mail/mailtest"
	"relais/internal/model"
	"relais/internal/store"
)

// The whole journey of issue 7, point 4, in one Chromium: an organizer (desktop) creates
// and publishes a one-seat session, imports bloggers from a CSV and invites their tag;
// a blogger (phone) accepts the invitation from the delivered email; another registers
// from the public page and is waitlisted; the door (phone) admits the first by a
// keyboard-wedge scan; the organizer sends the follow-up to those who came; the blogger
// sends a coverage link from it; the report shows it. Each step is checked on the page
// and in the database, and leaves a screenshot under RELAIS_TEST_OUTPUT/screenshots.

// journeyCSV is the directory file the organizer imports: French headers, ";" as
// separator, as a spreadsheet in Lomé exports it.
const journeyCSV = "Prénom;Nom;Courriel;Téléphone;Nom du blog;Facebook;Étiquettes\n" +
	"Essowè;Pali;essowe@example.tg;90 11 22 33;Le blog d’Essowè;essowe.blog;journée2017\n" +
	"Tchilabalo;Bakali;tchila@example.tg;91 22 33 44;Kara Infos;tchila.kara;journée2017, kara\n" +
	"Afi;Mensah;afi@example.tg;;Afi Digital;;journée2017\n"

// journeyStepTimeout bounds each step, well within browsertest.New's limit for the test.
const journeyStepTimeout = 10 * time.Second

// journey holds what the steps share.
type journey struct {
	t     *testing.T
	e     *env
	start time.Time
	last  time.Time
}

// step runs the actions of one step on ctx; it fails the test with a screenshot when
// they fail, and otherwise saves a screenshot named after the step and logs its time.
func (j *journey) step(ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	j.t.Helper()
	// A step that waits in vain fails alone, early enough for the page to be saved.
	sctx, cancel := context.WithTimeout(ctx, journeyStepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		browsertest.Screenshot(j.t, ctx, "failed-"+name)
		j.t.Fatalf("step %s: %v\non %s:\n%s", name, err, loc, snippet(body))
	}
	browsertest.Screenshot(j.t, ctx, name)
	now := time.Now()
	j.t.Logf("step %-24s %6d ms (total %6d ms)", name, now.Sub(j.last).Milliseconds(), now.Sub(j.start).Milliseconds())
	j.last = now
}

// journeyClick clicks the first element matching a CSS selector as a person does, once
// it is in view and the browser has drawn it there. Chromium routes a click by the last
// frame it drew: right after a scroll, a click can go to the sandboxed mail preview
// (a frame of its own process) that was under the pointer before the scroll, and be lost.
func journeyClick(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.ScrollIntoView(chromedp.CSS(css)),
		chromedp.Evaluate[chromedp.Void](`new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done())))`,
			chromedp.EvalAwaitPromise),
		chromedp.Click(chromedp.CSS(css)),
	)
}

// text reads the text of the first element matching a CSS selector, failing the test
// when there is none.
func (j *journey) text(ctx context.Context, css string) string {
	j.t.Helper()
	rctx, cancel := context.WithTimeout(ctx, journeyStepTimeout)
	defer cancel()
	s, err := chromedp.Run(rctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		browsertest.Screenshot(j.t, ctx, "failed-read")
		j.t.Fatalf("read %s: %v", css, err)
	}
	return s
}

// contains fails the test when the text of css lacks one of wants.
func (j *journey) contains(ctx context.Context, css string, wants ...string) {
	j.t.Helper()
	got := j.text(ctx, css)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			j.t.Fatalf("%s lacks %q:\n%s", css, w, got)
		}
	}
}

// tab opens a new window with its own cookies and storage (another person's phone or
// browser) on the browser of parent, with the given viewport.
func (j *journey) tab(parent context.Context, width, height int64) context.Context {
	j.t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	j.t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		j.t.Fatalf("new browser context: %v", err)
	}
	return ctx
}

// deliver runs the outbox worker once against the SMTP server and returns the messages
// it delivered, with their decoded subject and text.
func (j *journey) deliver(srv *mailtest.Server, sender mail.Sender) []journeyMail {
	j.t.Helper()
	before := len(srv.Received())
	n, err := mail.NewWorker(j.e.app.Store, sender, mail.WorkerOptions{}).RunOnce(context.Background())
	if err != nil {
		j.t.Fatalf("mail worker: %v", err)
	}
	got := srv.Received()[before:]
	if len(got) != n {
		j.t.Fatalf("the worker says it sent %d messages, the SMTP server received %d", n, len(got))
	}
	out := make([]journeyMail, len(got))
	for i, r := range got {
		out[i] = journeyParse(j.t, r)
	}
	return out
}

// journeyMail is a delivered message, decoded.
type journeyMail struct {
	To      []string
	Subject string
	Text    string
}

// journeyFind returns the one message to addr whose subject contains subject.
func journeyFind(t *testing.T, msgs []journeyMail, addr, subject string) journeyMail {
	t.Helper()
	var found []journeyMail
	for _, m := range msgs {
		if len(m.To) == 1 && m.To[0] == addr && strings.Contains(m.Subject, subject) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		var seen []string
		for _, m := range msgs {
			seen = append(seen, strings.Join(m.To, ",")+": "+m.Subject)
		}
		t.Fatalf("%d messages to %s about %q, want 1; delivered:\n%s", len(found), addr, subject, strings.Join(seen, "\n"))
	}
	return found[0]
}

// journeyParse decodes the subject and the plain-text part of a raw message.
func journeyParse(t *testing.T, r mailtest.Received) journeyMail {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
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
	return journeyMail{To: r.To, Subject: subject, Text: text}
}

var (
	journeyInvitationRe = regexp.MustCompile(`https?://[^\s"<>()]+/i/[A-Za-z0-9_-]+`)
	journeyCoverageRe   = regexp.MustCompile(`https?://[^\s"<>()]+/t/[A-Za-z0-9_-]+#couverture`)
	journeyEventIDRe    = regexp.MustCompile(`/admin/events/(\d+)$`)
)

// TestBrowserJourney: the whole journey, from an empty Relais to the report.
func TestBrowserJourney(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.app.Config.BaseURL = e.srv.URL // the links in the emails lead to this server
	e.user(model.RoleOrganizer, "orga@example.tg")
	bg := context.Background()
	base := e.srv.URL

	smtp := mailtest.Start(t)
	sender, err := mail.NewSender(smtp.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()

	orga := browsertest.New(t, 1280, 900)
	j := &journey{t: t, e: e, start: time.Now()}
	j.last = j.start

	// 1. The organizer signs in and creates a one-seat session happening today.
	tz, err := time.LoadLocation(e.cfg.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(tz)
	j.step(orga, "01-event-form",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), "orga@example.tg"),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("f-password")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/events/new"]`)),
		journeyClick(`a[href="/admin/events/new"]`),
		chromedp.WaitVisible(chromedp.ID("f-title")),
		chromedp.SendKeys(chromedp.ID("f-title"), "Journée des blogueurs"),
		chromedp.SendKeys(chromedp.ID("f-theme"), "Le numérique au service de tous"),
		chromedp.SetValue(chromedp.ID("f-starts_at"), now.Add(-time.Hour).Format("2006-01-02T15:04")),
		chromedp.SetValue(chromedp.ID("f-ends_at"), now.Add(3*time.Hour).Format("2006-01-02T15:04")),
		chromedp.SendKeys(chromedp.ID("f-venue_name"), "Maison des médias, Lomé"),
		chromedp.SetValue(chromedp.ID("f-capacity"), "1"),
		chromedp.SetValue(chromedp.ID("f-registration_mode"), "open"),
	)
	j.step(orga, "02-event-published",
		chromedp.Submit(chromedp.ID("f-title")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="published"]`)),
		journeyClick(`button[value="published"]`),
		chromedp.WaitVisible(chromedp.CSS(`h1 .badge.published`)),
	)
	j.contains(orga, ".flash.ok", "publiée")
	loc, _ := chromedp.Run(orga, chromedp.Location())
	m := journeyEventIDRe.FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("after publishing, the organizer is on %s", loc)
	}
	eventID, _ := strconv.ParseInt(m[1], 10, 64)
	ev, err := e.app.Store.FindEventByID(bg, eventID)
	if err != nil || ev.Status != model.EventPublished || ev.Capacity != 1 || ev.RegistrationMode != model.ModeOpen {
		t.Fatalf("event in the database: %+v %v", ev, err)
	}
	admin := base + "/admin/events/" + m[1]

	// 2. The organizer imports three bloggers from a CSV, tagged "journée2017".
	csv := filepath.Join(t.TempDir(), "blogueurs.csv")
	if err := os.WriteFile(csv, []byte(journeyCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	j.step(orga, "03-import-preview",
		chromedp.Navigate(base+"/admin/contacts"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/contacts/import"]`)),
		journeyClick(`a[href="/admin/contacts/import"]`),
		chromedp.WaitVisible(chromedp.ID("f-file")),
		chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{csv}),
		chromedp.Submit(chromedp.ID("f-file")),
		chromedp.WaitVisible(chromedp.CSS("table.preview")),
	)
	j.contains(orga, "main", "blogueurs.csv", "3 lignes", "Essowè", "journée2017")
	for col, want := range map[string]string{"map-0": "first_name", "map-1": "last_name", "map-2": "email", "map-3": "phone",
		"map-4": "outlet", "map-5": "channel.facebook", "map-6": "tags"} {
		if got, _ := chromedp.Run(orga, chromedp.Value(chromedp.ID(col))); got != want {
			t.Fatalf("column %s mapped to %q, want %q", col, got, want)
		}
	}
	j.step(orga, "04-import-report",
		chromedp.Submit(chromedp.ID("map-0")),
		chromedp.WaitVisible(chromedp.CSS("ul.counters")),
	)
	if got := strings.Join(strings.Fields(j.text(orga, "ul.counters li")), " "); got != "3 nouveaux contacts" {
		t.Fatalf("import report: %q", got)
	}
	tagged, n, err := e.app.Store.ListContacts(bg, store.ContactFilter{Tag: "journée2017"})
	if err != nil || n != 3 || len(tagged) != 3 {
		t.Fatalf("contacts tagged journée2017: %d %v", n, err)
	}
	essowe, err := e.app.Store.FindContactByEmail(bg, "essowe@example.tg")
	if err != nil || essowe.Phone != "+22890112233" || essowe.Outlet != "Le blog d’Essowè" {
		t.Fatalf("imported contact: %+v %v", essowe, err)
	}

	// 3. The organizer invites the tag from the event's invitations page.
	j.step(orga, "05-invitations-sent",
		chromedp.Navigate(admin),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/invitations"]`)),
		journeyClick(`a[href$="/invitations"]`),
		chromedp.WaitVisible(chromedp.ID("f-tag")),
		chromedp.SendKeys(chromedp.ID("f-tag"), "journée2017"),
		chromedp.SendKeys(chromedp.ID("f-note"), "Votre regard de blogueur nous intéresse."),
		chromedp.Submit(chromedp.ID("f-tag")),
		chromedp.WaitVisible(chromedp.CSS(".flash.ok")),
	)
	j.contains(orga, ".flash.ok", "3 invitations envoyées")
	j.contains(orga, "table.invitations", "Essowè Pali", "Tchilabalo Bakali", "Afi Mensah")
	invs, err := e.app.Store.ListInvitations(bg, eventID, "")
	if err != nil || len(invs) != 3 {
		t.Fatalf("invitations in the database: %d %v", len(invs), err)
	}

	// The worker delivers the three invitations.
	delivered := j.deliver(smtp, sender)
	if len(delivered) != 3 {
		t.Fatalf("%d messages delivered after inviting, want 3", len(delivered))
	}
	link := journeyInvitationRe.FindString(journeyFind(t, delivered, essowe.Email, "Journée des blogueurs").Text)
	if !strings.HasPrefix(link, base+"/i/") {
		t.Fatalf("no invitation link in the email to %s: %q", essowe.Email, link)
	}

	// 4. On her phone, Essowè opens the link, finds the form filled in, and accepts.
	essoweCtx := j.tab(orga, 390, 844)
	j.step(essoweCtx, "06-invitation-on-phone",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("f-first_name")),
	)
	for id, want := range map[string]string{"f-first_name": "Essowè", "f-last_name": "Pali", "f-outlet": "Le blog d’Essowè",
		"f-channel_facebook": "essowe.blog"} {
		if got, err := chromedp.Run(essoweCtx, chromedp.Value(chromedp.ID(id))); err != nil || got != want {
			t.Fatalf("%s pre-filled with %q, want %q (%v)", id, got, want, err)
		}
	}
	j.contains(essoweCtx, ".note blockquote", "Votre regard de blogueur nous intéresse.")
	j.step(essoweCtx, "07-ticket-confirmed",
		journeyClick("#f-consent"),
		journeyClick("#accepter button.wide"),
		chromedp.WaitVisible(chromedp.CSS(".badge.r-confirmed")),
		chromedp.WaitVisible(chromedp.CSS(".qr img")),
	)
	if got := j.text(essoweCtx, ".badge.r-confirmed"); got != "Confirmée" {
		t.Fatalf("ticket state %q", got)
	}
	first, err := e.app.Store.FindRegistrationFor(bg, eventID, essowe.ID)
	if err != nil || first.Status != model.RegConfirmed || first.Source != model.SourceInvitation {
		t.Fatalf("Essowè's registration: %+v %v", first, err)
	}
	if inv, err := e.app.Store.FindInvitationFor(bg, eventID, essowe.ID); err != nil || inv.Status != "accepted" {
		t.Fatalf("Essowè's invitation: %+v %v", inv, err)
	}

	// 5. Another blogger registers from the public page: the only seat is taken.
	kossiCtx := j.tab(orga, 390, 844)
	j.step(kossiCtx, "08-public-form-full",
		chromedp.Navigate(base+"/e/"+ev.Slug),
		chromedp.WaitVisible(chromedp.ID("f-first_name")),
		chromedp.SendKeys(chromedp.ID("f-first_name"), "Kossi"),
		chromedp.SendKeys(chromedp.ID("f-last_name"), "Agbodjan"),
		chromedp.SendKeys(chromedp.ID("f-email"), "kossi@example.org"),
		chromedp.SendKeys(chromedp.ID("f-phone"), "92 33 44 55"),
		chromedp.SendKeys(chromedp.ID("f-outlet"), "Kossi Tech"),
		journeyClick("#f-consent"),
	)
	j.contains(kossiCtx, "#inscription .alert.info", "liste d’attente")
	j.step(kossiCtx, "09-waitlisted",
		journeyClick("#inscription button.wide"),
		chromedp.WaitVisible(chromedp.CSS(".badge.r-waitlisted")),
	)
	if got := j.text(kossiCtx, ".badge.r-waitlisted"); got != "Liste d’attente" {
		t.Fatalf("second ticket state %q", got)
	}
	kossi, err := e.app.Store.FindContactByEmail(bg, "kossi@example.org")
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.app.Store.FindRegistrationFor(bg, eventID, kossi.ID)
	if err != nil || second.Status != model.RegWaitlisted {
		t.Fatalf("Kossi's registration: %+v %v", second, err)
	}

	// 6. The organizer makes a door link; the door's phone admits Essowè by scanner.
	j.step(orga, "10-door-link",
		chromedp.Navigate(admin+"/checkins"),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/door-links"] #f-name`)),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/door-links"] #f-name`), "Entrée principale"),
		chromedp.Submit(chromedp.CSS(`form[action$="/door-links"] #f-name`)),
		chromedp.WaitVisible(chromedp.CSS(".badge.dl-active")),
	)
	links, err := e.app.Store.ListDoorLinks(bg, eventID)
	if err != nil || len(links) != 1 {
		t.Fatalf("door links: %d %v", len(links), err)
	}
	shown, _ := chromedp.Run(orga, chromedp.TextContent(chromedp.CSS("#door-links code.token")))
	if !strings.HasSuffix(shown, "/door/l/"+links[0].Token) {
		t.Fatalf("the page shows the door link %q, not the one made (%s)", shown, links[0].Token)
	}
	door := j.tab(orga, 390, 844)
	j.step(door, "11-door-ready",
		chromedp.Navigate(base+"/door/l/"+links[0].Token),
		chromedp.WaitVisible(chromedp.ID("scan")),
	)
	j.step(door, "12-door-admitted",
		chromedp.SendKeys(chromedp.ID("scan"), first.TicketCode+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#banner.ok")),
	)
	if title := j.text(door, "#b-title"); title != "Admis·e" {
		t.Fatalf("door banner %q", title)
	}
	j.contains(door, "#b-detail", "Essowè Pali", "Le blog d’Essowè")
	if first, err = e.app.Store.FindRegistration(bg, first.ID); err != nil || first.CheckedInAt == nil {
		t.Fatalf("Essowè is not checked in on the server: %+v %v", first, err)
	}
	if second, err = e.app.Store.FindRegistration(bg, second.ID); err != nil || second.CheckedInAt != nil {
		t.Fatalf("Kossi checked in: %+v %v", second, err)
	}

	// 7. The organizer sends the follow-up to those who came.
	j.step(orga, "13-campaign-form",
		chromedp.Navigate(admin+"/campaigns"),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/campaigns/new"]`)),
		journeyClick(`a[href$="/campaigns/new"]`),
		chromedp.WaitVisible(chromedp.ID("f-segment")),
		chromedp.SetValue(chromedp.ID("f-segment"), string(model.SegAttended)),
		chromedp.SendKeys(chromedp.ID("f-subject"), "Merci d’être venu·e, {first_name}"),
		chromedp.SendKeys(chromedp.ID("f-body"), "Bonjour {first_name},\n\nMerci d’avoir participé à {event_title}. "+
			"Si vous avez publié sur la session, indiquez-nous le lien ici : [signaler mes publications]({coverage_url})."),
	)
	if opt, _ := chromedp.Run(orga, chromedp.TextContent(chromedp.CSS(`#f-segment option[value="attended"]`))); !strings.HasSuffix(opt, "– 1") {
		t.Fatalf("the attended segment is offered as %q", opt)
	}
	j.step(orga, "14-campaign-preview",
		chromedp.Submit(chromedp.ID("f-subject")),
		chromedp.WaitVisible(chromedp.CSS(`#send form[action$="/send"] button`)),
	)
	j.contains(orga, "#preview", "Essowè Pali", "Merci d’être venu·e, Essowè")
	j.step(orga, "15-campaign-sent",
		journeyClick(`#send form[action$="/send"] button`),
		chromedp.WaitVisible(chromedp.ID("campaign-progress")),
	)
	j.contains(orga, ".flash.ok", "Relance en cours d’envoi")
	if got := j.text(orga, `#campaign-progress [data-count="recipients"]`); got != "1" {
		t.Fatalf("campaign recipients on the page: %q", got)
	}
	camps, err := e.app.Store.ListCampaigns(bg, eventID)
	if err != nil || len(camps) != 1 || camps[0].Status != model.CampaignSent || camps[0].Segment != model.SegAttended {
		t.Fatalf("campaigns in the database: %+v %v", camps, err)
	}

	// The worker delivers the follow-up (with the confirmation and waitlist emails).
	delivered = j.deliver(smtp, sender)
	followUp := journeyFind(t, delivered, essowe.Email, "Merci d’être venu·e, Essowè")
	for _, m := range delivered {
		if strings.Contains(m.Subject, "Merci d’être venu") && m.To[0] != essowe.Email {
			t.Fatalf("the follow-up went to %v, who did not come", m.To)
		}
	}
	coverage := journeyCoverageRe.FindString(followUp.Text)
	if !strings.HasPrefix(coverage, base+"/t/"+first.ManageToken) {
		t.Fatalf("no coverage link in the follow-up: %q\n%s", coverage, followUp.Text)
	}
	j.step(orga, "16-campaign-delivered",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("campaign-progress")),
	)
	if got := j.text(orga, `#campaign-progress [data-count="sent"]`); got != "1" {
		t.Fatalf("campaign sent count on the page: %q", got)
	}

	// 8. Essowè follows the link of the email and sends the link of her article.
	article := "https://essowe.example.tg/2017/journee-des-blogueurs"
	j.step(essoweCtx, "17-coverage-form",
		chromedp.Navigate(coverage),
		chromedp.WaitVisible(chromedp.ID("couverture")),
		chromedp.ScrollIntoView(chromedp.ID("f-links")),
		chromedp.SendKeys(chromedp.ID("f-links"), article),
		chromedp.SendKeys(chromedp.ID("f-reach"), "2 500"),
	)
	j.step(essoweCtx, "18-coverage-sent",
		journeyClick(`#couverture button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS(`#couverture .flash.ok`)),
	)
	j.contains(essoweCtx, "#couverture", "1 lien enregistré", article)
	items, err := e.app.Store.ListCoverage(bg, store.CoverageFilter{EventID: eventID})
	if err != nil || len(items) != 1 || items[0].URL != article || items[0].ContactID != essowe.ID || items[0].Reach != 2500 {
		t.Fatalf("coverage in the database: %+v %v", items, err)
	}

	// 9. The organizer's report shows it.
	j.step(orga, "19-report",
		chromedp.Navigate(admin),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/report"]`)),
		journeyClick(`a[href$="/report"]`),
		chromedp.WaitVisible(chromedp.ID("report-coverage")),
	)
	j.contains(orga, "#report-coverage", "Essowè Pali", "Le blog d’Essowè", article)
	// The key figures tell the same story: one came, one seat for one confirmed, one
	// publication and its declared audience.
	for id, want := range map[string]string{"fig-admitted": "1", "fig-rate": "100\u00a0%", "fig-no-shows": "0",
		"fig-items": "1", "fig-reach": "2\u202f500", "total-reach": "2\u202f500"} {
		if got := j.text(orga, "#"+id); got != want {
			t.Fatalf("report: #%s is %q, want %q", id, got, want)
		}
	}
	t.Logf("journey done in %d ms", time.Since(j.start).Milliseconds())
}
