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
			// Each message gets its bodies back, written out.
			var rows []struct {
				MessageID int64
				Vals      string
				THTML     string `gorm:"column:t_html"`
				TText     string `gorm:"column:t_text"`
			}
			if err := tx.Raw(`SELECT b.message_id, b.vals, t.html_body AS t_html, t.text_body AS t_text
	FROM message_bodies b JOIN body_templates t ON t.id = b.template_id`).Scan(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				var vals []string
				if err := json.Unmarshal([]byte(r.Vals), &vals); err != nil {
					return err
				}
				html, err := model.ExpandBody(r.THTML, vals)
				if err != nil {
					return err
				}
				text, err := model.ExpandBody(r.TText, vals)
				if err != nil {
					return err
				}
				if err := tx.Exec("UPDATE message_bodies SET html_body = ?, text_body = ? WHERE message_id = ?",
					html, text, r.MessageID).Error; err != nil {
					return err
				}
			}
			return execAll(tx,
				"ALTER TABLE message_bodies DROP COLUMN vals",
				"ALTER TABLE message_bodies DROP COLUMN template_id",
				"DROP TABLE body_templates",
			)
		},
	}
}
