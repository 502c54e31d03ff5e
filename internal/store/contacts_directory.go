package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"relais/internal/model"
)

// Contact history filters of the directory.
const (
	HistoryAttended      = "attended"        // checked in at a session at least once
	HistoryInvitedNoShow = "invited_no_show" // invited at least once, never checked in anywhere
	HistoryNeverInvited  = "never_invited"
	HistoryUnsubscribed  = "unsubscribed"
)

// ContactHistories lists the history filters in display order.
var ContactHistories = []string{HistoryAttended, HistoryInvitedNoShow, HistoryNeverInvited, HistoryUnsubscribed}

// Contact sorts of the directory.
const (
	SortName     = "name"
	SortCreated  = "created"
	SortAudience = "audience"
)

// ContactFilter narrows ListContacts. Zero fields do not filter. Erased contacts are
// never listed.
type ContactFilter struct {
	Query    string // words found in names, email, outlet, city, blog or channel handles
	Tag      string
	City     string // case-insensitive equality
	Platform string
	Lang     string
	History  string
	IDs      []int64 // only these contacts
	Sort     string  // SortName (default), SortCreated (newest first), SortAudience (largest first)
	Limit    int     // 0: every match
	Offset   int
}

// contactsWhere applies the filter to a query on "contacts c". Every condition is a
// plain predicate or an IN sub-query, so that the database reads each side table once
// instead of once per contact.
func contactsWhere(q *gorm.DB, f ContactFilter) *gorm.DB {
	q = q.Where("c.erased_at IS NULL")
	for _, term := range strings.Fields(model.FoldText(f.Query)) {
		q = q.Where("c.search_text LIKE ? ESCAPE '!'", "%"+likeEscape(term)+"%")
	}
	if f.Tag != "" {
		// Without case, as TaggedContactIDs (invitations by tag) compares them; the exact
		// form as well, since SQLite's LOWER leaves "É" alone.
		tag := strings.TrimSpace(f.Tag)
		q = q.Where("c.id IN (SELECT contact_id FROM contact_tags WHERE tag = ? OR LOWER(tag) = ?)", tag, strings.ToLower(tag))
	}
	if city := strings.TrimSpace(f.City); city != "" {
		// The exact form too: SQLite's LOWER leaves "É" alone ("SOKODÉ").
		q = q.Where("(c.city = ? OR LOWER(c.city) = ?)", city, strings.ToLower(city))
	}
	if f.Platform != "" {
		q = q.Where("c.id IN (SELECT contact_id FROM contact_channels WHERE platform = ?)", f.Platform)
	}
	if f.Lang != "" {
		q = q.Where("c.lang = ?", f.Lang)
	}
	if f.IDs != nil {
		q = q.Where("c.id IN ?", append([]int64{0}, f.IDs...))
	}
	const attended = "SELECT contact_id FROM registrations WHERE checked_in_at IS NOT NULL"
	switch f.History {
	case HistoryAttended:
		q = q.Where("c.id IN (" + attended + ")")
	case HistoryInvitedNoShow:
		q = q.Where("c.id IN (SELECT contact_id FROM invitations)").Where("c.id NOT IN (" + attended + ")")
	case HistoryNeverInvited:
		q = q.Where("c.id NOT IN (SELECT contact_id FROM invitations)")
	case HistoryUnsubscribed:
		q = q.Where("c.unsubscribed_at IS NOT NULL")
	}
	return q
}

func contactsOrder(sort string) string {
	switch sort {
	case SortCreated:
		return "c.created_at DESC, c.id DESC"
	case SortAudience:
		return "c.audience DESC, c.id DESC"
	}
	return "c.sort_name, c.id"
}

// likeEscape protects LIKE wildcards with "!" (the ESCAPE character used above), so
// that a handle such as "kafui_adjo" is searched as written.
func likeEscape(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// ListContacts returns a page of the directory with each contact's channels and tags,
// and how many contacts match in all: one count, one page query, then one query for the
// page's channels and one for its tags.
func (s *Store) ListContacts(ctx context.Context, f ContactFilter) ([]model.Contact, int64, error) {
	var total int64
	if err := contactsWhere(s.r(ctx).Table("contacts c"), f).Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count contacts")
	}
	q := contactsWhere(s.r(ctx).Table("contacts c"), f).Select("c.*").Order(contactsOrder(f.Sort))
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	var cs []model.Contact
	if err := q.Find(&cs).Error; err != nil {
		return nil, 0, wrap(err, "list contacts")
	}
	if err := s.attachChannelsAndTags(ctx, cs); err != nil {
		return nil, 0, err
	}
	return cs, total, nil
}

// attachChannelsAndTags loads the channels and tags of contacts in one query each (per
// 500 contacts, to stay under the databases' limits on bound parameters).
func (s *Store) attachChannelsAndTags(ctx context.Context, cs []model.Contact) error {
	index := make(map[int64]*model.Contact, len(cs))
	ids := make([]int64, len(cs))
	for i := range cs {
		cs[i].Channels, cs[i].Tags = nil, nil
		index[cs[i].ID] = &cs[i]
		ids[i] = cs[i].ID
	}
	for start := 0; start < len(ids); start += contactsChunk {
		chunk := ids[start:min(start+contactsChunk, len(ids))]
		var chans []model.ContactChannel
		// Ordered along the indexes on contact_id: ordering by id alone makes SQLite walk
		// the whole table once per chunk.
		if err := s.r(ctx).Where("contact_id IN ?", chunk).Order("contact_id, id").Find(&chans).Error; err != nil {
			return wrap(err, "contact channels")
		}
		for _, ch := range chans {
			index[ch.ContactID].Channels = append(index[ch.ContactID].Channels, ch)
		}
		var tags []model.ContactTag
		if err := s.r(ctx).Where("contact_id IN ?", chunk).Order("contact_id, tag").Find(&tags).Error; err != nil {
			return wrap(err, "contact tags")
		}
		for _, t := range tags {
			index[t.ContactID].Tags = append(index[t.ContactID].Tags, t.Tag)
		}
	}
	return nil
}

// ListContactCities returns the cities of the directory (up to 300), for suggestions.
func (s *Store) ListContactCities(ctx context.Context) ([]string, error) {
	var out []string
	err := s.r(ctx).Table("contacts").Where("city <> '' AND erased_at IS NULL").Distinct("city").
		Order("city").Limit(300).Pluck("city", &out).Error
	return out, wrap(err, "list cities")
}

// ExistingContactIDs keeps, of ids, the contacts that exist and are not erased.
func (s *Store) ExistingContactIDs(ctx context.Context, ids []int64) ([]int64, error) {
	var out []int64
	for start := 0; start < len(ids); start += contactsChunk {
		var part []int64
		chunk := ids[start:min(start+contactsChunk, len(ids))]
		if err := s.r(ctx).Table("contacts").Where("id IN ? AND erased_at IS NULL", chunk).Order("id").
			Pluck("id", &part).Error; err != nil {
			return nil, wrap(err, "find contacts")
		}
		out = append(out, part...)
	}
	return out, nil
}

// AddContactsTag puts tag on contacts (those that carry it already, in any case, are left
// alone) and returns how many gained it.
func (s *Store) AddContactsTag(ctx context.Context, ids []int64, tag string) (int64, error) {
	has, err := s.contactTagsLike(ctx, ids, tag)
	if err != nil {
		return 0, err
	}
	rows := make([]model.ContactTag, 0, len(ids))
	for _, id := range ids {
		if len(has[id]) == 0 {
			rows = append(rows, model.ContactTag{ContactID: id, Tag: tag})
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	res := s.w(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, contactsChunk)
	return res.RowsAffected, wrap(res.Error, "add tag")
}

// RemoveContactsTag takes tag, in any case, off contacts and returns how many lost it.
func (s *Store) RemoveContactsTag(ctx context.Context, ids []int64, tag string) (int64, error) {
	has, err := s.contactTagsLike(ctx, ids, tag)
	if err != nil {
		return 0, err
	}
	var n int64
	for id, tags := range has {
		res := s.w(ctx).Where("contact_id = ? AND tag IN ?", id, tags).Delete(&model.ContactTag{})
		if res.Error != nil {
			return n, wrap(res.Error, "remove tag")
		}
		if res.RowsAffected > 0 {
			n++
		}
	}
	return n, nil
}

// contactTagsLike returns, for each of the contacts that carries tag in some case
// ("Éducation", "éducation"), the forms it carries. The comparison is made here: SQLite's
// LOWER leaves non-ASCII letters alone.
func (s *Store) contactTagsLike(ctx context.Context, ids []int64, tag string) (map[int64][]string, error) {
	out := map[int64][]string{}
	want := strings.ToLower(strings.TrimSpace(tag))
	for start := 0; start < len(ids); start += contactsChunk {
		var rows []model.ContactTag
		chunk := ids[start:min(start+contactsChunk, len(ids))]
		if err := s.w(ctx).Where("contact_id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, wrap(err, "read tags")
		}
		for _, r := range rows {
			if strings.ToLower(r.Tag) == want {
				out[r.ContactID] = append(out[r.ContactID], r.Tag)
			}
		}
	}
	return out, nil
}

// ContactRegistration is a registration with its event, for a contact's history.
type ContactRegistration struct {
	model.Registration
	EventTitle    string
	EventSlug     string
	EventStartsAt time.Time
	EventTimezone string
}

// ListRegistrationsForContact returns every registration of a contact, the latest event first.
func (s *Store) ListRegistrationsForContact(ctx context.Context, contactID int64) ([]ContactRegistration, error) {
	var out []ContactRegistration
	err := s.r(ctx).Table("registrations r").
		Select("r.*, e.title AS event_title, e.slug AS event_slug, e.starts_at AS event_starts_at, e.timezone AS event_timezone").
		Joins("JOIN events e ON e.id = r.event_id").
		Where("r.contact_id = ?", contactID).
		Order("e.starts_at DESC, r.id DESC").
		Scan(&out).Error
	return out, wrap(err, "list contact registrations")
}

// messageMetaColumns are the columns of the outbox that describe a message, without its
// bodies, headers or attachments.
var messageMetaColumns = []string{"id", "kind", "to_email", "to_name", "subject", "lang", "status", "attempts",
	"last_error", "sent_at", "event_id", "contact_id", "campaign_id", "created_at"}

// ListMessagesForContact returns the emails queued for a contact (metadata only), newest
// first, at most limit (0: all).
func (s *Store) ListMessagesForContact(ctx context.Context, contactID int64, limit int) ([]model.Message, error) {
	q := s.r(ctx).Model(&model.Message{}).Select(messageMetaColumns).Where("contact_id = ?", contactID).
		Order("created_at DESC, id DESC")
	if limit > 0 {
		q = q.Limit(limit)
	}
	var ms []model.Message
	return ms, wrap(q.Find(&ms).Error, "list contact messages")
}

// ErasedName is what an erased contact is called.
const ErasedName = "Contact effacé"

// ErasedEmail is the address an erased contact keeps: unique, and undeliverable by design
// (.invalid is reserved).
func ErasedEmail(id int64) string {
	return "erased-" + strconv.FormatInt(id, 10) + "@erased.invalid"
}

// EraseContact anonymises a contact in one transaction: its identity, contact details,
// notes, channels and tags go; its registrations stay (so that statistics keep counting
// them) without their answers and rejection reasons, as the retention rule leaves them;
// its coverage stays (platform, reach, status) without its address and titles; its
// invitations stay without their notes; the emails sent to it, by contact or by address,
// keep their metadata but lose their address, bodies and attachments, and those not sent
// yet are cancelled; the campaign tests written for it lose their subject and bodies;
// the audit log stops naming it. newToken replaces the unsubscribe token. Erasing an
// erased contact does nothing.
func (s *Store) EraseContact(ctx context.Context, id int64, newToken string) (*model.Contact, error) {
	var c model.Contact
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.db.First(&c, id).Error; err != nil {
			return err
		}
		if c.ErasedAt != nil {
			return nil
		}
		now := tx.now()
		old := c
		c = model.Contact{ID: c.ID, Email: ErasedEmail(c.ID), FirstName: ErasedName, Lang: c.Lang,
			UnsubscribedAt: c.UnsubscribedAt, UnsubscribeToken: newToken, ErasedAt: &now,
			CreatedAt: c.CreatedAt, UpdatedAt: now}
		if c.UnsubscribedAt == nil {
			c.UnsubscribedAt = &now
		}
		c.RefreshSearch()
		// The audit log and the campaign tests are found by what they say about the
		// person, so they go before the rows that say it.
		if err := tx.eraseAudit(&old); err != nil {
			return err
		}
		if err := tx.eraseCampaignTests(ctx, &old); err != nil {
			return err
		}
		if err := tx.db.Select("*").Save(&c).Error; err != nil {
			return err
		}
		for _, m := range []any{&model.ContactChannel{}, &model.ContactTag{}} {
			if err := tx.db.Where("contact_id = ?", id).Delete(m).Error; err != nil {
				return err
			}
		}
		if err := tx.db.Model(&model.Registration{}).Where("contact_id = ?", id).
			Updates(map[string]any{"answers": "{}", "reject_reason": ""}).Error; err != nil {
			return err
		}
		if err := tx.db.Model(&model.Invitation{}).Where("contact_id = ?", id).
			Updates(map[string]any{"note": "", "decline_reason": ""}).Error; err != nil {
			return err
		}
		// The address must stay unique per event: it becomes one that names the row.
		if err := tx.db.Exec(`UPDATE coverages SET url = 'https://erased.invalid/coverage/' || CAST(id AS TEXT),
	title = '', page_title = '', check_error = '', check_status = ?, check_claimed_until = NULL
	WHERE contact_id = ? OR registration_id IN (SELECT id FROM registrations WHERE contact_id = ?)`,
			model.CheckSkipped, id, id).Error; err != nil {
			return err
		}
		var msgIDs []int64
		if err := tx.db.Model(&model.Message{}).Where("contact_id = ? OR LOWER(to_email) = LOWER(?)", id, old.Email).
			Pluck("id", &msgIDs).Error; err != nil {
			return err
		}
		return tx.eraseMessages(msgIDs, map[string]any{"to_email": c.Email, "to_name": ErasedName})
	})
	if err != nil {
		return nil, wrap(err, "erase contact")
	}
	return &c, nil
}

// eraseAudit stops the audit log naming the contact: the name it acted under (accepting
// or declining an invitation) becomes ErasedName, and the address of its coverage goes
// from the entries about it.
func (s *Store) eraseAudit(c *model.Contact) error {
	about := `(object_type = 'contact' AND object_id = @id)
	OR (object_type = 'invitation' AND object_id IN (SELECT id FROM invitations WHERE contact_id = @id))
	OR (object_type = 'registration' AND object_id IN (SELECT id FROM registrations WHERE contact_id = @id))`
	if name := c.Name(); name != "" {
		err := s.db.Model(&model.AuditEntry{}).Where("actor_id IS NULL AND actor_name = @name AND ("+about+")",
			map[string]any{"id": c.ID, "name": name}).Update("actor_name", ErasedName).Error
		if err != nil {
			return err
		}
	}
	return s.db.Model(&model.AuditEntry{}).
		Where("object_type = 'coverage' AND object_id IN (SELECT id FROM coverages WHERE contact_id = ?)", c.ID).
		Update("detail", "").Error
}

// eraseCampaignTests empties the campaign tests written for the contact. They went to
// an organizer, with no link to the contact, so they are found by content: a test of an
// event the contact belongs to whose subject or bodies hold its address, phone, first or
// last name, or the token of one of its personal links. A test written for a namesake may go too; it is a copy for the organizer.
func (s *Store) eraseCampaignTests(ctx context.Context, c *model.Contact) error {
	var ms []*model.Message
	err := s.db.Select("id, subject").Where("contact_id IS NULL AND idempotency_key LIKE 'camptest:%'").
		Where(`event_id IN (SELECT event_id FROM registrations WHERE contact_id = @id
	UNION SELECT event_id FROM invitations WHERE contact_id = @id)`, map[string]any{"id": c.ID}).
		Find(&ms).Error
	if err != nil {
		return err
	}
	// Its personal links hold the tokens of its registrations and invitations.
	var tokens []string
	if err := s.db.Model(&model.Registration{}).Where("contact_id = ? AND manage_token <> ''", c.ID).
		Pluck("manage_token", &tokens).Error; err != nil {
		return err
	}
	var invTokens []string
	if err := s.db.Model(&model.Invitation{}).Where("contact_id = ? AND token <> ''", c.ID).
		Pluck("token", &invTokens).Error; err != nil {
		return err
	}
	var terms []string
	for _, t := range append([]string{c.Email, c.Phone, c.FirstName, c.LastName}, append(tokens, invTokens...)...) {
		if t = strings.ToLower(strings.TrimSpace(t)); len([]rune(t)) >= 2 {
			terms = append(terms, t)
		}
	}
	var ids []int64
	for _, m := range ms {
		if err := s.loadBodies(ctx, m); err != nil {
			return err
		}
		text := strings.ToLower(m.Subject + "\n" + m.HTMLBody + "\n" + m.TextBody)
		for _, t := range terms {
			if strings.Contains(text, t) {
				ids = append(ids, m.ID)
				break
			}
		}
	}
	return s.eraseMessages(ids, nil)
}

// eraseMessages empties messages of what may name their recipient (subject, headers,
// bodies, attachments, the server's last answer), applies changes, and cancels those
// not sent yet.
func (s *Store) eraseMessages(ids []int64, changes map[string]any) error {
	for start := 0; start < len(ids); start += contactsChunk {
		chunk := ids[start:min(start+contactsChunk, len(ids))]
		if err := s.db.Where("message_id IN ?", chunk).Delete(&model.Attachment{}).Error; err != nil {
			return err
		}
		set := map[string]any{"headers": "", "subject": "", "last_error": ""} // a campaign's subject may name them
		for k, v := range changes {
			set[k] = v
		}
		if err := s.db.Model(&model.Message{}).Where("id IN ?", chunk).Updates(set).Error; err != nil {
			return err
		}
		if err := s.db.Exec("UPDATE message_bodies SET html_body = '', text_body = '', template_id = NULL, vals = '' WHERE message_id IN ?", chunk).Error; err != nil {
			return err
		}
		if err := s.db.Model(&model.Message{}).Where("id IN ? AND status IN ?", chunk,
			[]model.MessageStatus{model.MessageQueued, model.MessageFailed}).
			Updates(map[string]any{"status": model.MessageCancelled, "claimed_until": nil}).Error; err != nil {
			return err
		}
	}
	return nil
}
