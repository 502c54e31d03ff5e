package migrations

import (
	"encoding/json"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	"relais/internal/model"
)

// m0007BodyTemplates lets messages share their bodies: a campaign's messages differ only
// by the recipient's name and tokens, and each stored its own copy of the whole email
// (8 KB), most of what queuing a campaign of ten thousand wrote. A message_bodies row
// may now point to a body template and hold its values (a JSON array) instead.
func m0007BodyTemplates() *gormigrate.Migration {
	type BodyTemplate struct {
		ID        int64     `gorm:"primaryKey"`
		HTMLBody  string    `gorm:"not null"`
		TextBody  string    `gorm:"not null"`
		CreatedAt time.Time `gorm:"not null"`
	}
	return &gormigrate.Migration{
		ID: "0007_body_templates",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().CreateTable(&BodyTemplate{}); err != nil {
				return err
			}
			return execAll(tx,
				"ALTER TABLE message_bodies ADD COLUMN template_id BIGINT",
				"ALTER TABLE message_bodies ADD COLUMN vals TEXT NOT NULL DEFAULT ''",
			)
		},
		Rollback: func(tx *gorm.DB) error {
			// Each message gets its bodies back, written out: the templates (a few per
			// campaign) are read once, the messages a page at a time.
			var tmpls []BodyTemplate
			if err := tx.Find(&tmpls).Error; err != nil {
				return err
			}
			byID := make(map[int64]*model.BodyTemplate, len(tmpls))
			for _, t := range tmpls {
				byID[t.ID] = &model.BodyTemplate{ID: t.ID, HTMLBody: t.HTMLBody, TextBody: t.TextBody}
			}
			var after int64
			for {
				var rows []struct {
					MessageID  int64
					TemplateID int64
					Vals       string
				}
				if err := tx.Raw(`SELECT message_id, template_id, vals FROM message_bodies
	WHERE template_id IS NOT NULL AND message_id > ? ORDER BY message_id LIMIT 500`, after).Scan(&rows).Error; err != nil {
					return err
				}
				if len(rows) == 0 {
					break
				}
				for _, r := range rows {
					// A message whose bodies cannot be written out (the worker fails it) keeps
					// empty ones, as the mailbox shows it.
					var html, text string
					m := &model.Message{BodyTemplate: byID[r.TemplateID]}
					if m.BodyTemplate != nil && json.Unmarshal([]byte(r.Vals), &m.BodyValues) == nil {
						var err error
						if html, text, err = m.Bodies(); err != nil {
							html, text = "", ""
						}
					}
					if err := tx.Exec("UPDATE message_bodies SET html_body = ?, text_body = ? WHERE message_id = ?",
						html, text, r.MessageID).Error; err != nil {
						return err
					}
				}
				after = rows[len(rows)-1].MessageID
			}
			return execAll(tx,
				"ALTER TABLE message_bodies DROP COLUMN vals",
				"ALTER TABLE message_bodies DROP COLUMN template_id",
				"DROP TABLE body_templates",
			)
		},
	}
}
