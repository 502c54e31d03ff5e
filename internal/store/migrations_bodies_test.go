package store_test

import (
	"context"
	"testing"

	"github.com/go-gormigrate/gormigrate/v2"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/migrations"
	"relais/internal/store/storetest"
)

// A database from before message_bodies keeps its mail: migrating moves each body to
// the new table, where the outbox reads it, and the worker's claim leaves it out.
func TestMessageBodiesMigrationKeepsQueuedMail(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s, err := store.Open(ctx, storetest.URL(t, driver))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			db := s.DB()
			m := gormigrate.New(db, &gormigrate.Options{TableName: "schema_migrations", IDColumnName: "id",
				IDColumnSize: 255, UseTransaction: true}, migrations.All())
			// The database of the state before: a fresh one is migrated up to it, one made
			// from the migrated template (PostgreSQL) has the migration rolled back.
			if err := m.MigrateTo("0003_campaigns"); err != nil {
				t.Fatal(err)
			}
			if err := m.RollbackTo("0003_campaigns"); err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(`INSERT INTO messages (kind, idempotency_key, to_email, to_name, from_email, from_name, reply_to,
	subject, html_body, text_body, headers, lang, status, attempts, next_attempt_at, last_error, created_at)
	VALUES ('test', 'avant', 'ama@example.tg', 'Ama', 'relais@example.tg', 'Relais', '', 'Votre billet',
	'<p>Bonjour Ama</p>', 'Bonjour Ama', '', 'fr', 'queued', 0, ?, '', ?)`, s.Now(), s.Now()).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			claimed, err := s.ClaimMessages(ctx, 10, 60e9)
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claimed %d, %v", len(claimed), err)
			}
			got := &claimed[0]
			if got.HTMLBody != "" || got.IdempotencyKey != "avant" {
				t.Fatalf("claimed %+v", got)
			}
			if err := s.LoadMessageContent(ctx, got); err != nil {
				t.Fatal(err)
			}
			if got.HTMLBody != "<p>Bonjour Ama</p>" || got.TextBody != "Bonjour Ama" {
				t.Fatalf("bodies after the migration: %q %q", got.HTMLBody, got.TextBody)
			}
			found, err := s.FindMessage(ctx, got.ID)
			if err != nil || found.HTMLBody != "<p>Bonjour Ama</p>" || found.Status != model.MessageSending {
				t.Fatalf("found %+v, %v", found, err)
			}
		})
	}
}
