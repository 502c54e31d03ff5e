package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/i18n"
	"relais/internal/mail"
	"relais/internal/mail/mailtest"
	"relais/internal/model"
	"relais/internal/store/storetest"
	"relais/internal/ticket"
	"relais/templates"
)

// The registration emails, end to end: app → outbox → worker → a real SMTP server →
// the MIME message a blogger's mail client would read.

// rmEnv is an App whose outbox is delivered by a real worker to an in-process SMTP server.
type rmEnv struct {
	a    *app.App
	srv  *mailtest.Server
	w    *mail.Worker
	seen int // messages of srv already returned by deliver
}

func newRMEnv(t *testing.T, driver string) *rmEnv {
	t.Helper()
	st := storetest.Open(t, driver)
	cfg := config.Defaults()
	cfg.PasswordMemoryKiB = 1024 // argon2id at its lowest cost: tests hash many passwords
	cfg.SecretKey = strings.Repeat("k", 32)
	cfg.BaseURL = "https://relais.example.tg"
	a := app.New(st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	r, err := mail.NewRenderer(templates.FS, b)
	if err != nil {
		t.Fatal(err)
	}
	a.Mail, a.I18n = r, b
	srv := mailtest.Start(t)
	s, err := mail.NewSender(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w := mail.NewWorker(st, s, mail.WorkerOptions{Backoff: func(int) time.Duration { return 0 }})
	return &rmEnv{a: a, srv: srv, w: w}
}

// event creates a published event in a month, with a venue and a press contact.
func (e *rmEnv) event(t *testing.T, capacity int, mode model.RegistrationMode) *model.Event {
	t.Helper()
	start := time.Now().UTC().Truncate(time.Hour).Add(30 * 24 * time.Hour)
	ev := &model.Event{Title: "Journée des blogueurs et des télécoms", Summary: "Rencontre avec les blogueurs.",
		VenueName: "Maison de la presse", VenueAddress: "Boulevard du 13 Janvier, Lomé",
		StartsAt: start, EndsAt: start.Add(3 * time.Hour), Timezone: "Africa/Lome", Capacity: capacity,
		RegistrationMode: mode, Status: model.EventPublished,
		PressContactName: "Afi Amouzou", PressContactEmail: "presse@example.tg", PressContactPhone: "+228 90 00 00 00"}
	if err := e.a.SaveEvent(context.Background(), app.Actor{Name: "test"}, ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func (e *rmEnv) register(t *testing.T, ev *model.Event, first, last, email, lang string) *app.RegisterResult {
	t.Helper()
	res, err := e.a.Register(context.Background(), ev.ID, app.RegistrationInput{
		ContactInput: app.ContactInput{FirstName: first, LastName: last, Email: email}, Consent: true, Lang: lang})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return res
}

// deliver runs the worker until the outbox is drained and returns the messages the SMTP
// server received since the last call, parsed.
func (e *rmEnv) deliver(t *testing.T) []rmMail {
	t.Helper()
	for range 10 {
		n, err := e.w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	raw := e.srv.Messages()
	var out []rmMail
	for _, m := range raw[e.seen:] {
		out = append(out, rmParse(t, m))
	}
	e.seen = len(raw)
	return out
}

// rmMail is a received email: its envelope-level headers and its parts, decoded.
type rmMail struct {
	To      []string
	Subject string
	Text    string // the text/plain body
	HTML    string // the text/html body
	Files   []rmPart
	Raw     []byte
}

// rmPart is a non-body leaf: an inline image or an attachment.
type rmPart struct {
	Type        string // media type, without parameters
	ContentID   string
	Disposition string // inline or attachment
	Filename    string
	Body        []byte
}

func (m rmMail) file(mediaType string) []rmPart {
	var out []rmPart
	for _, p := range m.Files {
		if p.Type == mediaType {
			out = append(out, p)
		}
	}
	return out
}

func rmParse(t *testing.T, raw []byte) rmMail {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	out := rmMail{Raw: raw}
	to, err := msg.Header.AddressList("To")
	if err != nil {
		t.Fatalf("To: %v", err)
	}
	for _, a := range to {
		out.To = append(out.To, a.Address)
	}
	if out.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("Subject: %v", err)
	}
	var walk func(h textproto.MIMEHeader, body io.Reader)
	walk = func(h textproto.MIMEHeader, body io.Reader) {
		ct := h.Get("Content-Type")
		if ct == "" {
			ct = "text/plain"
		}
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("content type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("multipart: %v", err)
				}
				walk(p.Header, p)
			}
		}
		var r io.Reader = body
		switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read part %s: %v", mt, err)
		}
		disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
		switch {
		case mt == "text/plain" && disp == "" && out.Text == "":
			out.Text = string(b)
		case mt == "text/html" && disp == "" && out.HTML == "":
			out.HTML = string(b)
		default:
			out.Files = append(out.Files, rmPart{Type: mt, ContentID: h.Get("Content-ID"), Disposition: disp,
				Filename: dparams["filename"], Body: b})
		}
	}
	walk(textproto.MIMEHeader(msg.Header), msg.Body)
	if out.Text == "" || out.HTML == "" {
		t.Fatalf("message without both a text and an HTML part:\n%s", raw)
	}
	return out
}

// rmOnly returns the single message of mails sent to addr, failing when there are none
// or several.
func rmOnly(t *testing.T, mails []rmMail, addr string) rmMail {
	t.Helper()
	var found []rmMail
	for _, m := range mails {
		if len(m.To) == 1 && m.To[0] == addr {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		var subjects []string
		for _, m := range mails {
			subjects = append(subjects, strings.Join(m.To, ",")+": "+m.Subject)
		}
		t.Fatalf("%d messages to %s; received %q", len(found), addr, subjects)
	}
	return found[0]
}

// rmContains fails unless every part of m (subject, text, HTML) contains what it should.
func rmContains(t *testing.T, m rmMail, subject []string, body ...string) {
	t.Helper()
	for _, s := range subject {
		if !strings.Contains(m.Subject, s) {
			t.Errorf("subject %q lacks %q", m.Subject, s)
		}
	}
	for _, s := range body {
		if !strings.Contains(m.Text, s) {
			t.Errorf("text part lacks %q:\n%s", s, m.Text)
		}
		if !strings.Contains(m.HTML, s) {
			t.Errorf("HTML part lacks %q:\n%s", s, m.HTML)
		}
	}
}

// rmTicket checks the ticket a seat-giving email carries: the QR code inline (the
// registration's own code, referenced by the HTML) and a valid calendar file.
func rmTicket(t *testing.T, m rmMail, ev *model.Event, r *model.Registration) {
	t.Helper()
	if !strings.Contains(m.HTML, `src="cid:qr@relais"`) {
		t.Errorf("the HTML does not show the inline QR code:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, ticket.FormatReference(r.Reference)) || !strings.Contains(m.HTML, ticket.FormatReference(r.Reference)) {
		t.Errorf("reference %s missing", ticket.FormatReference(r.Reference))
	}
	pngs := m.file("image/png")
	if len(pngs) != 1 {
		t.Fatalf("%d PNG parts, want the QR code", len(pngs))
	}
	qr := pngs[0]
	if qr.ContentID != "<qr@relais>" || qr.Disposition != "inline" {
		t.Errorf("QR part: Content-ID %q, disposition %q", qr.ContentID, qr.Disposition)
	}
	if code, err := ticket.DecodeQR(bytes.NewReader(qr.Body)); err != nil || code != r.TicketCode {
		t.Errorf("QR code reads %q (%v), want the ticket code", code, err)
	}
	cals := m.file("text/calendar")
	if len(cals) != 1 {
		t.Fatalf("%d calendar parts, want one", len(cals))
	}
	if cals[0].Disposition != "attachment" || !strings.HasSuffix(cals[0].Filename, ".ics") {
		t.Errorf("calendar part: disposition %q, file name %q", cals[0].Disposition, cals[0].Filename)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(cals[0].Body))
	if err != nil {
		t.Fatalf("the .ics does not parse: %v\n%s", err, cals[0].Body)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events in the .ics", len(events))
	}
	if p := events[0].GetProperty(ics.ComponentPropertySummary); p == nil || p.Value != ev.Title {
		t.Errorf("the .ics summary is %+v, want %q", p, ev.Title)
	}
	if start, err := events[0].GetStartAt(); err != nil || !start.Equal(ev.StartsAt) {
		t.Errorf("the .ics starts at %v (%v), want %v", start, err, ev.StartsAt)
	}
}

// rmNoTicket checks that an email carries no QR code and no attachment.
func rmNoTicket(t *testing.T, m rmMail) {
	t.Helper()
	if len(m.Files) != 0 || strings.Contains(m.HTML, "cid:") {
		t.Errorf("unexpected ticket in %q: %d files", m.Subject, len(m.Files))
	}
}

func TestRegistrationEmailsReachTheRegistrants(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			e := newRMEnv(t, driver)
			ev := e.event(t, 1, model.ModeOpen)
			when := i18n.Range(ev.StartsAt, ev.EndsAt, ev.Location(), "fr")
			whenEN := i18n.Range(ev.StartsAt, ev.EndsAt, ev.Location(), "en")

			// The first registrant, in French, takes the only seat.
			ama := e.register(t, ev, "Ama", "Mensah", "ama@example.tg", "fr").Registration
			if ama.Status != model.RegConfirmed {
				t.Fatalf("first registration: %s", ama.Status)
			}
			mails := e.deliver(t)
			if len(mails) != 1 {
				t.Fatalf("%d messages after the first registration", len(mails))
			}
			m := rmOnly(t, mails, "ama@example.tg")
			rmContains(t, m, []string{"confirmée", ev.Title},
				"Bonjour Ama", "Votre inscription est confirmée", ev.Title, when, "Maison de la presse",
				e.a.TicketURL(ama), "Afi Amouzou", "presse@example.tg", ".ics")
			if !strings.Contains(m.HTML, `<html lang="fr">`) || strings.Contains(m.Text, "Hello") {
				t.Error("the confirmation is not in French")
			}
			rmTicket(t, m, ev, ama)

			// The second, in English, goes to the waiting list.
			kofi := e.register(t, ev, "Kofi", "Asante", "kofi@example.tg", "en").Registration
			if kofi.Status != model.RegWaitlisted {
				t.Fatalf("second registration: %s", kofi.Status)
			}
			mails = e.deliver(t)
			if len(mails) != 1 {
				t.Fatalf("%d messages after the second registration", len(mails))
			}
			m = rmOnly(t, mails, "kofi@example.tg")
			rmContains(t, m, []string{"waiting list", ev.Title},
				"Hello Kofi", "waiting list", whenEN, "Maison de la presse", e.a.TicketURL(kofi), "Afi Amouzou")
			if !strings.Contains(m.HTML, `<html lang="en">`) || strings.Contains(m.Text, "Bonjour") {
				t.Error("the waitlist email is not in English")
			}
			if strings.Contains(m.Text, ticket.FormatReference(kofi.Reference)) {
				t.Error("the waitlist email gives a reference to show at the door")
			}
			rmNoTicket(t, m)

			// Ama cancels: she is told, and Kofi gets her seat and his ticket.
			if _, err := e.a.CancelRegistration(ctx, app.Actor{Name: "test"}, ama.ID); err != nil {
				t.Fatal(err)
			}
			mails = e.deliver(t)
			if len(mails) != 2 {
				t.Fatalf("%d messages after the cancellation, want 2", len(mails))
			}
			m = rmOnly(t, mails, "ama@example.tg")
			rmContains(t, m, []string{"annulée", ev.Title}, "Bonjour Ama", "annulation", ev.Title, when,
				e.a.TicketURL(ama), "/e/"+ev.Slug)
			rmNoTicket(t, m)
			m = rmOnly(t, mails, "kofi@example.tg")
			rmContains(t, m, []string{"seat", ev.Title}, "Hello Kofi", "a seat has freed up", "confirmed", whenEN,
				e.a.TicketURL(kofi))
			if strings.Contains(m.Text, "Bonjour") {
				t.Error("the promotion email is not in English")
			}
			promoted, err := e.a.Store.FindRegistration(ctx, kofi.ID)
			if err != nil || promoted.Status != model.RegConfirmed {
				t.Fatalf("Kofi after the cancellation: %+v %v", promoted, err)
			}
			rmTicket(t, m, ev, promoted)
			if again := e.deliver(t); len(again) != 0 {
				t.Fatalf("%d more messages: each email must go once", len(again))
			}

			// Kofi registers again with the same address: nothing new, a reminder of his link.
			res := e.register(t, ev, "Kofi", "Asante", "kofi@example.tg", "en")
			if !res.Duplicate || res.Registration.ID != kofi.ID {
				t.Fatalf("second registration with the same address: %+v", res)
			}
			counts, err := e.a.Store.CountRegistrations(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if counts[model.RegConfirmed] != 1 || counts[model.RegCancelled] != 1 || len(counts) != 2 {
				t.Fatalf("registrations after the duplicate: %v", counts)
			}
			mails = e.deliver(t)
			if len(mails) != 1 {
				t.Fatalf("%d messages after the duplicate", len(mails))
			}
			m = rmOnly(t, mails, "kofi@example.tg")
			rmContains(t, m, []string{"link to your registration", ev.Title}, "Hello Kofi", "already registered",
				e.a.TicketURL(kofi))
			rmNoTicket(t, m)
			if strings.Contains(m.Text+m.HTML, ticket.FormatReference(kofi.Reference)) {
				t.Error("the duplicate email gives the reference")
			}
		})
	}
}

func TestApprovalAndRejectionEmails(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			e := newRMEnv(t, driver)
			ev := e.event(t, 10, model.ModeApproval)
			actor := app.Actor{Name: "organizer"}

			yawa := e.register(t, ev, "Yawa", "Kpodar", "yawa@example.tg", "fr").Registration
			if yawa.Status != model.RegPending {
				t.Fatalf("registration in approval mode: %s", yawa.Status)
			}
			mails := e.deliver(t)
			if len(mails) != 1 {
				t.Fatalf("%d messages after the request", len(mails))
			}
			m := rmOnly(t, mails, "yawa@example.tg")
			rmContains(t, m, []string{"reçue", ev.Title}, "Bonjour Yawa", "validées par l’équipe organisatrice",
				ev.Title, e.a.TicketURL(yawa))
			rmNoTicket(t, m)

			if _, err := e.a.ApproveRegistration(ctx, actor, yawa.ID, false); err != nil {
				t.Fatal(err)
			}
			mails = e.deliver(t)
			if len(mails) != 1 {
				t.Fatalf("%d messages after the approval", len(mails))
			}
			m = rmOnly(t, mails, "yawa@example.tg")
			rmContains(t, m, []string{"confirmée", ev.Title}, "Bonjour Yawa", "Votre inscription est confirmée")
			approved, err := e.a.Store.FindRegistration(ctx, yawa.ID)
			if err != nil {
				t.Fatal(err)
			}
			rmTicket(t, m, ev, approved)

			// A refusal in English, with a reason that must reach the person intact and
			// never as markup.
			reason := "Seats are kept for accredited <bloggers> & journalists."
			ben := e.register(t, ev, "Ben", "Lawson", "ben@example.tg", "en").Registration
			e.deliver(t)
			if _, err := e.a.RejectRegistration(ctx, actor, ben.ID, reason); err != nil {
				t.Fatal(err)
			}
			mails = e.deliver(t)
			if len(mails) != 1 {
				t.Fatalf("%d messages after the refusal", len(mails))
			}
			m = rmOnly(t, mails, "ben@example.tg")
			rmContains(t, m, []string{"registration request", ev.Title}, "Hello Ben", "unable to accept",
				e.a.TicketURL(ben))
			rmNoTicket(t, m)
			if !strings.Contains(m.Text, reason) {
				t.Errorf("the text part lacks the reason:\n%s", m.Text)
			}
			if !strings.Contains(m.HTML, "Seats are kept for accredited &lt;bloggers&gt; &amp; journalists.") || strings.Contains(m.HTML, "<bloggers>") {
				t.Errorf("the HTML part does not show the reason escaped:\n%s", m.HTML)
			}

			// Without a reason, no empty "message from the organizers".
			cleo := e.register(t, ev, "Cléo", "Agbeko", "cleo@example.tg", "fr").Registration
			e.deliver(t)
			if _, err := e.a.RejectRegistration(ctx, actor, cleo.ID, "  "); err != nil {
				t.Fatal(err)
			}
			m = rmOnly(t, e.deliver(t), "cleo@example.tg")
			rmContains(t, m, []string{ev.Title}, "Bonjour Cléo", "n’a pas pu être retenue")
			if strings.Contains(m.Text+m.HTML, "Message de l’équipe organisatrice") {
				t.Error("an empty reason is announced")
			}
		})
	}
}

// rmSample is what registrationEmail and queueEmail give the templates.
func rmSample(kind, lang string) map[string]any {
	lome, _ := time.LoadLocation("Africa/Lome")
	start := time.Date(2027, 5, 17, 9, 0, 0, 0, time.UTC)
	ev := &model.Event{ID: 7, Slug: "journee-telecoms", Title: "Journée mondiale des télécommunications",
		VenueName: "Maison de la presse", VenueAddress: "Lomé", StartsAt: start, EndsAt: start.Add(3 * time.Hour),
		Timezone: "Africa/Lome", Status: model.EventPublished}
	c := &model.Contact{ID: 3, FirstName: "Ama", LastName: "Mensah", Email: "ama@example.tg"}
	r := &model.Registration{ID: 5, EventID: 7, ContactID: 3, Status: model.RegConfirmed, Lang: lang,
		Reference: "ACDEFG", ManageToken: "tok", RejectReason: "Les places sont réservées aux blogueurs accrédités."}
	return map[string]any{
		"Org":          &model.Settings{Name: "Ministère de l’Économie numérique", Address: "Lomé", Website: "https://numerique.example.tg"},
		"BaseURL":      "https://relais.example.tg",
		"PressContact": map[string]string{"Name": "Afi Amouzou", "Email": "presse@example.tg", "Phone": "+228 90 00 00 00"},
		"Event":        ev, "Contact": c, "Name": c.Name(), "FirstName": c.FirstName, "Registration": r,
		"TicketURL": "https://relais.example.tg/t/tok", "EventURL": "https://relais.example.tg/e/journee-telecoms",
		"When": i18n.Range(ev.StartsAt, ev.EndsAt, lome, lang), "Reference": "ACD-EFG",
		"Venue": "Maison de la presse, Lomé", "RejectReason": r.RejectReason,
		"QR": kind == "registration_confirmed" || kind == "registration_promoted",
	}
}

func TestEveryRegistrationEmailRenders(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	r, err := mail.NewRenderer(templates.FS, b)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{"registration_confirmed", "registration_waitlisted", "registration_pending", "registration_rejected",
		"registration_promoted", "registration_cancelled", "registration_already_registered"}
	for _, kind := range kinds {
		subjects := map[string]string{}
		for _, lang := range i18n.Langs {
			t.Run(kind+"/"+lang, func(t *testing.T) {
				data := rmSample(kind, lang)
				subject, html, text, err := r.Render(kind, lang, data)
				if err != nil {
					t.Fatal(err)
				}
				subjects[lang] = subject
				if !strings.Contains(subject, "Journée mondiale des télécommunications") {
					t.Errorf("subject %q does not name the event", subject)
				}
				for part, s := range map[string]string{"subject": subject, "html": html, "text": text} {
					for _, bad := range []string{"mail.", "{{", "}}", "<no value>", "ZgotmplZ", "%!", "<nil>"} {
						if strings.Contains(s, bad) {
							t.Errorf("%s contains %q:\n%s", part, bad, s)
						}
					}
					if lang == "fr" && part != "subject" {
						// French puts a non-breaking space before : ; ! ? (the layout and
						// these catalogues use U+00A0).
						for _, bad := range []string{" :", " ;", " !", " ?"} {
							if strings.Contains(s, bad) {
								t.Errorf("%s: a breaking space before %q", part, bad[1:])
							}
						}
					}
				}
				for _, want := range []string{data["When"].(string), "Maison de la presse, Lomé", "https://relais.example.tg/t/tok", "Afi Amouzou"} {
					if !strings.Contains(html, want) || !strings.Contains(text, want) {
						t.Errorf("%q missing", want)
					}
				}
				hello := map[string]string{"fr": "Bonjour Ama,", "en": "Hello Ama,"}[lang]
				if !strings.Contains(html, hello) || !strings.Contains(text, hello) || !strings.Contains(html, `<html lang="`+lang+`">`) {
					t.Errorf("not in %s", lang)
				}
				for _, bad := range []string{"<link", "<script", "<style", `src="http`, "url("} {
					if strings.Contains(html, bad) {
						t.Errorf("html contains %q", bad)
					}
				}
				qr := strings.Contains(html, `src="cid:qr@relais"`)
				if want := data["QR"].(bool); qr != want {
					t.Errorf("inline QR shown: %v, want %v", qr, want)
				}
				if ref := strings.Contains(text, "ACD-EFG"); ref != data["QR"].(bool) {
					t.Errorf("reference shown: %v", ref)
				}
				if reason := strings.Contains(text, "accrédités"); reason != (kind == "registration_rejected") {
					t.Errorf("reject reason shown: %v", reason)
				}
			})
		}
		if subjects["fr"] == subjects["en"] {
			t.Errorf("%s: the same subject in both languages: %q", kind, subjects["fr"])
		}
	}
	if n := len(r.Kinds()); n < len(kinds) {
		t.Errorf("renderer knows %d kinds", n)
	}
}

// The calendar file is kept per event (every confirmation carries it), and never outlives
// a change of the event: a moved date or a new title reaches the next confirmation.
func TestEventICSFollowsTheEvent(t *testing.T) {
	cfg := config.Defaults()
	cfg.BaseURL = "https://relais.example.tg"
	a := app.New(nil, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Date(2017, 5, 17, 9, 0, 0, 0, time.UTC)
	ev := &model.Event{ID: 7, Slug: "fibre", Title: "Fibre optique", StartsAt: start, EndsAt: start.Add(3 * time.Hour),
		VenueName: "Ministère", UpdatedAt: start.Add(-time.Hour)}
	first, err := a.EventICS(ev)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := a.EventICS(ev)
	if !bytes.Equal(first, again) || &first[0] != &again[0] {
		t.Fatal("the same event's calendar file was not kept")
	}
	moved := *ev
	moved.StartsAt, moved.EndsAt, moved.Title = start.Add(24*time.Hour), start.Add(27*time.Hour), "Fibre optique (reporté)"
	later, _ := a.EventICS(&moved)
	for _, want := range []string{"DTSTART:20170518T090000Z", "reporté"} {
		if !strings.Contains(string(later), want) {
			t.Errorf("calendar file after the change lacks %q:\n%s", want, later)
		}
	}
	if back, _ := a.EventICS(ev); !bytes.Equal(back, first) {
		t.Error("the event as it was gave another calendar file")
	}
}
