package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0008EndedSessions lets a session row outlive its end: an ended session keeps its row,
// marked, for a while, so that a request that loaded it before it ended cannot write it
// back when it saves (store/sessions.go).
func m0008EndedSessions() *gormigrate.Migration {
	type Session struct {
		EndedAt *time.Time
	}
	return &gormigrate.Migration{
		ID: "0008_ended_sessions",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().AddColumn(&Session{}, "EndedAt")
		},
		Rollback: func(tx *gorm.DB) error {
			// Without the column, an ended session would work again.
			if err := tx.Exec("DELETE FROM sessions WHERE ended_at IS NOT NULL").Error; err != nil {
				return err
			}
			return tx.Migrator().DropColumn(&Session{}, "EndedAt")
		},
	}
}
