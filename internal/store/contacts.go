package store

import (
	"context"

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
