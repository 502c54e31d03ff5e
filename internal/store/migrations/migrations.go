// Package migrations lists Relais' schema changes in order. Each migration uses its own
// frozen structs, so that later changes to the model never alter an old migration.
// Never edit a migration that has shipped: add a new one.
package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// All returns every migration in order.
func All() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		m0001Foundation(),
		m0002Outreach(),
		m0003Directory(),
		m0004Checkin(),
		m0003Coverage(),
		m0003Campaigns(),
		m0005MessageBodies(),
		m0006LighterIndexes(),
		m0007BodyTemplates(),
		m0008EndedSessions(),
		m0009CampaignFailure(),
	}
}

// Run applies the migrations not applied yet, each in its own transaction.
func Run(db *gorm.DB) error {
	m := gormigrate.New(db, &gormigrate.Options{
		TableName:                 "schema_migrations",
		IDColumnName:              "id",
		IDColumnSize:              255,
		UseTransaction:            true,
		ValidateUnknownMigrations: false,
	}, All())
	return m.Migrate()
}
