package app

import (
	"context"

	"relais/internal/model"
)

// AddRegistration records a registration made by an organizer (the "add by hand" form
// and the API). The registration window and the invite-only mode do not apply, no
// approval is needed, and capacity holds unless in.OverrideCapacity is set: when the
// event is full the person goes to the waitlist, as on the public form.
//
// When the address already holds an active registration at the event, nothing is
// created and nobody is emailed (unlike the public form, the organizer may be told):
// the result has Duplicate set and the existing registration.
func (a *App) AddRegistration(ctx context.Context, actor Actor, eventID int64, in RegistrationInput) (*RegisterResult, error) {
	in.Staff, in.SkipApproval, in.Consent, in.Honeypot, in.InvitationToken = true, true, false, "", ""
	if in.Source != model.SourceWalkIn {
		in.Source = model.SourceStaff
	}
	if r, err := a.activeRegistration(ctx, eventID, in.Email); err != nil {
		return nil, err
	} else if r != nil {
		return &RegisterResult{Registration: r, Duplicate: true}, nil
	}
	res, err := a.Register(ctx, eventID, in)
	if err != nil {
		return nil, err
	}
	a.audit(ctx, a.Store, actor, "registration.add", "registration", res.Registration.ID, &eventID, string(res.Registration.Status))
	return res, nil
}

// activeRegistration returns the active registration of the address at the event, or nil.
func (a *App) activeRegistration(ctx context.Context, eventID int64, email string) (*model.Registration, error) {
	c, err := a.Store.FindContactByEmail(ctx, email)
	if model.ErrorCode(err) == model.ENotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	r, err := a.Store.FindRegistrationFor(ctx, eventID, c.ID)
	if model.ErrorCode(err) == model.ENotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !r.Active() {
		return nil, nil
	}
	return r, nil
}

// DeleteQuestion removes a custom question of an event. Answers already given stay in
// the registrations; they are no longer shown or exported.
func (a *App) DeleteQuestion(ctx context.Context, actor Actor, eventID, id int64) error {
	if err := a.Store.DeleteQuestion(ctx, eventID, id); err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "question.delete", "question", id, &eventID, "")
	return nil
}
