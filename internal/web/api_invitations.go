package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
)

// apiInvitation is an invitation with its contact's name and address (the token stays
// out: it is the invitee's key).
type apiInvitation struct {
	model.Invitation
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
}

// apiListInvitations returns an event's invitations (optionally of one status) and the
// counts by status.
func (s *Server) apiListInvitations(c echo.Context) error {
	ctx := c.Request().Context()
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	st := c.QueryParam("status")
	if st != "" && !store.ValidInvitationStatus(st) {
		return model.FieldErrors(map[string]string{"status": "error.choice"})
	}
	rows, err := s.app.Store.ListInvitations(ctx, ev.ID, st)
	if err != nil {
		return err
	}
	counts, err := s.app.Store.CountInvitations(ctx, ev.ID)
	if err != nil {
		return err
	}
	out := make([]apiInvitation, len(rows))
	for i, r := range rows {
		out[i] = apiInvitation{Invitation: r.Invitation, FirstName: r.FirstName, LastName: r.LastName, Email: r.Email}
	}
	return c.JSON(http.StatusOK, map[string]any{"invitations": out, "counts": counts})
}

// apiInvitationsInput is the body of POST /events/{id}/invitations.
type apiInvitationsInput struct {
	ContactIDs []int64 `json:"contact_ids"`
	Note       string  `json:"note"`
}

// apiCreateInvitations invites contacts: 201 with the invitations created and the
// contacts skipped (and why); 409 when nobody could be invited, for instance because
// every contact given was invited before.
func (s *Server) apiCreateInvitations(c echo.Context) error {
	ctx := c.Request().Context()
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	var body apiInvitationsInput
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	rep, err := s.app.Invite(ctx, actor(c), ev.ID, body.ContactIDs, body.Note)
	if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid && me.Fields["contact_id"] != "" {
		return model.FieldErrors(map[string]string{"contact_ids": me.Fields["contact_id"]})
	} else if err != nil {
		return err
	}
	if len(rep.Created) == 0 {
		if rep.AllAlreadyInvited() {
			return model.Errorf(model.EConflict, "invitations.error.already_invited_all")
		}
		return model.Errorf(model.EConflict, "invitations.error.none_invitable")
	}
	ids := make([]int64, len(rep.Created))
	for i, inv := range rep.Created {
		ids[i] = inv.ContactID
	}
	contacts, err := s.app.Store.FindContacts(ctx, ids)
	if err != nil {
		return err
	}
	created := make([]apiInvitation, len(rep.Created))
	for i, inv := range rep.Created {
		created[i] = apiInvitation{Invitation: inv}
		if ct := contacts[inv.ContactID]; ct != nil {
			created[i].FirstName, created[i].LastName, created[i].Email = ct.FirstName, ct.LastName, ct.Email
		}
	}
	skipped := rep.Skipped
	if skipped == nil {
		skipped = []app.InviteSkip{}
	}
	return c.JSON(http.StatusCreated, map[string]any{"invitations": created, "skipped": skipped})
}
