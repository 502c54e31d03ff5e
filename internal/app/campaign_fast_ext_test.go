package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// TestCampaignQueuedIsWhatThePreviewShows sends a campaign to attendees with plain and
// unusual names (most messages are written from the campaign's one rendering, the others
// rendered one by one): every queued message is the preview of its recipient, and no
// name formats or injects anything.
func TestCampaignQueuedIsWhatThePreviewShows(t *testing.T) {
	names := [][2]string{{"Ama", "Mensah"}, {"Jean-Pierre", "O'Brien"}, {"<b>x</b>", "**y**"}, {"", "Kofi"},
		{"Zoë", "d’Almeida"}, {"1. Ama", "2"}, {"Invité", "17"}, {"Kofi K. Annan", "Test"}, {"www.evil.com", "&amp;"}}
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			ev := campEvent(t, a, clk.Now().Add(-24*time.Hour))
			err := a.Store.Tx(ctx, func(tx *store.Store) error {
				for i := range 60 {
					n := names[i%len(names)]
					c := &model.Contact{Email: fmt.Sprintf("p%03d@example.tg", i), FirstName: n[0], LastName: n[1],
						Lang: []string{"fr", "en"}[i%2], UnsubscribeToken: app.NewToken()}
					if err := tx.CreateContact(ctx, c); err != nil {
						return err
					}
					at := ev.StartsAt
					r := &model.Registration{EventID: ev.ID, ContactID: c.ID, Status: model.RegConfirmed, Source: model.SourceOnline,
						Lang: c.Lang, Answers: "{}", TicketCode: app.NewToken(), Reference: fmt.Sprintf("Q%05d", i),
						ManageToken: app.NewToken(), ConfirmedAt: &at, CheckedInAt: &at}
					if err := tx.CreateRegistration(ctx, r); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			camp, err := a.CreateCampaign(ctx, app.Actor{Name: "test"}, ev.ID, app.CampaignInput{Segment: model.SegAttended,
				Subject: "Merci {first_name} !", Body: "Bonjour {first_name} {last_name},\n\nMerci d’être venu·e à **{event_title}** ({event_date}).\n\n" +
					"Votre billet : {ticket_url}. Vos publications : [signaler un lien]({coverage_url}). Contact presse : {press_contact}."})
			if err != nil {
				t.Fatal(err)
			}
			if p, err := a.SendCampaign(ctx, app.Actor{Name: "test"}, camp.ID); err != nil || p.Recipients != 60 {
				t.Fatalf("send: %+v %v", p, err)
			}
			c, err := a.Store.FindCampaign(ctx, camp.ID)
			if err != nil {
				t.Fatal(err)
			}
			list, _, err := a.Store.ListMessages(ctx, store.MessageFilter{EventID: &ev.ID})
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, l := range list {
				if l.CampaignID == nil {
					continue
				}
				m, err := a.Store.FindMessage(ctx, l.ID)
				if err != nil {
					t.Fatal(err)
				}
				p, err := a.PreviewCampaign(ctx, c, *m.ContactID)
				if err != nil {
					t.Fatal(err)
				}
				if m.Subject != p.Subject || m.HTMLBody != p.HTML || m.TextBody != p.Text {
					t.Errorf("%s: queued message differs from its preview:\nsubject %q\n   want %q\ntext %q\nwant %q",
						m.ToEmail, m.Subject, p.Subject, m.TextBody, p.Text)
				}
				if !strings.Contains(m.Headers, "List-Unsubscribe: <https://relais.example.tg/u/") || m.Lang != p.Lang {
					t.Errorf("%s: headers %q, lang %s (preview %s)", m.ToEmail, m.Headers, m.Lang, p.Lang)
				}
				low := strings.ToLower(m.HTMLBody)
				if strings.Contains(low, "<b>x</b>") || strings.Contains(low, "<strong>y</strong>") || strings.Contains(low, "<ol") {
					t.Errorf("%s: a name formats the HTML:\n%s", m.ToEmail, m.HTMLBody)
				}
				checked++
			}
			if checked != 60 {
				t.Fatalf("checked %d campaign messages, want 60", checked)
			}
		})
	}
}
