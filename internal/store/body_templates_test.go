package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/migrations"
	"relais/internal/store/storetest"
)

// sharedBody is a campaign's body as the campaign writer stores it once: the first name
// as is, the last name HTML-escaped, and a literal \x01 in the text.
func sharedBody() *model.BodyTemplate {
	var html, text model.BodyWriter
	html.Literal("<p>Bonjour ")
	html.Slot(0, false)
	html.Literal(" ")
	html.Slot(1, true)
	html.Literal(",</p>")
	text.Literal("Bonjour ")
	text.Slot(0, false)
	text.Literal(" \x01 ")
	text.Slot(1, false)
	return &model.BodyTemplate{HTMLBody: html.String(), TextBody: text.String()}
}

// withSharedBody opens a store holding sharedBody.
func withSharedBody(t *testing.T, driver string) (*store.Store, *model.BodyTemplate) {
	t.Helper()
	s := storetest.Open(t, driver)
	withClock(s)
	tmpl := sharedBody()
	if err := s.CreateBodyTemplate(context.Background(), tmpl); err != nil || tmpl.ID == 0 {
		t.Fatal(tmpl.ID, err)
	}
	return s, tmpl
}

// Messages sharing a body template are stored with their values only, and read back
// written out, one at a time or several at once, whichever way they were queued.
func TestSharedBodiesAreReadWrittenOut(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s, tmpl := withSharedBody(t, driver)
			ama, kossi, own, single := campFastCampaignMessage(1), campFastCampaignMessage(2), campFastCampaignMessage(3), campFastCampaignMessage(4)
			ama.BodyTemplate, ama.BodyValues, ama.Subject = tmpl, []string{"Ama", "D'Almeida"}, "Merci Ama"
			kossi.BodyTemplate, kossi.BodyValues = tmpl, []string{"Kossi", "Agbo"}
			single.BodyTemplate, single.BodyValues = tmpl, []string{"Afi", "<b>"}
			for _, m := range []*model.Message{ama, kossi, single} {
				m.HTMLBody, m.TextBody = "", ""
			}
			own.HTMLBody, own.TextBody = "<p>Le sien</p>", "Le sien"
			if _, err := s.EnqueueMessages(ctx, []*model.Message{ama, kossi, own}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.EnqueueMessage(ctx, single); err != nil {
				t.Fatal(err)
			}
			want := map[int64][2]string{
				ama.ID:    {"<p>Bonjour Ama D&#39;Almeida,</p>", "Bonjour Ama \x01 D'Almeida"},
				kossi.ID:  {"<p>Bonjour Kossi Agbo,</p>", "Bonjour Kossi \x01 Agbo"},
				own.ID:    {"<p>Le sien</p>", "Le sien"},
				single.ID: {"<p>Bonjour Afi &lt;b&gt;,</p>", "Bonjour Afi \x01 <b>"},
			}
			// Stored once: the rows of the messages hold no body of their own.
			var stored int64
			if err := s.DB().Raw("SELECT COUNT(*) FROM message_bodies WHERE template_id IS NOT NULL AND html_body = '' AND text_body = ''").
				Scan(&stored).Error; err != nil || stored != 3 {
				t.Fatalf("%d messages stored with the template, want 3 (%v)", stored, err)
			}
			for id, w := range want {
				m, err := s.FindMessage(ctx, id)
				if err != nil || m.HTMLBody != w[0] || m.TextBody != w[1] {
					t.Fatalf("message %d: %q %q (%v), want %q %q", id, m.HTMLBody, m.TextBody, err, w[0], w[1])
				}
			}
			claimed, err := s.ClaimMessages(ctx, 10, time.Minute)
			if err != nil || len(claimed) != 4 {
				t.Fatalf("claimed %d, %v", len(claimed), err)
			}
			marker := s.SentMarker()
			defer marker.Close()
			batch := make([]*model.Message, len(claimed))
			for i := range claimed {
				batch[i] = &claimed[i]
			}
			for range 2 { // the second time, with the template already read
				if bad, err := marker.LoadBodies(ctx, batch); err != nil || len(bad) != 0 {
					t.Fatal(bad, err)
				}
				for _, m := range batch {
					if w := want[m.ID]; m.HTMLBody != w[0] || m.TextBody != w[1] || m.BodyTemplate != nil {
						t.Fatalf("message %d read with others: %q %q, want %q %q", m.ID, m.HTMLBody, m.TextBody, w[0], w[1])
					}
				}
			}

			// Erasing the contact erases its values with its bodies, and the subject.
			c := &model.Contact{Email: "ama@example.tg", FirstName: "Ama", LastName: "D'Almeida", Lang: "fr"}
			if err := s.CreateContact(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := s.DB().Exec("UPDATE messages SET contact_id = ? WHERE id = ?", c.ID, ama.ID).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := s.EraseContact(ctx, c.ID, "nouveau-jeton"); err != nil {
				t.Fatal(err)
			}
			var vals string
			if err := s.DB().Raw("SELECT vals FROM message_bodies WHERE message_id = ?", ama.ID).Scan(&vals).Error; err != nil || vals != "" {
				t.Fatalf("values after erasure: %q (%v)", vals, err)
			}
			if m, err := s.FindMessage(ctx, ama.ID); err != nil || m.HTMLBody+m.TextBody+m.Subject != "" {
				t.Fatalf("subject and bodies after erasure: %q %q %q (%v)", m.Subject, m.HTMLBody, m.TextBody, err)
			}
		})
	}
}

// Rolling back migration 0007 gives each message sharing a template its bodies back,
// written out.
func TestBodyTemplatesRollbackWritesBodiesOut(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s, tmpl := withSharedBody(t, driver)
			m := campFastCampaignMessage(1)
			m.BodyTemplate, m.BodyValues, m.HTMLBody, m.TextBody = tmpl, []string{"Ama", "D'Almeida"}, "", ""
			if _, err := s.EnqueueMessages(ctx, []*model.Message{m}); err != nil {
				t.Fatal(err)
			}
			mig := gormigrate.New(s.DB(), &gormigrate.Options{TableName: "schema_migrations", IDColumnName: "id",
				IDColumnSize: 255, UseTransaction: true}, migrations.All())
			if err := mig.RollbackTo("0006_lighter_indexes"); err != nil {
				t.Fatal(err)
			}
			var html, text string
			if err := s.DB().Raw("SELECT html_body, text_body FROM message_bodies WHERE message_id = ?", m.ID).
				Row().Scan(&html, &text); err != nil {
				t.Fatal(err)
			}
			if html != "<p>Bonjour Ama D&#39;Almeida,</p>" || text != "Bonjour Ama \x01 D'Almeida" {
				t.Fatalf("after the rollback: %q %q", html, text)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if got, err := s.FindMessage(ctx, m.ID); err != nil || got.HTMLBody != html {
				t.Fatalf("migrated again: %q (%v)", got.HTMLBody, err)
			}
		})
	}
}

// A body template identical to a recent one is not stored again; another is, and so is
// a twin of a template older than the latest ones compared.
func TestShareBodyTemplateFindsItsTwin(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s, tmpl := withSharedBody(t, driver)
			twin := sharedBody()
			if err := s.ShareBodyTemplate(ctx, twin); err != nil || twin.ID != tmpl.ID {
				t.Fatalf("twin stored as %d, want %d (%v)", twin.ID, tmpl.ID, err)
			}
			other := sharedBody()
			other.TextBody += " autre"
			if err := s.ShareBodyTemplate(ctx, other); err != nil || other.ID == 0 || other.ID == tmpl.ID {
				t.Fatalf("another body stored as %d (%v)", other.ID, err)
			}
			for i := range store.ShareRecent {
				filler := &model.BodyTemplate{HTMLBody: "<p>x</p>", TextBody: time.Duration(i).String()}
				if err := s.CreateBodyTemplate(ctx, filler); err != nil {
					t.Fatal(err)
				}
			}
			late := sharedBody()
			if err := s.ShareBodyTemplate(ctx, late); err != nil || late.ID == tmpl.ID || late.ID == 0 {
				t.Fatalf("twin of an old template stored as %d (%v)", late.ID, err)
			}
		})
	}
}
