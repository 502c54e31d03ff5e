package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0009CampaignFailure keeps on a campaign why the scheduler did not send it at its time
// (the press kit grew past the limit meanwhile), so that its page says so. Existing rows
// get "" (nothing went wrong) and no time.
func m0009CampaignFailure() *gormigrate.Migration {
	type Campaign struct {
		LastError   string `gorm:"size:200;not null;default:''"`
		LastErrorAt *time.Time
	}
	return &gormigrate.Migration{
		ID: "0009_campaign_failure",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().AddColumn(&Campaign{}, "LastError"); err != nil {
				return err
			}
			return tx.Migrator().AddColumn(&Campaign{}, "LastErrorAt")
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Migrator().DropColumn(&Campaign{}, "LastErrorAt"); err != nil {
				return err
			}
			return tx.Migrator().DropColumn(&Campaign{}, "LastError")
		},
	}
}
