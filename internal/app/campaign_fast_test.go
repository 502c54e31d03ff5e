package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"relais/internal/config"
	"relais/internal/i18n"
	"relais/internal/mail"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
	"relais/templates"
)

// campFastApp is an App on a fresh SQLite database with the real templates, and an event.
func campFastApp(t testing.TB) (*App, *model.Event) {
	t.Helper()
	st := storetest.Open(t, "sqlite")
	cfg := config.Defaults()
	cfg.BaseURL = "https://relais.example.tg"
	cfg.SecretKey = strings.Repeat("k", 32)
	a := New(st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	if a.Mail, err = mail.NewRenderer(templates.FS, b); err != nil {
		t.Fatal(err)
	}
	a.I18n = b
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	ev := &model.Event{Title: "Les blogueurs & la <fibre>", StartsAt: start, EndsAt: start.Add(3 * time.Hour),
		Timezone: "Africa/Lome", RegistrationMode: model.ModeOpen, Status: model.EventPublished,
		VenueName: "Ministère", VenueAddress: "Lomé", PressContactName: "Afi Amouzou", PressContactEmail: "presse@example.tg"}
	if err := a.SaveEvent(context.Background(), Actor{Name: "test"}, ev); err != nil {
		t.Fatal(err)
	}
	return a, ev
}

// campFastRecipients are recipients with plain and unusual names, each kind of link and
// both languages.
func campFastRecipients() []store.CampaignRecipient {
	names := [][2]string{{"Ama", "Mensah"}, {"Invité", "0"}, {"12", "345"}, {"Jean-Pierre", "O'Brien"}, {"Zoë", "d’Almeida"}, {"Kofi K. Annan", "Test"},
		{"José", "Nuñez"}, {"Ama", "Mensah2"}, {"www.evil.com", "x"}, {"<script>alert(1)</script>", "x"},
		{"**x**", "_y_"}, {"[ama]", "Mensah"}, {"1. Ama", "B"}, {"amp", "lt"}, {"Ama  Kofi", "B"}, {" Ama", "B "},
		{"", "Mensah"}, {"Ama", ""}, {"Ama\nBcc: x@example.org", "B"}, {"Ama.Kofi", "B"}, {"Ama K.", "B"},
		{"A&B", "C"}, {"`x`", "y"}, {"Ama", "Mensah_"}, {"Aḿa", "Ko\u0301fi"}, {"李", "小龙"}}
	tokens := []string{"AbCdEf012345-xyz", "Ab_cd-9", "plain09", "x_Y_z", NewToken(), NewToken(), "_Ab", "Ab_", "a-_b", "ab-"}
	var out []store.CampaignRecipient
	for i, n := range names {
		for j, link := range []byte{'t', 'i', 'e'} {
			lang := []string{"fr", "en"}[(i+j)%2]
			tok := tokens[(i+j)%len(tokens)]
			r := store.CampaignRecipient{ContactID: int64(100*i + j + 1), Email: fmt.Sprintf("r%d-%d@example.tg", i, j),
				FirstName: n[0], LastName: n[1], ContactLang: lang, UnsubscribeToken: tokens[(i+2*j+1)%6]}
			switch link {
			case 't':
				r.ManageToken = &tok
			case 'i':
				r.InvitationToken = &tok
			}
			out = append(out, r)
		}
	}
	return out
}

// campFastBodies are bodies with placeholders in every kind of place.
var campFastBodies = []string{
	"Bonjour {first_name},\n\nMerci pour votre inscription à **{event_title}**.",
	demoFollowUpBody,
	"Bonjour {first_name} {last_name},\n\nVotre billet : {ticket_url}\nVos liens : [signaler]({coverage_url}).",
	"# {first_name}\n\n_{first_name}_ *{last_name}* ~~{first_name}~~ « {first_name} » ({last_name}) \"{first_name}\"\n\n- {first_name}\n- {ticket_url}",
	"| Nom | Lien |\n|---|---|\n| {first_name} | {ticket_url} |\n\n> {last_name}: merci !",
	"Code : `{first_name}`\n\n```\n{first_name} {ticket_url}\n```\n\n    {last_name}",
	"&{first_name}; &#x{last_name}; www.{first_name}.com {first_name}.example.com http://x.example.com/{first_name}",
	"[{first_name}]\n\n[ama]: https://example.com\n\n<{ticket_url}> {first_name}{last_name}",
	"[{first_name}]({ticket_url} \"{last_name}\") ![{first_name}]({coverage_url})",
	"{ticket_url}. {coverage_url}: {first_name}? {last_name}!\n{first_name}\n===",
	"{last_name}. {first_name}) merci\n\n> {last_name}. x\n\n- {first_name}. y\n\n1. {last_name}. z",
	"[lien]({first_name}) et ({last_name}) [billet]({ticket_url}).",
	"Sans placeholder du destinataire : {event_title}, {event_date}, {press_contact}.",
}

var campFastSubjects = []string{"Merci {first_name}", "", "{first_name} {last_name} – {event_title}", "  Merci   {last_name}  "}

// TestCampaignFastWritesWhatRenderingWrites writes every recipient's message of many
// campaigns both from the markers and the ordinary way: they must be identical, and the
// plain recipients of the plain bodies must have taken the fast way.
func TestCampaignFastWritesWhatRenderingWrites(t *testing.T) {
	a, ev := campFastApp(t)
	ctx := context.Background()
	for bi, body := range campFastBodies {
		for si, subject := range campFastSubjects {
			c := &model.Campaign{ID: int64(1 + bi*10 + si), EventID: ev.ID, Segment: model.SegRegistered, Subject: subject, Body: body}
			w := a.newCampaignWriter(c, ev, &model.Settings{Name: "Relais", PressContactEmail: "presse@example.tg"}, nil, nil)
			w.checkEvery = 0 // compare every message here
			w.shared = true
			fast := 0
			for _, r := range campFastRecipients() {
				got, err := w.fastMessage(ctx, &r)
				if err != nil {
					t.Fatal(err)
				}
				if got == nil {
					continue
				}
				got = campFastWrittenOut(t, got)
				fast++
				want, err := w.slowMessage(ctx, &r)
				if err != nil {
					t.Fatal(err)
				}
				if !campFastSame(got, want) {
					t.Errorf("body %d, subject %q, %q %q: written from markers differs:\nsubject %q\n   want %q\nhtml %s\nwant %s\ntext %q\nwant %q\nheaders %q\n   want %q",
						bi, subject, r.FirstName, r.LastName, got.Subject, want.Subject, campFastBodyOf(got.HTMLBody), campFastBodyOf(want.HTMLBody),
						got.TextBody, want.TextBody, got.Headers, want.Headers)
				}
			}
			plain := bi < 5 || bi == len(campFastBodies)-1
			if plain && fast == 0 {
				t.Errorf("body %d, subject %q: no message written from markers", bi, subject)
			}
			t.Logf("body %d, subject %q: %d messages written from markers", bi, subject, fast)
		}
	}
}

// campFastBodyOf is the part of an email's HTML that holds the campaign's body.
func campFastBodyOf(html string) string {
	if i := strings.Index(html, `<div style="margin:0 0 16px;">`); i >= 0 {
		html = html[i:]
		if j := strings.Index(html, "</div>"); j >= 0 {
			return html[:j]
		}
	}
	return html
}

// TestCampaignFastValuesStayPlain checks which names and tokens go in as they are.
func TestCampaignFastValuesStayPlain(t *testing.T) {
	for _, ok := range []string{"Ama", "Jean-Pierre", "O'Brien", "d’Almeida", "Kofi K. Annan", "Zoë", "Ko\u0301fi", "李", "Ama2"} {
		if !campFastNameOK(ok, false) {
			t.Errorf("%q refused", ok)
		}
	}
	if campFastNameOK("2Ama", false) || !campFastNameOK("2Ama", true) || !campFastNameOK("0", true) {
		t.Errorf("a name starting with a digit goes in only when no placeholder begins a line")
	}
	for _, bad := range []string{"", " Ama", "Ama ", "Ama  K", "-Ama", "Ama-", "Ama.", "Ama.Kofi", "www.x.com", "A&B",
		"<b>", "**x**", "_x_", "Ama\nB", "Ama\tB", "[x]", "a:b", "a@b", "a;b", "a\u00a0b", "\u0301a"} {
		if campFastNameOK(bad, true) {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, ok := range []string{"abc", "Ab_c-9", "-ab", "_Ab", "A_b_c", "a-_b9"} {
		if !campFastTokenOK(ok, true) || !campFastTokenOK(ok+"_", false) {
			t.Errorf("token %q refused", ok)
		}
	}
	for _, bad := range []string{"", "ab_", "ab-", "a b", "a/b", "a.b", "é", "a%20"} {
		if campFastTokenOK(bad, true) {
			t.Errorf("token %q accepted", bad)
		}
	}
}

// FuzzCampaignFast compares the message written from markers with the rendered one for
// any body and name.
func FuzzCampaignFast(f *testing.F) {
	for _, b := range campFastBodies {
		f.Add(b, "Merci {first_name}", "Jean-Pierre", "O'Brien", "Ab_c-9")
	}
	a, ev := campFastApp(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body, subject, first, last, tok string) {
		c := &model.Campaign{ID: 1, EventID: ev.ID, Segment: model.SegRegistered, Subject: subject, Body: body}
		if len(UnknownPlaceholders(body)) > 0 || len(UnknownPlaceholders(subject)) > 0 {
			return
		}
		w := a.newCampaignWriter(c, ev, &model.Settings{Name: "Relais"}, nil, nil)
		w.checkEvery = 0
		w.shared = true
		r := store.CampaignRecipient{ContactID: 7, Email: "ama@example.tg", FirstName: first, LastName: last,
			UnsubscribeToken: "Ab_c-9", ManageToken: &tok}
		got, err := w.fastMessage(ctx, &r)
		if err != nil || got == nil {
			return
		}
		got = campFastWrittenOut(t, got)
		want, err := w.slowMessage(ctx, &r)
		if err != nil {
			t.Fatal(err)
		}
		if !campFastSame(got, want) {
			t.Fatalf("written from markers differs:\nsubject %q\n   want %q\nhtml %s\nwant %s\ntext %q\nwant %q",
				got.Subject, want.Subject, campFastBodyOf(got.HTMLBody), campFastBodyOf(want.HTMLBody), got.TextBody, want.TextBody)
		}
	})
}

// campFastWrittenOut is m, written from its variant's stored bodies, with them written
// out as a message carrying its own.
func campFastWrittenOut(t *testing.T, m *model.Message) *model.Message {
	t.Helper()
	if m.BodyTemplate == nil || m.BodyTemplate.ID == 0 || m.HTMLBody != "" || m.TextBody != "" {
		t.Fatalf("message written from markers without its variant's stored bodies: template %+v", m.BodyTemplate)
	}
	out := *m
	var err error
	if out.HTMLBody, out.TextBody, err = m.Bodies(); err != nil {
		t.Fatal(err)
	}
	out.BodyTemplate, out.BodyValues = nil, nil
	return &out
}
