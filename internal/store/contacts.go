package store

import (
	"context"

	"gorm.io/gorm/clause"

	"relais/internal/model"
)

// FindContactByEmail returns the contact with that normalised email, or ENotFound.
func (s *Store) FindContactByEmail(ctx context.Context, email string) (*model.Contact, error) {
	var c model.Contact
	err := s.r(ctx).Where("email = ?", model.NormalizeEmail(email)).First(&c).Error
	return &c, wrap(err, "find contact")
}

// FindContact returns a contact by id with its channels and tags.
func (s *Store) FindContact(ctx context.Context, id int64) (*model.Contact, error) {
	var c model.Contact
	if err := s.r(ctx).First(&c, id).Error; err != nil {
		return nil, wrap(err, "find contact")
	}
	if err := s.r(ctx).Where("contact_id = ?", id).Order("id").Find(&c.Channels).Error; err != nil {
		return nil, wrap(err, "contact channels")
	}
	var tags []model.ContactTag
	if err := s.r(ctx).Where("contact_id = ?", id).Order("tag").Find(&tags).Error; err != nil {
		return nil, wrap(err, "contact tags")
	}
	for _, t := range tags {
		c.Tags = append(c.Tags, t.Tag)
	}
	return &c, nil
}

// CreateContact inserts a contact with its channels and tags.
func (s *Store) CreateContact(ctx context.Context, c *model.Contact) error {
	c.Email = model.NormalizeEmail(c.Email)
	c.RefreshSearch()
	if err := s.w(ctx).Create(c).Error; err != nil {
		return wrap(err, "create contact")
	}
	return s.replaceChannelsAndTags(ctx, c)
}

// CreateContactIfNew inserts a new contact with its channels and tags unless one with
// that email exists already, and says whether it did. It is one statement when the
// contact has no channels or tags: registrations of new people hold the single SQLite
// writer for as little as possible. (On PostgreSQL ON CONFLICT keeps the transaction
// usable, where a failed INSERT would abort it.)
func (s *Store) CreateContactIfNew(ctx context.Context, c *model.Contact) (bool, error) {
	c.Email = model.NormalizeEmail(c.Email)
	c.RefreshSearch()
	res := s.w(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "email"}}, DoNothing: true}).Create(c)
	if res.Error != nil {
		return false, wrap(res.Error, "create contact")
	}
	if res.RowsAffected == 0 {
		c.ID = 0
		return false, nil
	}
	for i := range c.Channels {
		c.Channels[i].ID = 0
		c.Channels[i].ContactID = c.ID
	}
	if len(c.Channels) > 0 {
		if err := s.w(ctx).Create(&c.Channels).Error; err != nil {
			return false, wrap(err, "create channels")
		}
	}
	seen := map[string]bool{}
	var tags []model.ContactTag
	for _, t := range c.Tags {
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, model.ContactTag{ContactID: c.ID, Tag: t})
		}
	}
	if len(tags) > 0 {
		if err := s.w(ctx).Create(&tags).Error; err != nil {
			return false, wrap(err, "create tags")
		}
	}
	return true, nil
}

// UpdateContact saves a contact and replaces its channels and tags.
func (s *Store) UpdateContact(ctx context.Context, c *model.Contact) error {
	c.Email = model.NormalizeEmail(c.Email)
	c.RefreshSearch()
	if err := s.w(ctx).Save(c).Error; err != nil {
		return wrap(err, "update contact")
	}
	return s.replaceChannelsAndTags(ctx, c)
}

func (s *Store) replaceChannelsAndTags(ctx context.Context, c *model.Contact) error {
	return s.Tx(ctx, func(tx *Store) error {
		if err := tx.db.Where("contact_id = ?", c.ID).Delete(&model.ContactChannel{}).Error; err != nil {
			return wrap(err, "replace channels")
		}
		for i := range c.Channels {
			c.Channels[i].ID = 0
			c.Channels[i].ContactID = c.ID
		}
		if len(c.Channels) > 0 {
			if err := tx.db.Create(&c.Channels).Error; err != nil {
				return wrap(err, "replace channels")
			}
		}
		if err := tx.db.Where("contact_id = ?", c.ID).Delete(&model.ContactTag{}).Error; err != nil {
			return wrap(err, "replace tags")
		}
		seen := map[string]bool{}
		var tags []model.ContactTag
		for _, t := range c.Tags {
			if t != "" && !seen[t] {
				seen[t] = true
				tags = append(tags, model.ContactTag{ContactID: c.ID, Tag: t})
			}
		}
		if len(tags) > 0 {
			return wrap(tx.db.Create(&tags).Error, "replace tags")
		}
		return nil
	})
}
