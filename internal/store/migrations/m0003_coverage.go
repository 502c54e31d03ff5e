package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0003Coverage adds the coverage items: the links of what bloggers published after an
// event, submitted by themselves (from their ticket page) or by an organizer, with the
// result of the optional background check of each page.
func m0003Coverage() *gormigrate.Migration {
	type Event struct{ ID int64 }
	type Contact struct{ ID int64 }
	type Registration struct{ ID int64 }
	type User struct{ ID int64 }
	type Coverage struct {
		ID              int64         `gorm:"primaryKey"`
		EventID         int64         `gorm:"not null;uniqueIndex:idx_coverages_event_url,priority:1;index:idx_coverages_event_status,priority:1"`
		Event           *Event        `gorm:"constraint:OnDelete:CASCADE"`
		ContactID       int64         `gorm:"not null;index"`
		Contact         *Contact      `gorm:"constraint:OnDelete:CASCADE"`
		RegistrationID  *int64        `gorm:"index"`
		Registration    *Registration `gorm:"constraint:OnDelete:SET NULL"`
		URL             string        `gorm:"column:url;size:2000;not null;uniqueIndex:idx_coverages_event_url,priority:2"`
		Platform        string        `gorm:"size:20;not null"`
		Title           string        `gorm:"size:300;not null"`
		PublishedAt     *time.Time
		Reach           int    `gorm:"not null"`
		SubmittedBy     string `gorm:"size:20;not null"`
		SubmittedByUser *int64
		SubmittedUser   *User  `gorm:"foreignKey:SubmittedByUser;constraint:OnDelete:SET NULL"`
		Status          string `gorm:"size:20;not null;index:idx_coverages_event_status,priority:2"`
		// The background check: "" (to do), checking, ok, refused, error or skipped.
		CheckStatus       string `gorm:"size:20;not null;index"`
		CheckClaimedUntil *time.Time
		CheckedAt         *time.Time
		PageTitle         string    `gorm:"size:300;not null"`
		MentionsEvent     bool      `gorm:"not null"`
		LinksEvent        bool      `gorm:"not null"`
		CheckError        string    `gorm:"size:500;not null"`
		CreatedAt         time.Time `gorm:"not null"`
		UpdatedAt         time.Time `gorm:"not null"`
	}
	return &gormigrate.Migration{
		ID: "0003_coverage",
		Migrate: func(tx *gorm.DB) error {
			return tx.AutoMigrate(&Coverage{})
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&Coverage{})
		},
	}
}
