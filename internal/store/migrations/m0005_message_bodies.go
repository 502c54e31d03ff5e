package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0005MessageBodies moves the bodies of the outbox's messages to a table of their own.
// A message's row changes two or three times on its way out (claimed, then sent); on
// SQLite every change rewrote the whole row, its 5–7 KB of HTML and text spilling over
// several pages, and a claim of 200 messages rewrote some 600 pages. The bodies are
// written once and read once, when the message is sent.
func m0005MessageBodies() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0005_message_bodies",
		Migrate: func(tx *gorm.DB) error {
			id := "INTEGER"
			if tx.Dialector.Name() == "postgres" {
				id = "BIGINT"
			}
			return execAll(tx,
				`CREATE TABLE message_bodies (message_id `+id+` NOT NULL PRIMARY KEY
	REFERENCES messages (id) ON DELETE CASCADE, html_body TEXT NOT NULL, text_body TEXT NOT NULL)`,
				"INSERT INTO message_bodies (message_id, html_body, text_body) SELECT id, html_body, text_body FROM messages",
				"ALTER TABLE messages DROP COLUMN html_body",
				"ALTER TABLE messages DROP COLUMN text_body",
			)
		},
		Rollback: func(tx *gorm.DB) error {
			return execAll(tx,
				"ALTER TABLE messages ADD COLUMN html_body TEXT NOT NULL DEFAULT ''",
				"ALTER TABLE messages ADD COLUMN text_body TEXT NOT NULL DEFAULT ''",
				`UPDATE messages SET html_body = (SELECT b.html_body FROM message_bodies b WHERE b.message_id = messages.id),
	text_body = (SELECT b.text_body FROM message_bodies b WHERE b.message_id = messages.id)
	WHERE id IN (SELECT message_id FROM message_bodies)`,
				"DROP TABLE message_bodies",
			)
		},
	}
}
