package app

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"relais/internal/config"
	"relais/internal/i18n"
	"relais/internal/model"
	"relais/internal/store"
)

// Limits of what an organizer and an invitee may write.
const (
	MaxInvitationNote = 2000
	MaxDeclineReason  = 1000
)

// OutreachKinds are the kinds of email that go to a contact because the organizers
// reached out, not because of the person's own registration. They carry the unsubscribe
// headers, and an unsubscribed contact gets none of them. Campaigns add their kind here.
var OutreachKinds = []string{"invitation", "invitation_reminder", "campaign"}

// Reasons why Invite leaves a contact out.
const (
	SkipAlreadyInvited = "already_invited"
	SkipUnsubscribed   = "unsubscribed"
	SkipErased         = "erased"
	SkipNotFound       = "not_found"
	SkipNoEmail        = "no_email" // a walk-in who left no address (IsWalkInPlaceholder)
)

// InviteSkip is a contact that Invite left out, and why.
type InviteSkip struct {
	ContactID int64  `json:"contact_id"`
	Name      string `json:"-"`
	Reason    string `json:"reason"`
}

// InviteReport says what Invite did with each contact it was given.
type InviteReport struct {
	Created []model.Invitation
	Skipped []InviteSkip
}

// AllAlreadyInvited reports whether nothing was created because every contact had
// been invited before.
func (r *InviteReport) AllAlreadyInvited() bool {
	if len(r.Created) > 0 || len(r.Skipped) == 0 {
		return false
	}
	for _, s := range r.Skipped {
		if s.Reason != SkipAlreadyInvited {
			return false
		}
	}
	return true
}

// Invite invites contacts to an event: one invitation per contact (a contact invited
// before, unsubscribed or erased is skipped and reported), each with its personal token
// and one email in the outbox, in the contact's language. Each invitation and its email
// are written in one short transaction, so a large tag does not hold the database.
func (a *App) Invite(ctx context.Context, actor Actor, eventID int64, contactIDs []int64, note string) (*InviteReport, error) {
	note = strings.TrimSpace(strings.ReplaceAll(note, "\r\n", "\n"))
	if utf8.RuneCountInString(note) > MaxInvitationNote {
		return nil, model.FieldErrors(map[string]string{"note": "error.too_long"})
	}
	ids := uniqueIDs(contactIDs)
	if len(ids) == 0 {
		return nil, model.FieldErrors(map[string]string{"contact_id": "invitations.error.no_contact"})
	}
	ev, err := a.Store.FindEventByID(ctx, eventID)
	if err != nil {
		return nil, err
	}
	if err := a.invitable(ev); err != nil {
		return nil, err
	}
	contacts, err := a.Store.FindContacts(ctx, ids)
	if err != nil {
		return nil, err
	}
	invited, err := a.Store.InvitedContactIDs(ctx, ev.ID, ids)
	if err != nil {
		return nil, err
	}
	settings, err := a.Settings(ctx)
	if err != nil {
		return nil, err
	}
	rep := &InviteReport{}
	skip := func(id int64, c *model.Contact, reason string) {
		s := InviteSkip{ContactID: id, Reason: reason}
		if c != nil && c.ErasedAt == nil {
			s.Name = c.Name()
			if s.Name == "" {
				s.Name = c.Email
			}
		}
		rep.Skipped = append(rep.Skipped, s)
	}
	for _, id := range ids {
		c := contacts[id]
		switch {
		case c == nil:
			skip(id, nil, SkipNotFound)
		case c.ErasedAt != nil:
			skip(id, c, SkipErased)
		case c.UnsubscribedAt != nil:
			skip(id, c, SkipUnsubscribed)
		case IsWalkInPlaceholder(c.Email):
			skip(id, c, SkipNoEmail)
		case invited[id]:
			skip(id, c, SkipAlreadyInvited)
		default:
			inv, err := a.inviteOne(ctx, actor, ev, c, note, settings)
			if store.IsDuplicate(err) {
				// Invited by someone else since we looked.
				skip(id, c, SkipAlreadyInvited)
				continue
			} else if err != nil {
				return rep, err
			}
			rep.Created = append(rep.Created, *inv)
		}
	}
	if len(rep.Created) > 0 {
		a.audit(ctx, a.Store, actor, "invitation.create", "event", ev.ID, &ev.ID,
			fmt.Sprintf("%d invited, %d skipped", len(rep.Created), len(rep.Skipped)))
		a.kick()
	}
	return rep, nil
}

// inviteOne writes one invitation and its email, then marks it sent.
func (a *App) inviteOne(ctx context.Context, actor Actor, ev *model.Event, c *model.Contact, note string, settings *model.Settings) (*model.Invitation, error) {
	now := a.Now()
	inv := &model.Invitation{EventID: ev.ID, ContactID: c.ID, Token: a.Token(), Note: note,
		Status: store.InvitationPending, SkipApproval: true, CreatedBy: actor.UserID}
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateInvitation(ctx, inv); err != nil {
			return err
		}
		if c.UnsubscribeToken == "" {
			c.UnsubscribeToken = a.Token()
			if err := tx.SetUnsubscribeToken(ctx, c.ID, c.UnsubscribeToken); err != nil {
				return err
			}
		}
		if _, err := a.queueEmail(ctx, tx, a.invitationEmail("invitation", ev, c, inv, settings,
			fmt.Sprintf("inv:%d:sent", inv.ID))); err != nil {
			return err
		}
		return tx.MarkInvitationSent(ctx, inv.ID, now)
	})
	if err != nil {
		return nil, err
	}
	inv.Status, inv.SentAt = store.InvitationSent, &now
	return inv, nil
}

// invitable refuses invitations to a session nobody can register for any more.
func (a *App) invitable(ev *model.Event) error {
	if ev.Status != model.EventPublished {
		return model.Errorf(model.EConflict, "invitations.error.not_published")
	}
	if !ev.EndsAt.After(a.Now()) {
		return model.Errorf(model.EConflict, "invitations.error.past")
	}
	return nil
}

// Remind sends the one reminder to each invitee of the event who has not answered,
// was invited at least invite_remind_after ago and was never reminded. Contacts who
// unsubscribed or registered meanwhile are left alone. It returns how many were reminded.
func (a *App) Remind(ctx context.Context, actor Actor, eventID int64) (int, error) {
	ev, err := a.Store.FindEventByID(ctx, eventID)
	if err != nil {
		return 0, err
	}
	if err := a.invitable(ev); err != nil {
		return 0, err
	}
	now := a.Now()
	due, err := a.Store.RemindableInvitations(ctx, ev.ID, now.Add(-a.Config.InviteRemindAfter))
	if err != nil || len(due) == 0 {
		return 0, err
	}
	ids := make([]int64, len(due))
	for i := range due {
		ids[i] = due[i].ContactID
	}
	contacts, err := a.Store.FindContacts(ctx, ids)
	if err != nil {
		return 0, err
	}
	settings, err := a.Settings(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range due {
		inv := &due[i]
		c := contacts[inv.ContactID]
		if c == nil || c.ErasedAt != nil || c.UnsubscribedAt != nil || IsWalkInPlaceholder(c.Email) {
			continue
		}
		if r, err := a.Store.FindRegistrationFor(ctx, ev.ID, c.ID); err == nil && r.Active() {
			continue
		} else if err != nil && model.ErrorCode(err) != model.ENotFound {
			return n, err
		}
		sent := false
		err := a.Store.Tx(ctx, func(tx *store.Store) error {
			ok, err := tx.MarkInvitationReminded(ctx, inv.ID, now)
			if err != nil || !ok {
				return err
			}
			sent = true
			_, err = a.queueEmail(ctx, tx, a.invitationEmail("invitation_reminder", ev, c, inv, settings,
				fmt.Sprintf("inv:%d:reminder", inv.ID)))
			return err
		})
		if err != nil {
			return n, err
		}
		if sent {
			n++
		}
	}
	if n > 0 {
		a.audit(ctx, a.Store, actor, "invitation.remind", "event", ev.ID, &ev.ID, fmt.Sprintf("%d reminded", n))
		a.kick()
	}
	return n, nil
}

// Revoke withdraws an invitation of the event: its link stops working. An accepted
// invitation is not revoked: the organizer cancels the registration instead.
func (a *App) Revoke(ctx context.Context, actor Actor, eventID, invitationID int64) error {
	inv, err := a.Store.FindInvitation(ctx, invitationID)
	if err != nil {
		return err
	}
	if inv.EventID != eventID {
		return model.ErrNotFound
	}
	switch inv.Status {
	case store.InvitationRevoked:
		return nil
	case store.InvitationAccepted:
		return model.Errorf(model.EConflict, "invitations.error.revoke_accepted")
	}
	err = a.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetInvitationStatus(ctx, inv.ID, store.InvitationRevoked, a.Now()); err != nil {
			return err
		}
		// An invitation or reminder still waiting in the outbox would carry a dead link.
		_, err := tx.CancelQueuedMailByKey(ctx, []string{fmt.Sprintf("inv:%d:sent", inv.ID), fmt.Sprintf("inv:%d:reminder", inv.ID)})
		return err
	})
	if err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "invitation.revoke", "invitation", inv.ID, &eventID, inv.Status+" → revoked")
	return nil
}

// InvitationView is what the invitation page shows: the invitation, its event, the
// invited contact and their registration at the event, if any.
type InvitationView struct {
	Invitation   *model.Invitation
	Event        *model.Event
	Contact      *model.Contact
	Registration *model.Registration // nil when the contact has none
}

// Accepted reports whether the invitee holds an active registration at the event.
func (v *InvitationView) Accepted() bool { return v.Registration != nil && v.Registration.Active() }

// Invitation finds a live invitation by its token: a revoked invitation, an erased
// contact or an event taken back to draft answer ENotFound.
func (a *App) Invitation(ctx context.Context, token string) (*InvitationView, error) {
	if len(token) < 20 || len(token) > 64 {
		return nil, model.ErrNotFound
	}
	inv, err := a.Store.FindInvitationByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if inv.Status == store.InvitationRevoked {
		return nil, model.ErrNotFound
	}
	ev, err := a.Store.FindEventByID(ctx, inv.EventID)
	if err != nil {
		return nil, err
	}
	if !ev.IsPublic() {
		return nil, model.ErrNotFound
	}
	c, err := a.Store.FindContact(ctx, inv.ContactID)
	if err != nil {
		return nil, err
	}
	if c.ErasedAt != nil {
		return nil, model.ErrNotFound
	}
	v := &InvitationView{Invitation: inv, Event: ev, Contact: c}
	if r, err := a.Store.FindRegistrationFor(ctx, ev.ID, c.ID); err == nil {
		v.Registration = r
	} else if model.ErrorCode(err) != model.ENotFound {
		return nil, err
	}
	return v, nil
}

// AcceptInvitation registers the invitee through their invitation: the address is the
// invited one whatever the form says, approval is skipped and invite-only events accept
// it. An invitee who already holds a registration gets it back, the invitation marked
// accepted.
func (a *App) AcceptInvitation(ctx context.Context, token string, in RegistrationInput) (*RegisterResult, error) {
	v, err := a.Invitation(ctx, token)
	if err != nil {
		return nil, err
	}
	if v.Accepted() {
		if v.Invitation.Status != store.InvitationAccepted {
			if err := a.Store.MarkInvitationAnswered(ctx, v.Invitation.ID, store.InvitationAccepted, "", a.Now()); err != nil {
				return nil, err
			}
		}
		return &RegisterResult{Registration: v.Registration, Duplicate: true}, nil
	}
	in.Email, in.InvitationToken, in.Staff = v.Contact.Email, token, false
	res, err := a.Register(ctx, v.Event.ID, in)
	if err != nil {
		return nil, err
	}
	a.audit(ctx, a.Store, Actor{Name: v.Contact.Name()}, "invitation.accept", "invitation", v.Invitation.ID, &v.Event.ID,
		string(res.Registration.Status))
	return res, nil
}

// Decline records the invitee's "no", with an optional reason. It may be
// given again (the reason is replaced) but not over an active registration, which the
// person cancels from their ticket page.
func (a *App) Decline(ctx context.Context, token, reason string) (*InvitationView, error) {
	v, err := a.Invitation(ctx, token)
	if err != nil {
		return nil, err
	}
	if v.Accepted() {
		return nil, model.Errorf(model.EConflict, "invite_page.error.already_accepted")
	}
	reason = strings.TrimSpace(strings.ReplaceAll(reason, "\r\n", "\n"))
	if utf8.RuneCountInString(reason) > MaxDeclineReason {
		return nil, model.FieldErrors(map[string]string{"reason": "error.too_long"})
	}
	now := a.Now()
	if err := a.Store.MarkInvitationAnswered(ctx, v.Invitation.ID, store.InvitationDeclined, reason, now); err != nil {
		return nil, err
	}
	v.Invitation.Status, v.Invitation.DeclineReason, v.Invitation.RespondedAt = store.InvitationDeclined, reason, &now
	a.audit(ctx, a.Store, Actor{Name: v.Contact.Name()}, "invitation.decline", "invitation", v.Invitation.ID, &v.Event.ID, "")
	return v, nil
}

// Unsubscribe records that the contact holding this unsubscribe token wants no more
// invitations, reminders or campaigns, and cancels such mail still waiting in the
// outbox. The emails of their own registrations still go. Unsubscribing twice keeps
// the first date.
func (a *App) Unsubscribe(ctx context.Context, token string) (*model.Contact, error) {
	c, err := a.UnsubscribeContact(ctx, token)
	if err != nil {
		return nil, err
	}
	now := a.Now()
	var changed bool
	err = a.Store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if changed, err = tx.MarkContactUnsubscribed(ctx, c.ID, now); err != nil {
			return err
		}
		_, err = tx.CancelQueuedMail(ctx, c.ID, OutreachKinds)
		return err
	})
	if err != nil {
		return nil, err
	}
	if changed {
		c.UnsubscribedAt = &now
		a.audit(ctx, a.Store, Actor{Name: "contact"}, "contact.unsubscribe", "contact", c.ID, nil, "")
	}
	return c, nil
}

// UnsubscribeContact finds the contact of an unsubscribe link, or ENotFound.
func (a *App) UnsubscribeContact(ctx context.Context, token string) (*model.Contact, error) {
	if len(token) < 20 || len(token) > 64 {
		return nil, model.ErrNotFound
	}
	return a.Store.FindContactByUnsubscribeToken(ctx, token)
}

// InvitationURL is the invitee's personal page.
func (a *App) InvitationURL(inv *model.Invitation) string {
	return strings.TrimRight(a.Config.BaseURL, "/") + "/i/" + inv.Token
}

// UnsubscribeURL is the contact's unsubscribe page.
func (a *App) UnsubscribeURL(c *model.Contact) string {
	return strings.TrimRight(a.Config.BaseURL, "/") + "/u/" + c.UnsubscribeToken
}

// outreachHeaders are the headers of every outreach email: List-Unsubscribe with the
// link and a mailto, and List-Unsubscribe-Post for one-click unsubscription (RFC 8058).
func (a *App) outreachHeaders(c *model.Contact, settings *model.Settings) map[string]string {
	lu := "<" + a.UnsubscribeURL(c) + ">"
	if box := a.unsubscribeMailbox(settings); box != "" {
		lu += ", <mailto:" + box + "?subject=unsubscribe>"
	}
	return map[string]string{"List-Unsubscribe": lu, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
}

// unsubscribeMailbox is where an "unsubscribe" email reaches a person: the reply-to
// address, else the sender's.
func (a *App) unsubscribeMailbox(settings *model.Settings) string {
	for _, addr := range []string{settings.ReplyTo, settings.SenderEmail} {
		if model.ValidEmail(addr) {
			return addr
		}
	}
	if from, err := config.ParseAddress(a.Config.MailFrom); err == nil && from != nil {
		return from.Address
	}
	return ""
}

// invitationEmail builds the invitation (kind "invitation") or its reminder
// ("invitation_reminder") for a contact, in the contact's language.
func (a *App) invitationEmail(kind string, ev *model.Event, c *model.Contact, inv *model.Invitation, settings *model.Settings, key string) Email {
	lang := outreachLang(c, ev, a.Config.Lang)
	base := strings.TrimRight(a.Config.BaseURL, "/")
	data := map[string]any{
		"Event": ev, "Name": c.Name(), "FirstName": c.FirstName, "Note": inv.Note,
		"When": i18n.Range(ev.StartsAt, ev.EndsAt, ev.Location(), lang), "Summary": ev.Summary,
		"Venue":     strings.Trim(ev.VenueName+", "+ev.VenueAddress, ", "),
		"InviteURL": a.InvitationURL(inv), "EventURL": base + "/e/" + ev.Slug,
		"UnsubscribeURL": a.UnsubscribeURL(c), "InviteOnly": ev.RegistrationMode == model.ModeInviteOnly,
	}
	if ev.RegistrationClosesAt != nil {
		data["ClosesAt"] = i18n.DateTime(*ev.RegistrationClosesAt, ev.Location(), lang)
	}
	if ev.PressContactName != "" {
		data["PressContact"] = map[string]string{"Name": ev.PressContactName, "Email": ev.PressContactEmail, "Phone": ev.PressContactPhone}
	}
	return Email{Kind: kind, Lang: lang, ToEmail: c.Email, ToName: c.Name(), Key: key, Data: data,
		Headers: a.outreachHeaders(c, settings), EventID: &ev.ID, ContactID: &c.ID}
}

// outreachLang is the contact's language, else the event's, else the default.
func outreachLang(c *model.Contact, ev *model.Event, def string) string {
	for _, l := range []string{c.Lang, ev.Lang, def} {
		if l == "fr" || l == "en" {
			return l
		}
	}
	return "fr"
}

func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// RemindDelay is the configured delay before a reminder, for the organizer's page.
func (a *App) RemindDelay() time.Duration { return a.Config.InviteRemindAfter }

// InviteeState is RegistrationState for an invitee, to whom invite-only sessions are open:
// "open", "not_yet_open", "closed", "past" or "unavailable".
func (a *App) InviteeState(ev *model.Event) string {
	err := a.registrationOpen(ev, true)
	if err == nil {
		return "open"
	}
	return strings.TrimPrefix(strings.TrimPrefix(model.ErrorMessage(err), "register."), "closed_")
}
