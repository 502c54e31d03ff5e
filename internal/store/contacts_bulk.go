package store

import (
	"context"

	"relais/internal/model"
)

// contactsChunk keeps IN lists well under the bound-parameter limits of both databases.
const contactsChunk = 500

// FindContacts returns contacts by id with their channels (not their tags), keyed by id,
// for lists and exports that would otherwise read them one at a time.
func (s *Store) FindContacts(ctx context.Context, ids []int64) (map[int64]*model.Contact, error) {
	out := make(map[int64]*model.Contact, len(ids))
	for start := 0; start < len(ids); start += contactsChunk {
		chunk := ids[start:min(start+contactsChunk, len(ids))]
		var cs []model.Contact
		if err := s.r(ctx).Where("id IN ?", chunk).Find(&cs).Error; err != nil {
			return nil, wrap(err, "find contacts")
		}
		for i := range cs {
			out[cs[i].ID] = &cs[i]
		}
		var chans []model.ContactChannel
		if err := s.r(ctx).Where("contact_id IN ?", chunk).Order("contact_id, id").Find(&chans).Error; err != nil {
			return nil, wrap(err, "contact channels")
		}
		for _, ch := range chans {
			if c := out[ch.ContactID]; c != nil {
				c.Channels = append(c.Channels, ch)
			}
		}
	}
	return out, nil
}
