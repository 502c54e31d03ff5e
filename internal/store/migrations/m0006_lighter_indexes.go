package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0006LighterIndexes drops the indexes that cost every registration a page write and
// served no query: a registration wrote 38 pages on SQLite, one per index of the three
// rows it adds. Dropped: registrations (contact_id), a prefix of (contact_id,
// checked_in_at); contacts (last_name), which the lists sorted by name after a join
// never used; contacts (lang), two values, no help to a filter. Made partial, so that
// rows without a value stay out of them: messages (campaign_id), NULL for every
// confirmation; registrations (invitation_id), NULL for every public registration;
// contacts (unsubscribed_at), NULL for all but the few who unsubscribed, the rows
// its filter looks for. "x = ?" and "x IS NOT NULL" still use a partial index on both
// databases.
func m0006LighterIndexes() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0006_lighter_indexes",
		Migrate: func(tx *gorm.DB) error {
			return execAll(tx,
				"DROP INDEX idx_registrations_contact_id",
				"DROP INDEX idx_contacts_last_name",
				"DROP INDEX idx_contacts_lang",
				"DROP INDEX idx_messages_campaign_id",
				"CREATE INDEX idx_messages_campaign_id ON messages (campaign_id) WHERE campaign_id IS NOT NULL",
				"DROP INDEX idx_registrations_invitation_id",
				"CREATE INDEX idx_registrations_invitation_id ON registrations (invitation_id) WHERE invitation_id IS NOT NULL",
				"DROP INDEX idx_contacts_unsubscribed_at",
				"CREATE INDEX idx_contacts_unsubscribed_at ON contacts (unsubscribed_at) WHERE unsubscribed_at IS NOT NULL",
			)
		},
		Rollback: func(tx *gorm.DB) error {
			return execAll(tx,
				"DROP INDEX idx_contacts_unsubscribed_at",
				"CREATE INDEX idx_contacts_unsubscribed_at ON contacts (unsubscribed_at)",
				"DROP INDEX idx_registrations_invitation_id",
				"CREATE INDEX idx_registrations_invitation_id ON registrations (invitation_id)",
				"DROP INDEX idx_messages_campaign_id",
				"CREATE INDEX idx_messages_campaign_id ON messages (campaign_id)",
				"CREATE INDEX idx_contacts_lang ON contacts (lang)",
				"CREATE INDEX idx_contacts_last_name ON contacts (last_name)",
				"CREATE INDEX idx_registrations_contact_id ON registrations (contact_id)",
			)
		},
	}
}

// execAll runs statements in order, stopping at the first error.
func execAll(tx *gorm.DB, statements ...string) error {
	for _, q := range statements {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
