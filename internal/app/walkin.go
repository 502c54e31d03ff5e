package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/ticket"
)

// WalkInEmailDomain is the reserved domain (RFC 2606: .invalid never resolves) of the
// placeholder address given to a walk-in who left no email, so that the directory keeps
// one row per person. Nothing must ever be sent there.
const WalkInEmailDomain = store.WalkInEmailDomain

// IsWalkInPlaceholder reports whether an address is a walk-in's placeholder.
func IsWalkInPlaceholder(email string) bool {
	return strings.HasSuffix(model.NormalizeEmail(email), "@"+WalkInEmailDomain)
}

func walkInPlaceholder() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // never fails, see ticket.NewCode
	return "walkin-" + hex.EncodeToString(b) + "@" + WalkInEmailDomain
}

// WalkInInput is a person registered at the door.
type WalkInInput struct {
	ContactInput // Email optional
	Nonce        string
	Device       string
	// OverrideCapacity admits beyond the capacity (organizers and admins only).
	OverrideCapacity bool
}

// WalkIn registers a person at the door and admits them at once, in one transaction:
// confirmed (source walk_in) within the capacity unless an organizer overrides it
// (a full event is an EConflict "checkin.full"). Someone already registered is
// confirmed if needed and admitted. No email is sent: the person is at the door. The
// nonce makes a retry safe, as for a scan.
func (a *App) WalkIn(ctx context.Context, door Door, eventID int64, in WalkInInput) (*ScanResult, error) {
	if door.Link != nil && !door.Link.AllowWalkIns {
		return nil, model.Errorf(model.EForbidden, "checkin.walkins_forbidden")
	}
	if in.OverrideCapacity && (door.User == nil || !door.User.Role.AtLeast(model.RoleOrganizer)) {
		return nil, model.Errorf(model.EForbidden, "checkin.override_forbidden")
	}
	f := map[string]string{}
	in.Nonce, in.Device = strings.TrimSpace(in.Nonce), strings.TrimSpace(in.Device)
	validateNonce(in.Nonce, "", f)
	if utf8.RuneCountInString(in.Device) > MaxDevice {
		f["device"] = "error.too_long"
	}
	if strings.TrimSpace(in.Email) == "" {
		in.Email = walkInPlaceholder()
	}
	in.ContactInput.validate(f)
	if len(f) > 0 {
		return nil, model.FieldErrors(f)
	}
	if res, err := a.replayScan(ctx, eventID, in.Nonce); res != nil || err != nil {
		return res, err
	}
	now := a.Now()
	device := door.device(in.Device)
	var res *ScanResult
	var regID int64
	var dupNonce bool // the same nonce sent twice at once: a retry racing its first call
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		ev, err := tx.LockEvent(ctx, eventID)
		if err != nil {
			return err
		}
		c, err := a.upsertContact(ctx, tx, &in.ContactInput, supportedLang(ev.Lang), false, now)
		if err != nil {
			return err
		}
		r, err := a.walkInRegistration(ctx, tx, ev, c.ID, in.OverrideCapacity)
		if err != nil {
			return err
		}
		regID = r.ID
		if res, err = a.admit(ctx, tx, door, r.ID, now, device, false); err != nil {
			return err
		}
		ci := door.logRow(eventID, in.Nonce, device)
		ci.RegistrationID, ci.Action, ci.ScannedAt, ci.Code = &regID, "in", now, "walk-in"
		ci.Result, ci.Answer, ci.AnswerAt, ci.AnswerBy = res.Result, res.Result, res.CheckedInAt, res.By
		if err := logScan(ctx, tx, ci, &dupNonce); err != nil {
			return err
		}
		a.audit(ctx, tx, door.actor(), "registration.walk_in", "registration", r.ID, &eventID, device)
		return nil
	})
	if dupNonce {
		return a.replayRace(ctx, eventID, in.Nonce)
	} else if err != nil {
		return nil, err
	}
	if res.Registration, err = a.Store.FindRosterEntry(ctx, regID); err != nil {
		return nil, err
	}
	return res, nil
}

// walkInRegistration returns the contact's confirmed registration at the event,
// confirming (or creating, or re-activating) it within the capacity. It runs in the
// transaction that holds the event's lock.
func (a *App) walkInRegistration(ctx context.Context, tx *store.Store, ev *model.Event, contactID int64, override bool) (*model.Registration, error) {
	now := a.Now()
	r, err := tx.FindRegistrationFor(ctx, ev.ID, contactID)
	switch {
	case err == nil && r.Status == model.RegConfirmed:
		return r, nil
	case err == nil && r.Active():
		// Waitlisted or pending: the person came anyway; a free seat (or an organizer) lets them in.
	case err == nil:
		// Cancelled or rejected before: the same row comes back to life, as a walk-in.
		r.Source, r.CancelledAt, r.RejectReason, r.WaitlistedAt = model.SourceWalkIn, nil, "", nil
	case model.ErrorCode(err) == model.ENotFound:
		r = &model.Registration{EventID: ev.ID, ContactID: contactID, Source: model.SourceWalkIn,
			Lang: supportedLang(ev.Lang), Answers: "{}"}
	default:
		return nil, err
	}
	status, err := a.decideStatus(ctx, tx, ev, true, override)
	if err != nil {
		return nil, err
	}
	if status != model.RegConfirmed {
		return nil, model.Errorf(model.EConflict, "checkin.full")
	}
	a.setStatus(r, model.RegConfirmed, now)
	if r.ID == 0 {
		r.TicketCode, r.Reference, r.ManageToken = ticket.NewCode(), ticket.NewReference(), a.Token()
		err = a.createRegistration(ctx, tx, r)
	} else {
		err = tx.SaveRegistration(ctx, r)
	}
	return r, err
}
