package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0003Campaigns adds follow-up campaigns and, on events, the reminder offsets
// ("24h,morning" by default: one day before, and 07:00 on the day in the event's zone).
func m0003Campaigns() *gormigrate.Migration {
	type Event struct{ ID int64 }
	type Campaign struct {
		ID             int64      `gorm:"primaryKey"`
		EventID        int64      `gorm:"not null;index"`
		Event          *Event     `gorm:"constraint:OnDelete:CASCADE"`
		Segment        string     `gorm:"size:30;not null"`
		Subject        string     `gorm:"size:300;not null"`
		Body           string     `gorm:"not null"`
		AttachPressKit bool       `gorm:"not null"`
		Status         string     `gorm:"size:20;not null;index:idx_campaigns_due,priority:1"`
		ScheduledAt    *time.Time `gorm:"index:idx_campaigns_due,priority:2"`
		ClaimedUntil   *time.Time
		CreatedBy      *int64
		SentAt         *time.Time
		CreatedAt      time.Time `gorm:"not null"`
		UpdatedAt      time.Time `gorm:"not null"`
	}
	return &gormigrate.Migration{
		ID: "0003_campaigns",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Exec("ALTER TABLE events ADD COLUMN reminder_offsets VARCHAR(100) NOT NULL DEFAULT '24h,morning'").Error; err != nil {
				return err
			}
			return tx.AutoMigrate(&Campaign{})
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Migrator().DropTable(&Campaign{}); err != nil {
				return err
			}
			return tx.Exec("ALTER TABLE events DROP COLUMN reminder_offsets").Error
		},
	}
}
