package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	"relais/internal/model"
)

// m0003Directory makes the blogger directory fast at tens of thousands of contacts:
// a folded search text and sort key kept by the application (accent- and
// case-insensitive on both databases), indexes for the list's filters and sorts, and
// a table that keeps an uploaded CSV file between its preview and its import.
func m0003Directory() *gormigrate.Migration {
	type ContactImport struct {
		Key       string    `gorm:"primaryKey;size:64"`
		UserID    int64     `gorm:"not null;index"`
		Filename  string    `gorm:"size:255;not null"`
		Data      []byte    `gorm:"not null"`
		CreatedAt time.Time `gorm:"not null"`
		ExpiresAt time.Time `gorm:"not null;index"`
	}
	// Index name → definition; plain SQL that SQLite and PostgreSQL both read.
	indexes := [][2]string{
		{"idx_contacts_sort_name", "contacts (sort_name, id)"},
		{"idx_contacts_created_at", "contacts (created_at, id)"},
		{"idx_contacts_audience", "contacts (audience, id)"},
		{"idx_contacts_lang", "contacts (lang)"},
		{"idx_contacts_city", "contacts (LOWER(city))"},
		{"idx_contacts_unsubscribed_at", "contacts (unsubscribed_at)"},
		{"idx_registrations_contact_checked", "registrations (contact_id, checked_in_at)"},
	}
	return &gormigrate.Migration{
		ID: "0003_directory",
		Migrate: func(tx *gorm.DB) error {
			for _, col := range []string{
				"ALTER TABLE contacts ADD COLUMN search_text VARCHAR(1000) NOT NULL DEFAULT ''",
				"ALTER TABLE contacts ADD COLUMN sort_name VARCHAR(200) NOT NULL DEFAULT ''",
			} {
				if err := tx.Exec(col).Error; err != nil {
					return err
				}
			}
			if err := backfillContactSearch(tx); err != nil {
				return err
			}
			for _, ix := range indexes {
				if err := tx.Exec("CREATE INDEX " + ix[0] + " ON " + ix[1]).Error; err != nil {
					return err
				}
			}
			return tx.AutoMigrate(&ContactImport{})
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Migrator().DropTable(&ContactImport{}); err != nil {
				return err
			}
			for _, ix := range indexes {
				if err := tx.Exec("DROP INDEX IF EXISTS " + ix[0]).Error; err != nil {
					return err
				}
			}
			for _, col := range []string{"search_text", "sort_name"} {
				if err := tx.Exec("ALTER TABLE contacts DROP COLUMN " + col).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// backfillContactSearch fills the new columns of the contacts that exist already. It
// uses model.Contact.RefreshSearch so that old and new rows are folded alike.
func backfillContactSearch(tx *gorm.DB) error {
	type row struct {
		ID                                                int64
		FirstName, LastName, Email, Outlet, City, BlogURL string
	}
	type channel struct {
		ContactID   int64
		Handle, URL string
	}
	var lastID int64
	for {
		var rows []row
		if err := tx.Table("contacts").Select("id, first_name, last_name, email, outlet, city, blog_url").
			Where("id > ?", lastID).Order("id").Limit(500).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		var chans []channel
		if err := tx.Table("contact_channels").Select("contact_id, handle, url").Where("contact_id IN ?", ids).
			Order("id").Scan(&chans).Error; err != nil {
			return err
		}
		byContact := map[int64][]model.ContactChannel{}
		for _, ch := range chans {
			byContact[ch.ContactID] = append(byContact[ch.ContactID], model.ContactChannel{Handle: ch.Handle, URL: ch.URL})
		}
		for _, r := range rows {
			c := model.Contact{FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Outlet: r.Outlet,
				City: r.City, BlogURL: r.BlogURL, Channels: byContact[r.ID]}
			c.RefreshSearch()
			if err := tx.Table("contacts").Where("id = ?", r.ID).
				Updates(map[string]any{"search_text": c.SearchText, "sort_name": c.SortName}).Error; err != nil {
				return err
			}
		}
		lastID = rows[len(rows)-1].ID
	}
}
