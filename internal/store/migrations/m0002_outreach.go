package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// m0002Outreach adds the blogger directory, custom questions, registrations,
// invitations, door links and the check-in log.
func m0002Outreach() *gormigrate.Migration {
	type Event struct{ ID int64 }
	type User struct{ ID int64 }
	type Contact struct {
		ID               int64  `gorm:"primaryKey"`
		Email            string `gorm:"size:254;not null;uniqueIndex"`
		FirstName        string `gorm:"size:100;not null"`
		LastName         string `gorm:"size:100;not null;index"`
		Phone            string `gorm:"size:30;not null"`
		Outlet           string `gorm:"size:200;not null"`
		BlogURL          string `gorm:"size:500;not null"`
		City             string `gorm:"size:100;not null"`
		Country          string `gorm:"size:100;not null"`
		Lang             string `gorm:"size:5;not null"`
		Audience         int    `gorm:"not null"`
		Notes            string `gorm:"size:5000;not null"`
		ConsentAt        *time.Time
		ConsentSource    string `gorm:"size:100;not null"`
		UnsubscribedAt   *time.Time
		UnsubscribeToken string `gorm:"size:64;not null;uniqueIndex"`
		ErasedAt         *time.Time
		CreatedAt        time.Time `gorm:"not null"`
		UpdatedAt        time.Time `gorm:"not null"`
	}
	type ContactChannel struct {
		ID        int64    `gorm:"primaryKey"`
		ContactID int64    `gorm:"not null;index"`
		Contact   *Contact `gorm:"constraint:OnDelete:CASCADE"`
		Platform  string   `gorm:"size:20;not null;index"`
		Handle    string   `gorm:"size:200;not null"`
		URL       string   `gorm:"size:500;not null"`
		Followers int      `gorm:"not null"`
	}
	type ContactTag struct {
		ContactID int64    `gorm:"primaryKey"`
		Contact   *Contact `gorm:"constraint:OnDelete:CASCADE"`
		Tag       string   `gorm:"primaryKey;size:50;index"`
	}
	type Question struct {
		ID       int64  `gorm:"primaryKey"`
		EventID  int64  `gorm:"not null;index"`
		Event    *Event `gorm:"constraint:OnDelete:CASCADE"`
		Position int    `gorm:"not null"`
		Label    string `gorm:"size:300;not null"`
		Help     string `gorm:"size:500;not null"`
		Kind     string `gorm:"size:20;not null"`
		Required bool   `gorm:"not null"`
		Options  string `gorm:"size:5000;not null"`
	}
	type Invitation struct {
		ID            int64    `gorm:"primaryKey"`
		EventID       int64    `gorm:"not null;uniqueIndex:idx_invitations_event_contact,priority:1"`
		Event         *Event   `gorm:"constraint:OnDelete:CASCADE"`
		ContactID     int64    `gorm:"not null;uniqueIndex:idx_invitations_event_contact,priority:2;index"`
		Contact       *Contact `gorm:"constraint:OnDelete:CASCADE"`
		Token         string   `gorm:"size:64;not null;uniqueIndex"`
		Note          string   `gorm:"size:2000;not null"`
		Status        string   `gorm:"size:20;not null"`
		SkipApproval  bool     `gorm:"not null"`
		SentAt        *time.Time
		RemindedAt    *time.Time
		RespondedAt   *time.Time
		DeclineReason string `gorm:"size:1000;not null"`
		CreatedBy     *int64
		CreatedAt     time.Time `gorm:"not null"`
		UpdatedAt     time.Time `gorm:"not null"`
	}
	type Registration struct {
		ID              int64       `gorm:"primaryKey"`
		EventID         int64       `gorm:"not null;uniqueIndex:idx_registrations_event_contact,priority:1;uniqueIndex:idx_registrations_event_reference,priority:1;index:idx_registrations_event_status,priority:1"`
		Event           *Event      `gorm:"constraint:OnDelete:CASCADE"`
		ContactID       int64       `gorm:"not null;uniqueIndex:idx_registrations_event_contact,priority:2;index"`
		Contact         *Contact    `gorm:"constraint:OnDelete:CASCADE"`
		InvitationID    *int64      `gorm:"index"`
		Invitation      *Invitation `gorm:"constraint:OnDelete:SET NULL"`
		Status          string      `gorm:"size:20;not null;index:idx_registrations_event_status,priority:2"`
		Source          string      `gorm:"size:20;not null"`
		Lang            string      `gorm:"size:5;not null"`
		Answers         string      `gorm:"not null"`
		TicketCode      string      `gorm:"size:64;not null;uniqueIndex"`
		Reference       string      `gorm:"size:8;not null;uniqueIndex:idx_registrations_event_reference,priority:2"`
		ManageToken     string      `gorm:"size:64;not null;uniqueIndex"`
		WaitlistedAt    *time.Time
		ConfirmedAt     *time.Time
		CancelledAt     *time.Time
		RejectReason    string `gorm:"size:1000;not null"`
		CheckedInAt     *time.Time
		CheckedInBy     string    `gorm:"size:200;not null"`
		CheckedInDevice string    `gorm:"size:200;not null"`
		CreatedAt       time.Time `gorm:"not null"`
		UpdatedAt       time.Time `gorm:"not null;index"`
	}
	type DoorLink struct {
		ID           int64     `gorm:"primaryKey"`
		EventID      int64     `gorm:"not null;index"`
		Event        *Event    `gorm:"constraint:OnDelete:CASCADE"`
		Name         string    `gorm:"size:100;not null"`
		Token        string    `gorm:"size:64;not null;uniqueIndex"`
		ExpiresAt    time.Time `gorm:"not null"`
		RevokedAt    *time.Time
		AllowSearch  bool `gorm:"not null"`
		AllowWalkIns bool `gorm:"not null"`
		CreatedBy    *int64
		CreatedAt    time.Time `gorm:"not null"`
	}
	type CheckIn struct {
		ID             int64         `gorm:"primaryKey"`
		EventID        int64         `gorm:"not null;index:idx_check_ins_event_created,priority:1"`
		Event          *Event        `gorm:"constraint:OnDelete:CASCADE"`
		RegistrationID *int64        `gorm:"index"`
		Registration   *Registration `gorm:"constraint:OnDelete:CASCADE"`
		Action         string        `gorm:"size:10;not null"`
		Result         string        `gorm:"size:30;not null"`
		ScannedAt      time.Time     `gorm:"not null"`
		Device         string        `gorm:"size:200;not null"`
		ActorUserID    *int64
		DoorLinkID     *int64    `gorm:"index"`
		ActorName      string    `gorm:"size:200;not null"`
		Nonce          string    `gorm:"size:100;not null;uniqueIndex"`
		Code           string    `gorm:"size:100;not null"`
		CreatedAt      time.Time `gorm:"not null;index:idx_check_ins_event_created,priority:2"`
	}
	tables := []any{&Contact{}, &ContactChannel{}, &ContactTag{}, &Question{}, &Invitation{}, &Registration{}, &DoorLink{}, &CheckIn{}}
	return &gormigrate.Migration{
		ID: "0002_outreach",
		Migrate: func(tx *gorm.DB) error {
			return tx.AutoMigrate(tables...)
		},
		Rollback: func(tx *gorm.DB) error {
			for i := len(tables) - 1; i >= 0; i-- {
				if err := tx.Migrator().DropTable(tables[i]); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
