package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

func m0001Foundation() *gormigrate.Migration {
	type User struct {
		ID           int64  `gorm:"primaryKey"`
		Email        string `gorm:"size:254;not null;uniqueIndex"`
		Name         string `gorm:"size:200;not null"`
		PasswordHash string `gorm:"size:200;not null"`
		Role         string `gorm:"size:20;not null"`
		Lang         string `gorm:"size:5;not null;default:fr"`
		DisabledAt   *time.Time
		LastLoginAt  *time.Time
		CreatedAt    time.Time `gorm:"not null"`
		UpdatedAt    time.Time `gorm:"not null"`
	}
	type APIToken struct {
		ID         int64  `gorm:"primaryKey"`
		UserID     int64  `gorm:"not null;index"`
		User       *User  `gorm:"constraint:OnDelete:CASCADE"`
		Name       string `gorm:"size:100;not null"`
		TokenHash  string `gorm:"size:64;not null;uniqueIndex"`
		LastUsedAt *time.Time
		RevokedAt  *time.Time
		CreatedAt  time.Time `gorm:"not null"`
	}
	type Session struct {
		Token  string    `gorm:"primaryKey;size:64"`
		Data   []byte    `gorm:"not null"`
		Expiry time.Time `gorm:"not null;index"`
		UserID *int64    `gorm:"index"`
	}
	type KeyValue struct {
		Key   string `gorm:"primaryKey;size:100"`
		Value string `gorm:"not null"`
	}
	type RateLimit struct {
		Key         string    `gorm:"primaryKey;size:200"`
		WindowStart time.Time `gorm:"not null"`
		Count       int       `gorm:"not null"`
	}
	type Setting struct {
		ID                int64  `gorm:"primaryKey"`
		Name              string `gorm:"size:200;not null"`
		About             string `gorm:"size:2000;not null"`
		Website           string `gorm:"size:300;not null"`
		Address           string `gorm:"size:500;not null"`
		SenderName        string `gorm:"size:200;not null"`
		SenderEmail       string `gorm:"size:254;not null"`
		ReplyTo           string `gorm:"size:254;not null"`
		PressContactName  string `gorm:"size:200;not null"`
		PressContactEmail string `gorm:"size:254;not null"`
		PressContactPhone string `gorm:"size:50;not null"`
		DefaultLang       string `gorm:"size:5;not null"`
		DefaultTimezone   string `gorm:"size:64;not null"`
		UpdatedAt         time.Time
	}
	type AuditEntry struct {
		ID         int64     `gorm:"primaryKey"`
		ActorID    *int64    `gorm:"index"`
		ActorName  string    `gorm:"size:200;not null"`
		Action     string    `gorm:"size:100;not null"`
		ObjectType string    `gorm:"size:50;not null"`
		ObjectID   int64     `gorm:"not null"`
		EventID    *int64    `gorm:"index"`
		Detail     string    `gorm:"size:2000;not null"`
		CreatedAt  time.Time `gorm:"not null;index"`
	}
	type Event struct {
		ID                   int64     `gorm:"primaryKey"`
		Slug                 string    `gorm:"size:80;not null;uniqueIndex"`
		Title                string    `gorm:"size:200;not null"`
		Occasion             string    `gorm:"size:200;not null"`
		Theme                string    `gorm:"size:200;not null"`
		Summary              string    `gorm:"size:500;not null"`
		Description          string    `gorm:"not null"`
		VenueName            string    `gorm:"size:200;not null"`
		VenueAddress         string    `gorm:"size:500;not null"`
		StartsAt             time.Time `gorm:"not null;index"`
		EndsAt               time.Time `gorm:"not null"`
		Timezone             string    `gorm:"size:64;not null"`
		Capacity             int       `gorm:"not null"`
		RegistrationMode     string    `gorm:"size:20;not null"`
		RegistrationOpensAt  *time.Time
		RegistrationClosesAt *time.Time
		Status               string `gorm:"size:20;not null;index"`
		PressContactName     string `gorm:"size:200;not null"`
		PressContactEmail    string `gorm:"size:254;not null"`
		PressContactPhone    string `gorm:"size:50;not null"`
		Lang                 string `gorm:"size:5;not null"`
		CreatedBy            *int64
		CreatedAt            time.Time `gorm:"not null"`
		UpdatedAt            time.Time `gorm:"not null"`
	}
	type AgendaItem struct {
		ID        int64  `gorm:"primaryKey"`
		EventID   int64  `gorm:"not null;index"`
		Event     *Event `gorm:"constraint:OnDelete:CASCADE"`
		Position  int    `gorm:"not null"`
		StartTime string `gorm:"size:5;not null"`
		Title     string `gorm:"size:200;not null"`
		Speaker   string `gorm:"size:200;not null"`
	}
	type Document struct {
		ID          int64     `gorm:"primaryKey"`
		EventID     int64     `gorm:"not null;index"`
		Event       *Event    `gorm:"constraint:OnDelete:CASCADE"`
		Name        string    `gorm:"size:255;not null"`
		ContentType string    `gorm:"size:100;not null"`
		Size        int64     `gorm:"not null"`
		Data        []byte    `gorm:"not null"`
		CreatedAt   time.Time `gorm:"not null"`
	}
	type Message struct {
		ID             int64     `gorm:"primaryKey"`
		Kind           string    `gorm:"size:50;not null"`
		IdempotencyKey string    `gorm:"size:200;not null;uniqueIndex"`
		ToEmail        string    `gorm:"size:254;not null"`
		ToName         string    `gorm:"size:200;not null"`
		FromEmail      string    `gorm:"size:254;not null"`
		FromName       string    `gorm:"size:200;not null"`
		ReplyTo        string    `gorm:"size:254;not null"`
		Subject        string    `gorm:"size:500;not null"`
		HTMLBody       string    `gorm:"column:html_body;not null"`
		TextBody       string    `gorm:"not null"`
		Headers        string    `gorm:"not null"`
		Lang           string    `gorm:"size:5;not null"`
		Status         string    `gorm:"size:20;not null;index:idx_messages_due,priority:1"`
		Attempts       int       `gorm:"not null"`
		NextAttemptAt  time.Time `gorm:"not null;index:idx_messages_due,priority:2"`
		ClaimedUntil   *time.Time
		LastError      string `gorm:"size:2000;not null"`
		SentAt         *time.Time
		EventID        *int64    `gorm:"index"`
		ContactID      *int64    `gorm:"index"`
		CampaignID     *int64    `gorm:"index"`
		CreatedAt      time.Time `gorm:"not null;index"`
	}
	type Attachment struct {
		ID          int64    `gorm:"primaryKey"`
		MessageID   int64    `gorm:"not null;index"`
		Message     *Message `gorm:"constraint:OnDelete:CASCADE"`
		Filename    string   `gorm:"size:255;not null"`
		ContentType string   `gorm:"size:100;not null"`
		ContentID   string   `gorm:"size:100;not null"`
		Inline      bool     `gorm:"not null"`
		Data        []byte   `gorm:"not null"`
	}
	tables := []any{&User{}, &APIToken{}, &Session{}, &KeyValue{}, &RateLimit{}, &Setting{},
		&AuditEntry{}, &Event{}, &AgendaItem{}, &Document{}, &Message{}, &Attachment{}}
	return &gormigrate.Migration{
		ID: "0001_foundation",
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
