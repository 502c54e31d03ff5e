package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"relais/internal/model"
)

// CreateCampaign inserts a campaign.
func (s *Store) CreateCampaign(ctx context.Context, c *model.Campaign) error {
	return wrap(s.w(ctx).Create(c).Error, "create campaign")
}

// UpdateCampaign saves what an organizer may change in a campaign that has not started
// sending; a campaign that has is an EConflict.
func (s *Store) UpdateCampaign(ctx context.Context, c *model.Campaign) error {
	res := s.w(ctx).Model(&model.Campaign{}).
		Where("id = ? AND status IN ?", c.ID, []model.CampaignStatus{model.CampaignDraft, model.CampaignScheduled}).
		Updates(map[string]any{"segment": c.Segment, "subject": c.Subject, "body": c.Body,
			"attach_press_kit": c.AttachPressKit, "updated_at": s.now()})
	if res.Error != nil {
		return wrap(res.Error, "update campaign")
	}
	if res.RowsAffected == 0 {
		return model.Errorf(model.EConflict, "campaign.error.not_editable")
	}
	return nil
}

// DeleteCampaign removes a campaign that has not started sending.
func (s *Store) DeleteCampaign(ctx context.Context, id int64) error {
	res := s.w(ctx).Where("id = ? AND status IN ?", id, []model.CampaignStatus{model.CampaignDraft, model.CampaignScheduled}).
		Delete(&model.Campaign{})
	if res.Error != nil {
		return wrap(res.Error, "delete campaign")
	}
	if res.RowsAffected == 0 {
		return model.Errorf(model.EConflict, "campaign.error.not_editable")
	}
	return nil
}

// FindCampaign returns a campaign by id, or ENotFound.
func (s *Store) FindCampaign(ctx context.Context, id int64) (*model.Campaign, error) {
	var c model.Campaign
	return &c, wrap(s.r(ctx).First(&c, id).Error, "find campaign")
}

// ListCampaigns returns an event's campaigns, newest first.
func (s *Store) ListCampaigns(ctx context.Context, eventID int64) ([]model.Campaign, error) {
	var out []model.Campaign
	err := s.r(ctx).Where("event_id = ?", eventID).Order("created_at DESC, id DESC").Find(&out).Error
	return out, wrap(err, "list campaigns")
}

// ClaimCampaign starts sending a campaign that is in one of from: it becomes "sending",
// held by the caller until until. It returns false when the campaign was not in one of
// from (another instance, or a second click, took it first): one conditional UPDATE, so
// that exactly one claimer wins.
func (s *Store) ClaimCampaign(ctx context.Context, id int64, from []model.CampaignStatus, until time.Time) (bool, error) {
	now := s.now()
	res := s.w(ctx).Model(&model.Campaign{}).Where("id = ? AND status IN ?", id, from).
		Updates(map[string]any{"status": model.CampaignSending, "claimed_until": dbTime(until), "updated_at": now})
	return res.RowsAffected == 1, wrap(res.Error, "claim campaign")
}

// ClaimDueCampaign claims a scheduled campaign whose time has come, or a campaign left
// "sending" by a process whose lease ran out (it crashed while queuing).
func (s *Store) ClaimDueCampaign(ctx context.Context, id int64, until time.Time) (bool, error) {
	now := s.now()
	res := s.w(ctx).Model(&model.Campaign{}).
		Where("id = ? AND ((status = ? AND scheduled_at <= ?) OR (status = ? AND (claimed_until IS NULL OR claimed_until < ?)))",
			id, model.CampaignScheduled, now, model.CampaignSending, now).
		Updates(map[string]any{"status": model.CampaignSending, "claimed_until": dbTime(until), "updated_at": now})
	return res.RowsAffected == 1, wrap(res.Error, "claim due campaign")
}

// DueCampaigns returns up to limit campaigns that ClaimDueCampaign may take now.
func (s *Store) DueCampaigns(ctx context.Context, limit int) ([]int64, error) {
	now := s.now()
	var ids []int64
	err := s.r(ctx).Model(&model.Campaign{}).
		Where("(status = ? AND scheduled_at <= ?) OR (status = ? AND (claimed_until IS NULL OR claimed_until < ?))",
			model.CampaignScheduled, now, model.CampaignSending, now).
		Order("id").Limit(limit).Pluck("id", &ids).Error
	return ids, wrap(err, "due campaigns")
}

// ExtendCampaignClaim keeps the caller's hold on a campaign it is sending.
func (s *Store) ExtendCampaignClaim(ctx context.Context, id int64, until time.Time) error {
	err := s.w(ctx).Model(&model.Campaign{}).Where("id = ? AND status = ?", id, model.CampaignSending).
		Update("claimed_until", dbTime(until)).Error
	return wrap(err, "extend campaign claim")
}

// MarkCampaignSent records that every message of the campaign is in the outbox.
func (s *Store) MarkCampaignSent(ctx context.Context, id int64, at time.Time) error {
	err := s.w(ctx).Model(&model.Campaign{}).Where("id = ? AND status = ?", id, model.CampaignSending).
		Updates(map[string]any{"status": model.CampaignSent, "sent_at": dbTime(at), "claimed_until": nil, "updated_at": s.now()}).Error
	return wrap(err, "mark campaign sent")
}

// ScheduleCampaign sets (or moves) the time at which a campaign not yet sending goes out.
func (s *Store) ScheduleCampaign(ctx context.Context, id int64, at time.Time) error {
	res := s.w(ctx).Model(&model.Campaign{}).
		Where("id = ? AND status IN ?", id, []model.CampaignStatus{model.CampaignDraft, model.CampaignScheduled}).
		Updates(map[string]any{"status": model.CampaignScheduled, "scheduled_at": dbTime(at), "updated_at": s.now()})
	if res.Error == nil && res.RowsAffected == 0 {
		return model.Errorf(model.EConflict, "campaign.error.not_editable")
	}
	return wrap(res.Error, "schedule campaign")
}

// UnscheduleCampaign takes a scheduled campaign back to draft.
func (s *Store) UnscheduleCampaign(ctx context.Context, id int64) error {
	res := s.w(ctx).Model(&model.Campaign{}).Where("id = ? AND status = ?", id, model.CampaignScheduled).
		Updates(map[string]any{"status": model.CampaignDraft, "scheduled_at": nil, "updated_at": s.now()})
	if res.Error == nil && res.RowsAffected == 0 {
		return model.Errorf(model.EConflict, "campaign.error.not_scheduled")
	}
	return wrap(res.Error, "unschedule campaign")
}

// CountCampaignMessages counts a campaign's messages in the outbox by status. Test sends
// carry no campaign id and are not counted.
func (s *Store) CountCampaignMessages(ctx context.Context, campaignID int64) (map[model.MessageStatus]int64, error) {
	var rows []struct {
		Status model.MessageStatus
		N      int64
	}
	err := s.r(ctx).Model(&model.Message{}).Select("status, COUNT(*) AS n").Where("campaign_id = ?", campaignID).
		Group("status").Scan(&rows).Error
	out := make(map[model.MessageStatus]int64, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, wrap(err, "count campaign messages")
}

// CampaignFailures returns a campaign's failed messages (recipient and the server's
// answer), at most limit.
func (s *Store) CampaignFailures(ctx context.Context, campaignID int64, limit int) ([]model.Message, error) {
	var out []model.Message
	err := s.r(ctx).Model(&model.Message{}).Select("id, to_email, to_name, last_error, attempts, contact_id").
		Where("campaign_id = ? AND status = ?", campaignID, model.MessageFailed).Order("id").Limit(limit).Find(&out).Error
	return out, wrap(err, "campaign failures")
}

// CampaignRecipient is one person of a segment, with what the placeholders need: the
// registration's ticket page token or the invitation's token, and the languages.
type CampaignRecipient struct {
	ContactID        int64
	Email            string
	FirstName        string
	LastName         string
	ContactLang      string
	UnsubscribeToken string
	RegistrationID   *int64
	ManageToken      *string
	RegLang          *string
	InvitationToken  *string
}

// Name is the recipient's full name.
func (r *CampaignRecipient) Name() string {
	c := model.Contact{FirstName: r.FirstName, LastName: r.LastName}
	return c.Name()
}

// RecipientFilter narrows SegmentRecipients.
type RecipientFilter struct {
	AfterContactID int64 // keyset pagination: contacts with a greater id
	ContactID      int64 // only this contact (a chosen preview recipient)
	Limit          int   // 0: no limit
	Unqueued       int64 // only contacts without a message of this campaign yet
}

var activeStatuses = []model.RegistrationStatus{model.RegConfirmed, model.RegWaitlisted, model.RegPending}

// WalkInEmailDomain is the reserved domain of the placeholder address a walk-in who left
// no email gets (app.WalkIn): no message is ever queued to it.
const WalkInEmailDomain = "walkin.invalid"

// walkInEmailLike matches (with LOWER(email) LIKE) the walk-ins' placeholder addresses.
const walkInEmailLike = "%@" + WalkInEmailDomain

// segmentQuery selects the people of a segment of the event: contact_id, and the
// registration (id, manage_token, lang) or the invitation (token) the placeholders need.
// Every segment leaves out contacts who unsubscribed or were erased, and walk-ins known
// by a placeholder address only; each contact appears once (registrations and
// invitations are unique per event and contact).
//
// The exclusions are NOT IN subqueries, which PostgreSQL runs as one hashed set, and the
// contacts are read afterwards by primary key: a join with contacts may be planned as a
// nested loop over the whole table when the statistics are stale (right after an import),
// which made a 10,000-recipient campaign take minutes.
func segmentQuery(q *gorm.DB, eventID int64, seg model.Segment) (*gorm.DB, error) {
	excluded := q.Session(&gorm.Session{NewDB: true}).Table("contacts").
		Where("unsubscribed_at IS NOT NULL OR erased_at IS NOT NULL OR LOWER(email) LIKE ?", walkInEmailLike).Select("id")
	switch seg {
	case model.SegAttended, model.SegNoShow, model.SegRegistered, model.SegWaitlisted:
		q = q.Table("registrations r").Where("r.event_id = ? AND r.contact_id NOT IN (?)", eventID, excluded).
			Select("r.contact_id AS contact_id, r.id AS registration_id, r.manage_token, r.lang AS reg_lang, NULL AS invitation_token")
		switch seg {
		case model.SegAttended:
			q = q.Where("r.status = ? AND r.checked_in_at IS NOT NULL", model.RegConfirmed)
		case model.SegNoShow:
			q = q.Where("r.status = ? AND r.checked_in_at IS NULL", model.RegConfirmed)
		case model.SegRegistered:
			q = q.Where("r.status = ?", model.RegConfirmed)
		case model.SegWaitlisted:
			q = q.Where("r.status = ?", model.RegWaitlisted)
		}
		return q, nil
	case model.SegInvitedNoReply, model.SegDeclined:
		// Someone who registered anyway (through the public form) has answered.
		registered := q.Session(&gorm.Session{NewDB: true}).Table("registrations").
			Where("event_id = ? AND status IN ?", eventID, activeStatuses).Select("contact_id")
		q = q.Table("invitations r").Where("r.event_id = ? AND r.contact_id NOT IN (?) AND r.contact_id NOT IN (?)",
			eventID, excluded, registered).
			Select("r.contact_id AS contact_id, NULL AS registration_id, NULL AS manage_token, NULL AS reg_lang, r.token AS invitation_token")
		if seg == model.SegDeclined {
			return q.Where("r.status = ?", InvitationDeclined), nil
		}
		return q.Where("r.status IN ? AND r.responded_at IS NULL", []string{InvitationPending, InvitationSent}), nil
	}
	return nil, model.FieldErrors(map[string]string{"segment": "error.choice"})
}

// SegmentRecipients returns the people of a segment of the event, by contact id.
func (s *Store) SegmentRecipients(ctx context.Context, eventID int64, seg model.Segment, f RecipientFilter) ([]CampaignRecipient, error) {
	q, err := segmentQuery(s.r(ctx), eventID, seg)
	if err != nil {
		return nil, err
	}
	if f.Unqueued > 0 {
		q = q.Where("r.contact_id NOT IN (SELECT contact_id FROM messages WHERE campaign_id = ? AND contact_id IS NOT NULL)", f.Unqueued)
	}
	if f.AfterContactID > 0 {
		q = q.Where("r.contact_id > ?", f.AfterContactID)
	}
	if f.ContactID > 0 {
		q = q.Where("r.contact_id = ?", f.ContactID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []CampaignRecipient
	if err := q.Order("r.contact_id").Scan(&out).Error; err != nil {
		return nil, wrap(err, "segment recipients")
	}
	ids := make([]int64, len(out))
	for i := range out {
		ids[i] = out[i].ContactID
	}
	contacts := make(map[int64]model.Contact, len(ids))
	for start := 0; start < len(ids); start += contactsChunk {
		var cs []model.Contact
		err := s.r(ctx).Select("id, email, first_name, last_name, lang, unsubscribe_token").
			Where("id IN ?", ids[start:min(start+contactsChunk, len(ids))]).Find(&cs).Error
		if err != nil {
			return nil, wrap(err, "segment contacts")
		}
		for _, c := range cs {
			contacts[c.ID] = c
		}
	}
	for i := range out {
		c := contacts[out[i].ContactID]
		out[i].Email, out[i].FirstName, out[i].LastName = c.Email, c.FirstName, c.LastName
		out[i].ContactLang, out[i].UnsubscribeToken = c.Lang, c.UnsubscribeToken
	}
	return out, nil
}

// CountSegment counts the people of a segment of the event.
func (s *Store) CountSegment(ctx context.Context, eventID int64, seg model.Segment) (int64, error) {
	q, err := segmentQuery(s.r(ctx), eventID, seg)
	if err != nil {
		return 0, err
	}
	var n int64
	return n, wrap(q.Select("COUNT(*)").Scan(&n).Error, "count segment")
}

// CountSegments counts every segment of the event.
func (s *Store) CountSegments(ctx context.Context, eventID int64) (map[model.Segment]int64, error) {
	out := make(map[model.Segment]int64, len(model.Segments))
	for _, seg := range model.Segments {
		n, err := s.CountSegment(ctx, eventID, seg)
		if err != nil {
			return nil, err
		}
		out[seg] = n
	}
	return out, nil
}

// EventReminderOffsets returns an event's reminder offsets as stored ("24h,morning").
func (s *Store) EventReminderOffsets(ctx context.Context, eventID int64) (string, error) {
	var v []string
	err := s.r(ctx).Table("events").Where("id = ?", eventID).Pluck("reminder_offsets", &v).Error
	if err == nil && len(v) == 0 {
		return "", model.ErrNotFound
	}
	if err != nil {
		return "", wrap(err, "event reminder offsets")
	}
	return v[0], nil
}

// SetEventReminderOffsets stores an event's reminder offsets ("" for none). The column
// is not part of model.Event, so that saving an event never resets it.
func (s *Store) SetEventReminderOffsets(ctx context.Context, eventID int64, offsets string) error {
	res := s.w(ctx).Table("events").Where("id = ?", eventID).Update("reminder_offsets", offsets)
	if res.Error == nil && res.RowsAffected == 0 {
		return model.ErrNotFound
	}
	return wrap(res.Error, "set reminder offsets")
}

// EventWithOffsets is an event and its reminder offsets.
type EventWithOffsets struct {
	model.Event
	ReminderOffsets string
}

// EventsStartingBetween returns the events of a status that start in (from, to], by start.
func (s *Store) EventsStartingBetween(ctx context.Context, status model.EventStatus, from, to time.Time, limit int) ([]EventWithOffsets, error) {
	var out []EventWithOffsets
	err := s.r(ctx).Table("events").Where("status = ? AND starts_at > ? AND starts_at <= ?", status, dbTime(from), dbTime(to)).
		Order("starts_at, id").Limit(limit).Scan(&out).Error
	return out, wrap(err, "events starting between")
}

// MissingMessageFilter selects an event's registrations that have no message of the
// event, of kind Kind, with the key KeyPrefix + registration id + KeySuffix yet: the
// notices and reminders still due.
type MissingMessageFilter struct {
	EventID         int64
	Kind            string
	Statuses        []model.RegistrationStatus
	KeyPrefix       string
	KeySuffix       string
	ConfirmedBefore *time.Time // only registrations confirmed (or created) at or before
	Limit           int
}

// RegistrationsWithoutMessage returns the registrations of f, by id, leaving out erased
// contacts and walk-ins known by a placeholder address only.
func (s *Store) RegistrationsWithoutMessage(ctx context.Context, f MissingMessageFilter) ([]model.Registration, error) {
	// NOT IN subqueries (one hashed set each) rather than joins, which a planner with
	// stale statistics may run row by row (see segmentQuery).
	q := s.r(ctx).Table("registrations r").
		Where("r.event_id = ? AND r.status IN ?", f.EventID, f.Statuses).
		Where("r.contact_id NOT IN (SELECT id FROM contacts WHERE erased_at IS NOT NULL OR LOWER(email) LIKE ?)", walkInEmailLike).
		Where("CAST(? AS TEXT) || CAST(r.id AS TEXT) || CAST(? AS TEXT) NOT IN (SELECT idempotency_key FROM messages WHERE event_id = ? AND kind = ?)",
			f.KeyPrefix, f.KeySuffix, f.EventID, f.Kind)
	if f.ConfirmedBefore != nil {
		q = q.Where("COALESCE(r.confirmed_at, r.created_at) <= ?", dbTime(*f.ConfirmedBefore))
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []model.Registration
	err := q.Select("r.*").Order("r.id").Scan(&out).Error
	return out, wrap(err, "registrations without message")
}

// CountActiveRegistrations counts an event's registrations in the given statuses.
func (s *Store) CountActiveRegistrations(ctx context.Context, eventID int64, statuses []model.RegistrationStatus) (int64, error) {
	var n int64
	err := s.r(ctx).Model(&model.Registration{}).Where("event_id = ? AND status IN ?", eventID, statuses).Count(&n).Error
	return n, wrap(err, "count registrations")
}

// ReleaseCampaignToDraft takes a campaign the caller claimed back to draft, unsent.
func (s *Store) ReleaseCampaignToDraft(ctx context.Context, id int64) error {
	err := s.w(ctx).Model(&model.Campaign{}).Where("id = ? AND status = ?", id, model.CampaignSending).
		Updates(map[string]any{"status": model.CampaignDraft, "scheduled_at": nil, "claimed_until": nil, "updated_at": s.now()}).Error
	return wrap(err, "release campaign")
}

// RefuseDueCampaign takes a campaign the caller claimed back to draft, unsent, keeping
// why (a message key, model.CampaignFailure*) and when, for its page.
func (s *Store) RefuseDueCampaign(ctx context.Context, id int64, reason string, at time.Time) error {
	err := s.w(ctx).Model(&model.Campaign{}).Where("id = ? AND status = ?", id, model.CampaignSending).
		Updates(map[string]any{"status": model.CampaignDraft, "scheduled_at": nil, "claimed_until": nil,
			"last_error": reason, "last_error_at": dbTime(at), "updated_at": s.now()}).Error
	return wrap(err, "refuse campaign")
}

// ClearCampaignError forgets why a campaign was last refused (it is scheduled or sent again).
func (s *Store) ClearCampaignError(ctx context.Context, id int64) error {
	err := s.w(ctx).Model(&model.Campaign{}).Where("id = ? AND last_error <> ''", id).
		Updates(map[string]any{"last_error": "", "last_error_at": nil}).Error
	return wrap(err, "clear campaign error")
}
