package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"relais/internal/model"
)

// FindContactsByEmails returns the contacts with these (normalised) addresses, with
// their channels and tags, keyed by address.
func (s *Store) FindContactsByEmails(ctx context.Context, emails []string) (map[string]*model.Contact, error) {
	out := make(map[string]*model.Contact, len(emails))
	for start := 0; start < len(emails); start += contactsChunk {
		chunk := emails[start:min(start+contactsChunk, len(emails))]
		var cs []model.Contact
		if err := s.r(ctx).Where("email IN ?", chunk).Find(&cs).Error; err != nil {
			return nil, wrap(err, "find contacts")
		}
		if err := s.attachChannelsAndTags(ctx, cs); err != nil {
			return nil, err
		}
		for i := range cs {
			out[cs[i].Email] = &cs[i]
		}
	}
	return out, nil
}

// ContactMerge is what an import adds to a contact of the directory.
type ContactMerge struct {
	Contact     *model.Contact // with the empty fields filled in
	Changed     bool           // whether a field of Contact changed
	AddTags     []string
	AddChannels []model.ContactChannel
}

// ImportContacts inserts new contacts with their channels and tags, and applies merges,
// by batches. Call it inside Tx so that an import is all or nothing.
func (s *Store) ImportContacts(ctx context.Context, creates []*model.Contact, merges []ContactMerge) error {
	db := s.w(ctx)
	for _, c := range creates {
		c.Email = model.NormalizeEmail(c.Email)
		c.RefreshSearch()
	}
	if len(creates) > 0 {
		if err := db.Omit(clause.Associations).CreateInBatches(creates, 300).Error; err != nil {
			return wrap(err, "import contacts")
		}
	}
	var chans []model.ContactChannel
	var tags []model.ContactTag
	for _, c := range creates {
		for _, ch := range c.Channels {
			ch.ID, ch.ContactID = 0, c.ID
			chans = append(chans, ch)
		}
		for _, t := range c.Tags {
			tags = append(tags, model.ContactTag{ContactID: c.ID, Tag: t})
		}
	}
	now := s.now()
	for _, m := range merges {
		if m.Changed {
			c := m.Contact
			c.RefreshSearch()
			err := db.Model(&model.Contact{}).Where("id = ?", c.ID).Updates(map[string]any{
				"first_name": c.FirstName, "last_name": c.LastName, "phone": c.Phone, "outlet": c.Outlet,
				"blog_url": c.BlogURL, "city": c.City, "country": c.Country, "lang": c.Lang, "audience": c.Audience,
				"notes": c.Notes, "search_text": c.SearchText, "sort_name": c.SortName, "updated_at": now,
			}).Error
			if err != nil {
				return wrap(err, "merge contact")
			}
		}
		for _, ch := range m.AddChannels {
			ch.ID, ch.ContactID = 0, m.Contact.ID
			chans = append(chans, ch)
		}
		for _, t := range m.AddTags {
			tags = append(tags, model.ContactTag{ContactID: m.Contact.ID, Tag: t})
		}
	}
	if len(chans) > 0 {
		if err := db.CreateInBatches(&chans, 500).Error; err != nil {
			return wrap(err, "import channels")
		}
	}
	if len(tags) > 0 {
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&tags, 500).Error; err != nil {
			return wrap(err, "import tags")
		}
	}
	return nil
}

// ContactImportUpload is a CSV file kept between its preview and its import.
type ContactImportUpload struct {
	Key       string `gorm:"primaryKey"`
	UserID    int64
	Filename  string
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// TableName is the table of m0003.
func (ContactImportUpload) TableName() string { return "contact_imports" }

// SaveContactImport keeps an uploaded file, and forgets the expired ones.
func (s *Store) SaveContactImport(ctx context.Context, u *ContactImportUpload) error {
	now := s.now()
	if err := s.w(ctx).Where("expires_at < ?", now).Delete(&ContactImportUpload{}).Error; err != nil {
		return wrap(err, "prune imports")
	}
	u.CreatedAt, u.ExpiresAt = now, dbTime(u.ExpiresAt)
	return wrap(s.w(ctx).Create(u).Error, "save import")
}

// FindContactImport returns a kept file of this user that has not expired, or ENotFound.
func (s *Store) FindContactImport(ctx context.Context, key string, userID int64) (*ContactImportUpload, error) {
	var u ContactImportUpload
	err := s.r(ctx).Where("key = ? AND user_id = ? AND expires_at >= ?", key, userID, s.now()).First(&u).Error
	return &u, wrap(err, "find import")
}

// DeleteContactImport forgets a kept file; ENotFound when it was gone already (so that,
// inside the import's transaction, a file is imported once).
func (s *Store) DeleteContactImport(ctx context.Context, key string) error {
	res := s.w(ctx).Where("key = ?", key).Delete(&ContactImportUpload{})
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "delete import")
}

// AnalyzeDirectory refreshes PostgreSQL's statistics of the directory's tables after a
// large import: until autovacuum comes by, the planner would otherwise believe the
// tables nearly empty and pick nested loops (a 20,000-contact list page went from
// ~250 ms to ~20 ms in our measurements). SQLite needs nothing.
func (s *Store) AnalyzeDirectory(ctx context.Context) error {
	if s.Driver != "postgres" {
		return nil
	}
	return wrap(s.w(ctx).Exec("ANALYZE contacts, contact_tags, contact_channels").Error, "analyze directory")
}
