package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0004Checkin lets the check-in log answer a retried scan exactly as the first time:
// each row keeps the answer it gave (result, time and door of the first admission),
// beside its own result, which becomes "conflict" when two doors admitted the same
// ticket while offline.
func m0004Checkin() *gormigrate.Migration {
	type CheckIn struct {
		Answer   string `gorm:"size:30;not null;default:''"`
		AnswerAt *time.Time
		AnswerBy string `gorm:"size:200;not null;default:''"`
	}
	columns := []string{"Answer", "AnswerAt", "AnswerBy"}
	return &gormigrate.Migration{
		ID: "0004_checkin",
		Migrate: func(tx *gorm.DB) error {
			for _, col := range columns {
				if err := tx.Migrator().AddColumn(&CheckIn{}, col); err != nil {
					return err
				}
			}
			return tx.Exec("CREATE INDEX idx_check_ins_event_result ON check_ins (event_id, result)").Error
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Exec("DROP INDEX IF EXISTS idx_check_ins_event_result").Error; err != nil {
				return err
			}
			for i := len(columns) - 1; i >= 0; i-- {
				if err := tx.Migrator().DropColumn(&CheckIn{}, columns[i]); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
