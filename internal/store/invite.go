package store

import (
	"context"
	"strings"
	"time"

	"relais/internal/model"
)

// Invitation statuses, as stored.
const (
	InvitationPending  = "pending"
	InvitationSent     = "sent"
	InvitationAccepted = "accepted"
	InvitationDeclined = "declined"
	InvitationBounced  = "bounced"
	InvitationRevoked  = "revoked"
)

// InvitationStatuses lists every status in the order the organizer's page shows them.
var InvitationStatuses = []string{InvitationPending, InvitationSent, InvitationAccepted, InvitationDeclined,
	InvitationBounced, InvitationRevoked}

// ValidInvitationStatus reports whether s is a known invitation status.
func ValidInvitationStatus(s string) bool {
	for _, st := range InvitationStatuses {
		if st == s {
			return true
		}
	}
	return false
}

// CreateInvitation inserts an invitation. A second invitation of the same contact to
// the same event is a conflict (UNIQUE (event_id, contact_id)).
func (s *Store) CreateInvitation(ctx context.Context, inv *model.Invitation) error {
	return wrap(s.w(ctx).Create(inv).Error, "create invitation")
}

// FindInvitation returns an invitation by id.
func (s *Store) FindInvitation(ctx context.Context, id int64) (*model.Invitation, error) {
	var inv model.Invitation
	return &inv, wrap(s.r(ctx).First(&inv, id).Error, "find invitation")
}

// FindInvitationFor returns a contact's invitation to an event, or ENotFound.
func (s *Store) FindInvitationFor(ctx context.Context, eventID, contactID int64) (*model.Invitation, error) {
	var inv model.Invitation
	err := s.r(ctx).Where("event_id = ? AND contact_id = ?", eventID, contactID).First(&inv).Error
	return &inv, wrap(err, "find invitation")
}

// InvitedContactIDs returns which of the contacts already have an invitation to the event.
func (s *Store) InvitedContactIDs(ctx context.Context, eventID int64, contactIDs []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	for start := 0; start < len(contactIDs); start += contactsChunk {
		chunk := contactIDs[start:min(start+contactsChunk, len(contactIDs))]
		var ids []int64
		err := s.r(ctx).Model(&model.Invitation{}).Where("event_id = ? AND contact_id IN ?", eventID, chunk).
			Pluck("contact_id", &ids).Error
		if err != nil {
			return nil, wrap(err, "invited contacts")
		}
		for _, id := range ids {
			out[id] = true
		}
	}
	return out, nil
}

// MarkInvitationSent records that the invitation email was queued.
func (s *Store) MarkInvitationSent(ctx context.Context, id int64, at time.Time) error {
	err := s.w(ctx).Model(&model.Invitation{}).Where("id = ?", id).
		Updates(map[string]any{"status": InvitationSent, "sent_at": at, "updated_at": at}).Error
	return wrap(err, "mark invitation sent")
}

// MarkInvitationReminded records the one reminder of an invitation. It changes nothing
// and returns false when the invitation was answered, revoked or reminded meanwhile, so
// that two organizers pressing "remind" at once send one reminder.
func (s *Store) MarkInvitationReminded(ctx context.Context, id int64, at time.Time) (bool, error) {
	res := s.w(ctx).Model(&model.Invitation{}).
		Where("id = ? AND status = ? AND reminded_at IS NULL AND responded_at IS NULL", id, InvitationSent).
		Updates(map[string]any{"reminded_at": at, "updated_at": at})
	return res.RowsAffected == 1, wrap(res.Error, "mark invitation reminded")
}

// SetInvitationStatus moves an invitation to a status (revoked, bounced) without
// touching its answer.
func (s *Store) SetInvitationStatus(ctx context.Context, id int64, status string, at time.Time) error {
	res := s.w(ctx).Model(&model.Invitation{}).Where("id = ?", id).
		Updates(map[string]any{"status": status, "updated_at": at})
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "set invitation status")
}

// RemindableInvitations returns an event's invitations that may get their one
// reminder: sent before sentBefore, unanswered and never reminded.
func (s *Store) RemindableInvitations(ctx context.Context, eventID int64, sentBefore time.Time) ([]model.Invitation, error) {
	var out []model.Invitation
	err := s.r(ctx).Where("event_id = ? AND status = ? AND responded_at IS NULL AND reminded_at IS NULL AND sent_at IS NOT NULL AND sent_at <= ?",
		eventID, InvitationSent, sentBefore).Order("id").Find(&out).Error
	return out, wrap(err, "remindable invitations")
}

// InvitationRow is an invitation with its contact, for the organizer's list and the API.
type InvitationRow struct {
	model.Invitation
	Email          string
	FirstName      string
	LastName       string
	Outlet         string
	UnsubscribedAt *time.Time
}

// Name is the invited person's full name.
func (r *InvitationRow) Name() string { return strings.TrimSpace(r.FirstName + " " + r.LastName) }

// ListInvitations returns an event's invitations joined with their contacts, by name;
// status "" means every status.
func (s *Store) ListInvitations(ctx context.Context, eventID int64, status string) ([]InvitationRow, error) {
	q := s.r(ctx).Table("invitations i").Joins("JOIN contacts c ON c.id = i.contact_id").Where("i.event_id = ?", eventID)
	if status != "" {
		q = q.Where("i.status = ?", status)
	}
	var rows []InvitationRow
	err := q.Select("i.*, c.email, c.first_name, c.last_name, c.outlet, c.unsubscribed_at").
		Order("c.last_name, c.first_name, i.id").Scan(&rows).Error
	return rows, wrap(err, "list invitations")
}

// CountInvitations counts an event's invitations by status; every status is present.
func (s *Store) CountInvitations(ctx context.Context, eventID int64) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.r(ctx).Model(&model.Invitation{}).Select("status, COUNT(*) AS n").
		Where("event_id = ?", eventID).Group("status").Scan(&rows).Error
	out := make(map[string]int64, len(InvitationStatuses))
	for _, st := range InvitationStatuses {
		out[st] = 0
	}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, wrap(err, "count invitations")
}

// TaggedContactIDs returns the contacts carrying a tag (compared without case), erased
// ones excluded, in id order.
func (s *Store) TaggedContactIDs(ctx context.Context, tag string) ([]int64, error) {
	var ids []int64
	err := s.r(ctx).Table("contact_tags t").Joins("JOIN contacts c ON c.id = t.contact_id").
		// SQLite's LOWER leaves non-ASCII letters alone ("Économie"): match the tag as typed too.
		Where("(t.tag = ? OR LOWER(t.tag) = ?) AND c.erased_at IS NULL", strings.TrimSpace(tag), strings.ToLower(strings.TrimSpace(tag))).
		Order("c.id").Distinct().Pluck("c.id", &ids).Error
	return ids, wrap(err, "tagged contacts")
}

// InvitationTags returns every tag of the directory with its number of contacts, for
// the "invite a tag" choice.
func (s *Store) InvitationTags(ctx context.Context) ([]TagCount, error) {
	var out []TagCount
	err := s.r(ctx).Table("contact_tags t").Joins("JOIN contacts c ON c.id = t.contact_id").
		Where("c.erased_at IS NULL").Select("t.tag AS tag, COUNT(*) AS n").Group("t.tag").Order("t.tag").
		Scan(&out).Error
	return out, wrap(err, "invitation tags")
}

// TagCount is a tag and how many contacts carry it.
type TagCount struct {
	Tag string
	N   int64
}

// FindContactByUnsubscribeToken returns the contact whose unsubscribe token is tok.
func (s *Store) FindContactByUnsubscribeToken(ctx context.Context, tok string) (*model.Contact, error) {
	var c model.Contact
	return &c, wrap(s.r(ctx).Where("unsubscribe_token = ?", tok).First(&c).Error, "find contact")
}

// SetUnsubscribeToken gives a contact that has none its unsubscribe token.
func (s *Store) SetUnsubscribeToken(ctx context.Context, contactID int64, tok string) error {
	err := s.w(ctx).Model(&model.Contact{}).Where("id = ? AND unsubscribe_token = ''", contactID).
		Update("unsubscribe_token", tok).Error
	return wrap(err, "set unsubscribe token")
}

// MarkContactUnsubscribed records that a contact wants no more outreach. It returns
// false when the contact had already unsubscribed (the first date is kept).
func (s *Store) MarkContactUnsubscribed(ctx context.Context, contactID int64, at time.Time) (bool, error) {
	res := s.w(ctx).Model(&model.Contact{}).Where("id = ? AND unsubscribed_at IS NULL", contactID).
		Updates(map[string]any{"unsubscribed_at": at, "updated_at": at})
	return res.RowsAffected == 1, wrap(res.Error, "unsubscribe contact")
}

// CancelQueuedMail cancels a contact's messages of the given kinds that have not left
// yet (status queued), and returns how many.
func (s *Store) CancelQueuedMail(ctx context.Context, contactID int64, kinds []string) (int64, error) {
	res := s.w(ctx).Model(&model.Message{}).
		Where("contact_id = ? AND status = ? AND kind IN ?", contactID, model.MessageQueued, kinds).
		Update("status", model.MessageCancelled)
	return res.RowsAffected, wrap(res.Error, "cancel queued mail")
}

// CancelQueuedEventMail cancels an event's messages of these kinds that have not left
// yet: all of them, or with contactID set only that person's (a reminder queued before a
// cancellation or a change of date must not go). It returns how many.
func (s *Store) CancelQueuedEventMail(ctx context.Context, eventID int64, contactID *int64, kinds []string) (int64, error) {
	q := s.w(ctx).Model(&model.Message{}).Where("event_id = ? AND status = ? AND kind IN ?", eventID, model.MessageQueued, kinds)
	if contactID != nil {
		q = q.Where("contact_id = ?", *contactID)
	}
	res := q.Update("status", model.MessageCancelled)
	return res.RowsAffected, wrap(res.Error, "cancel queued event mail")
}

// CancelQueuedMailByKey cancels the messages with these idempotency keys that have not
// left yet, and returns how many.
func (s *Store) CancelQueuedMailByKey(ctx context.Context, keys []string) (int64, error) {
	res := s.w(ctx).Model(&model.Message{}).Where("idempotency_key IN ? AND status = ?", keys, model.MessageQueued).
		Update("status", model.MessageCancelled)
	return res.RowsAffected, wrap(res.Error, "cancel queued mail")
}
