package app

import (
	"context"
	"strings"

	"relais/internal/model"
	"relais/internal/store"
)

// demoInvitations invites fictional bloggers who are not registered for the upcoming
// demo session, and leaves the invitations in every state an organizer meets: sent
// (waiting for an answer), accepted (with the registration it made), declined with a
// reason, bounced, withdrawn, and pending (not sent yet). It does nothing when the
// session has invitations already, so that loading the demo twice changes nothing.
func (a *App) demoInvitations(ctx context.Context, ev *model.Event) error {
	if ev.ID == 0 { // loaded by an earlier run
		found, err := a.Store.FindEventBySlug(ctx, ev.Slug)
		if err != nil {
			return err
		}
		ev = found
	}
	counts, err := a.Store.CountInvitations(ctx, ev.ID)
	if err != nil {
		return err
	}
	for _, n := range counts {
		if n > 0 {
			return nil
		}
	}
	var contacts []*model.Contact
	for _, b := range demoBloggers {
		c, err := a.Store.FindContactByEmail(ctx, strings.ToLower(Slugify(b[0]+"."+b[1]))+"@blog.example.org")
		if model.ErrorCode(err) == model.ENotFound {
			continue
		} else if err != nil {
			return err
		}
		if _, err := a.Store.FindRegistrationFor(ctx, ev.ID, c.ID); err == nil {
			continue
		} else if model.ErrorCode(err) != model.ENotFound {
			return err
		}
		contacts = append(contacts, c)
	}
	plan := []string{
		store.InvitationAccepted, store.InvitationAccepted, store.InvitationAccepted,
		store.InvitationDeclined, store.InvitationDeclined, store.InvitationBounced, store.InvitationRevoked,
		store.InvitationPending, store.InvitationPending,
		store.InvitationSent, store.InvitationSent, store.InvitationSent, store.InvitationSent, store.InvitationSent,
	}
	actor := Actor{Name: "demo"}
	note := "Votre regard sur les services en ligne nous intéresse : nous serions heureux de vous compter parmi nous."
	reasons := []string{"Je serai en reportage à Kara ce jour-là.", ""}
	for i, c := range contacts {
		if i == len(plan) {
			break
		}
		state := plan[i]
		if state == store.InvitationPending {
			// Prepared, not sent yet: no email.
			inv := &model.Invitation{EventID: ev.ID, ContactID: c.ID, Token: a.Token(), Note: note,
				Status: store.InvitationPending, SkipApproval: true}
			if err := a.Store.CreateInvitation(ctx, inv); err != nil {
				return err
			}
			continue
		}
		rep, err := a.Invite(ctx, actor, ev.ID, []int64{c.ID}, note)
		if err != nil {
			return err
		}
		if len(rep.Created) != 1 {
			continue
		}
		inv := rep.Created[0]
		switch state {
		case store.InvitationAccepted:
			in := RegistrationInput{ContactInput: ContactInput{FirstName: c.FirstName, LastName: c.LastName, City: c.City,
				Outlet: c.Outlet}, Consent: true, Lang: "fr"}
			_, err = a.AcceptInvitation(ctx, inv.Token, in)
		case store.InvitationDeclined:
			_, err = a.Decline(ctx, inv.Token, reasons[i%len(reasons)])
		case store.InvitationBounced:
			// As if the blogger's mail server had refused the address.
			err = a.Store.SetInvitationStatus(ctx, inv.ID, store.InvitationBounced, a.Now())
		case store.InvitationRevoked:
			err = a.Revoke(ctx, actor, ev.ID, inv.ID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
