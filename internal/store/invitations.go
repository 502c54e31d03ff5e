package store

import (
	"context"
	"time"

	"relais/internal/model"
)

// ContactInvitation is an invitation with the event it is for, for a contact's history.
type ContactInvitation struct {
	model.Invitation
	EventTitle    string
	EventSlug     string
	EventStartsAt time.Time
	EventTimezone string
}

// ListInvitationsForContact returns every invitation of a contact, the latest event first.
func (s *Store) ListInvitationsForContact(ctx context.Context, contactID int64) ([]ContactInvitation, error) {
	var out []ContactInvitation
	err := s.r(ctx).Table("invitations i").
		Select("i.*, e.title AS event_title, e.slug AS event_slug, e.starts_at AS event_starts_at, e.timezone AS event_timezone").
		Joins("JOIN events e ON e.id = i.event_id").
		Where("i.contact_id = ?", contactID).
		Order("e.starts_at DESC, i.id DESC").
		Scan(&out).Error
	return out, wrap(err, "list contact invitations")
}
