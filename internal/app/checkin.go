package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/ticket"
)

// Answers to a scan at the door.
const (
	CheckInOK         = "ok"
	CheckInAlready    = "already_checked_in"
	CheckInUnknown    = "unknown_code"
	CheckInOtherEvent = "other_event"
	CheckInCancelled  = "cancelled"
	CheckInWaitlisted = "waitlisted"
	CheckInPending    = "pending"
	// CheckInLinkEnded answers a scan synced by an expired door link that it made after
	// the expiry: it is not recorded (see DoorLinkForSync).
	CheckInLinkEnded = "link_ended"
)

// Log results beside the answers: a scan that collided with another door's while
// offline, and an undone admission.
const (
	checkInConflict = "conflict"
	checkInUndo     = "undo"
)

// MaxNonce and MaxDevice bound what a door sends with each scan.
const (
	MaxNonce  = 100
	MaxDevice = 100
)

// Door is who checks people in: a signed-in staff member or a door link.
type Door struct {
	User *model.User     // nil for a door link
	Link *model.DoorLink // nil for staff
}

// Name is what the log and the counters call the door: the link's name or the person's.
func (d Door) Name() string {
	if d.Link != nil {
		return d.Link.Name
	}
	if d.User != nil {
		return d.User.Name
	}
	return "?"
}

func (d Door) actor() Actor {
	if d.Link != nil {
		return Actor{Name: d.Link.Name}
	}
	return UserActor(d.User)
}

func (d Door) logRow(eventID int64, nonce, device string) *model.CheckIn {
	ci := &model.CheckIn{EventID: eventID, Nonce: nonce, Device: device, ActorName: d.Name()}
	if d.Link != nil {
		ci.DoorLinkID = &d.Link.ID
	} else if d.User != nil {
		ci.ActorUserID = &d.User.ID
	}
	return ci
}

// device is the device name given by the door page, or the door's name.
func (d Door) device(given string) string {
	if given = strings.TrimSpace(given); given != "" {
		return given
	}
	return d.Name()
}

// ScanInput is one scan: a ticket code (or a short reference typed in its place), a
// reference, or a registration id picked from a search; the nonce makes retries safe.
type ScanInput struct {
	Code           string
	Reference      string
	RegistrationID int64
	Nonce          string
	Device         string
	ScannedAt      *time.Time
}

// validate checks the input and returns field errors keyed by prefix+field.
func (in *ScanInput) validate(prefix string, f map[string]string) {
	in.Nonce, in.Device = strings.TrimSpace(in.Nonce), strings.TrimSpace(in.Device)
	in.Code, in.Reference = strings.TrimSpace(in.Code), strings.TrimSpace(in.Reference)
	validateNonce(in.Nonce, prefix, f)
	if utf8.RuneCountInString(in.Device) > MaxDevice {
		f[prefix+"device"] = "error.too_long"
	}
	if in.Code == "" && in.Reference == "" && in.RegistrationID == 0 {
		f[prefix+"code"] = "error.required"
	}
}

func validateNonce(nonce, prefix string, f map[string]string) {
	if nonce == "" {
		f[prefix+"nonce"] = "error.required"
	} else if len(nonce) > MaxNonce {
		f[prefix+"nonce"] = "error.too_long"
	}
}

// ScanResult is the answer to a scan. Registration is nil when the code is unknown or
// belongs to another event (the door sees only its own event's people); its Platform
// is left empty (the answer does not show it).
type ScanResult struct {
	Result       string
	Registration *store.RosterEntry
	CheckedInAt  *time.Time // of the admission: this one (ok) or the first (already_checked_in)
	By           string     // the device (or door) of that admission
	Conflict     bool       // two doors admitted the ticket while offline; the earliest scan won
}

// CheckIn admits the holder of a ticket, live: the time of the admission is the
// server's. Whatever the concurrency, a ticket is admitted once: the others get
// already_checked_in with the time and the door of the first. A retried nonce gets the
// answer of its first call and adds nothing.
func (a *App) CheckIn(ctx context.Context, door Door, eventID int64, in ScanInput) (*ScanResult, error) {
	f := map[string]string{}
	in.validate("", f)
	if len(f) > 0 {
		return nil, model.FieldErrors(f)
	}
	return a.checkIn(ctx, door, eventID, in, false)
}

// MaxBatch is the most scans SyncCheckIns takes at once.
const MaxBatch = 500

// SyncCheckIns records the scans a door made while offline, in order. Each is admitted
// at its own scan time; when two doors admitted the same ticket, the earliest scan
// wins and both answers say conflict (and so does the log), and an admission the server
// refuses (the ticket was cancelled or waitlisted meanwhile) is a conflict too. Invalid
// input refuses the whole batch, naming the item ("checkins.3.nonce"). A door link that
// has expired (DoorLinkForSync let it through) records only the scans it made before
// its expiry; the others are answered link_ended.
func (a *App) SyncCheckIns(ctx context.Context, door Door, eventID int64, ins []ScanInput) ([]*ScanResult, error) {
	if len(ins) > MaxBatch {
		return nil, model.Errorf(model.ETooLarge, "checkin.batch_too_large")
	}
	f := map[string]string{}
	for i := range ins {
		ins[i].validate(fmt.Sprintf("checkins.%d.", i), f)
	}
	if len(f) > 0 {
		return nil, model.FieldErrors(f)
	}
	out := make([]*ScanResult, len(ins))
	ended := door.Link != nil && !door.Link.Usable(a.Now())
	for i, in := range ins {
		if ended && !scannedWhileValid(door.Link, in.ScannedAt) {
			out[i] = &ScanResult{Result: CheckInLinkEnded}
			continue
		}
		res, err := a.checkIn(ctx, door, eventID, in, true)
		if err != nil {
			return nil, err
		}
		if ended {
			// The link's holder may no longer look anyone up: the answer says what
			// became of each scan, not whose ticket it was.
			c := *res
			c.Registration, c.By = nil, ""
			res = &c
		}
		out[i] = res
	}
	return out, nil
}

func (a *App) checkIn(ctx context.Context, door Door, eventID int64, in ScanInput, offline bool) (*ScanResult, error) {
	now := a.Now()
	scannedAt := now
	if in.ScannedAt != nil && in.ScannedAt.Before(now) {
		scannedAt = in.ScannedAt.UTC()
	}
	at := now // a live scan is admitted on the server's clock, which every door shares
	if offline {
		at = scannedAt
	}
	device := door.device(in.Device)
	// The person is read first, outside the transaction (on SQLite, from the read pool,
	// in parallel: reading them in the shared transaction lengthens what only one
	// goroutine can do). When they wait at the door to be admitted (or, for a live
	// scan, were admitted before), what is written is the log's row and one conditional
	// update (admitFast). Anything else (another answer, or a state changed since the
	// read) is decided inside a transaction of its own (writeScan).
	entry, err := findScannedEntry(ctx, a.Store, eventID, &in)
	if err != nil {
		return nil, err
	}
	var x *fastAdmission
	if entry != nil && entry.EventID == eventID && entry.Status == model.RegConfirmed && (entry.CheckedInAt == nil || !offline) {
		ci := door.logRow(eventID, in.Nonce, device)
		ci.RegistrationID, ci.Action, ci.ScannedAt, ci.Code = &entry.ID, "in", scannedAt, scannedText(in)
		ci.Result, ci.Answer, ci.AnswerAt, ci.AnswerBy = CheckInOK, CheckInOK, &at, device
		x = &fastAdmission{ci: ci, regID: entry.ID, at: at, by: door.Name(), device: device, live: !offline}
	}
	if x != nil {
		a.admitFast(ctx, eventID, x)
		switch {
		case x.err != nil:
		case x.dup: // a retry: the nonce's first answer stands
			return a.replayRace(ctx, eventID, in.Nonce)
		case x.admitted:
			entry.CheckedInAt, entry.CheckedInBy, entry.CheckedInDevice = &at, door.Name(), device
			return &ScanResult{Result: CheckInOK, Registration: entry, CheckedInAt: &at, By: device}, nil
		case x.first != nil: // admitted before: already_checked_in, logged so
			f := x.first
			entry.CheckedInAt, entry.CheckedInBy, entry.CheckedInDevice = f.At, f.By, f.Device
			return &ScanResult{Result: CheckInAlready, Registration: entry, CheckedInAt: f.At, By: firstDoor(f.Device, f.By)}, nil
		}
		// Not admitted (the registration changed since the read, or an offline scan
		// found another admission), or the shared transaction failed (nothing of it was
		// kept): decided below.
	}
	var res *ScanResult
	var regID *int64
	var dupNonce bool // the nonce was used before (a retry), or by a retry racing its first call
	err = a.writeScan(ctx, eventID, in.Nonce, func(tx *store.Store) error {
		res, regID, dupNonce = nil, nil, false
		r, result, err := findScanned(ctx, tx, eventID, &in)
		if err != nil {
			return err
		}
		res = &ScanResult{Result: result}
		if r != nil {
			regID = &r.ID
			if result == CheckInOK {
				if res, err = a.admit(ctx, tx, door, r.ID, at, device, offline); err != nil {
					return err
				}
			}
		}
		if offline && regID != nil && res.Result != CheckInOK && res.Result != CheckInAlready {
			// The door admitted the person from its roster while offline, and the server
			// refuses them (cancelled or waitlisted meanwhile): they may be inside
			// already, which the door and the organizer must hear of.
			res.Conflict = true
		}
		ci := door.logRow(eventID, in.Nonce, device)
		ci.RegistrationID, ci.Action, ci.ScannedAt = regID, "in", scannedAt
		ci.Code = scannedText(in)
		ci.Result, ci.Answer, ci.AnswerAt, ci.AnswerBy = res.Result, res.Result, res.CheckedInAt, res.By
		if res.Conflict {
			ci.Result = checkInConflict
		}
		return logScan(ctx, tx, ci, &dupNonce)
	})
	if dupNonce {
		// The nonce's first answer stands (this transaction changed nothing).
		return a.replayRace(ctx, eventID, in.Nonce)
	} else if err != nil {
		return nil, err
	}
	if regID != nil {
		if res.Registration, err = a.Store.FindScanEntry(ctx, *regID); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// findScannedEntry reads the registration a scan designates, as findScanned finds it,
// with what the door shows of it; nil when there is none.
func findScannedEntry(ctx context.Context, st *store.Store, eventID int64, in *ScanInput) (*store.RosterEntry, error) {
	var e *store.RosterEntry
	var err error
	switch {
	case in.RegistrationID != 0:
		e, err = st.FindScanEntry(ctx, in.RegistrationID)
	case in.Code != "":
		if code, ok := ticket.ParseCode(in.Code); ok {
			e, err = st.FindScanEntryByCode(ctx, code)
		} else if ref, ok := ticket.NormalizeReference(in.Code); ok {
			e, err = st.FindScanEntryByReference(ctx, eventID, ref)
		} else {
			return nil, nil
		}
	default:
		ref, ok := ticket.NormalizeReference(in.Reference)
		if !ok {
			return nil, nil
		}
		e, err = st.FindScanEntryByReference(ctx, eventID, ref)
	}
	if model.ErrorCode(err) == model.ENotFound {
		return nil, nil
	}
	return e, err
}

// logScan appends ci to the check-in log; *dup tells a nonce already used from other
// errors (every EConflict is not a duplicate nonce).
func logScan(ctx context.Context, tx *store.Store, ci *model.CheckIn, dup *bool) error {
	err := tx.AddCheckIn(ctx, ci)
	*dup = store.IsDuplicate(err)
	return err
}

// scannedText is what the log keeps of what was scanned or typed.
func scannedText(in ScanInput) string {
	s := in.Code
	if s == "" {
		s = in.Reference
	}
	if s == "" && in.RegistrationID != 0 {
		s = fmt.Sprintf("#%d", in.RegistrationID)
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// findScanned finds the registration a scan designates and the answer its status
// gives (ok meaning "admit it"). A registration of another event is returned with
// other_event, for the log; callers must not show it to the door.
func findScanned(ctx context.Context, tx *store.Store, eventID int64, in *ScanInput) (*model.Registration, string, error) {
	var r *model.Registration
	var err error
	switch {
	case in.RegistrationID != 0:
		r, err = tx.FindRegistration(ctx, in.RegistrationID)
		if err == nil && r.EventID != eventID {
			return nil, CheckInUnknown, nil // ids are for the event's own people only
		}
	case in.Code != "":
		if code, ok := ticket.ParseCode(in.Code); ok {
			r, err = tx.FindRegistrationByCode(ctx, code)
		} else if ref, ok := ticket.NormalizeReference(in.Code); ok {
			// A reference typed into the scanner field.
			r, err = tx.FindRegistrationByReference(ctx, eventID, ref)
		} else {
			return nil, CheckInUnknown, nil
		}
	default:
		ref, ok := ticket.NormalizeReference(in.Reference)
		if !ok {
			return nil, CheckInUnknown, nil
		}
		r, err = tx.FindRegistrationByReference(ctx, eventID, ref)
	}
	if model.ErrorCode(err) == model.ENotFound {
		return nil, CheckInUnknown, nil
	} else if err != nil {
		return nil, "", err
	}
	if r.EventID != eventID {
		return nil, CheckInOtherEvent, nil
	}
	return r, statusAnswer(r.Status), nil
}

// statusAnswer is the answer a registration's status gives at the door (ok: admit).
func statusAnswer(st model.RegistrationStatus) string {
	switch st {
	case model.RegConfirmed:
		return CheckInOK
	case model.RegWaitlisted:
		return CheckInWaitlisted
	case model.RegPending:
		return CheckInPending
	}
	return CheckInCancelled // cancelled or rejected
}

// admit checks a confirmed registration in with one conditional update. When another
// scan was first, an offline scan that is earlier takes the admission over (and both
// are marked as a conflict); otherwise the answer is already_checked_in with the first
// admission's time and door.
func (a *App) admit(ctx context.Context, tx *store.Store, door Door, regID int64, at time.Time, device string, offline bool) (*ScanResult, error) {
	by := door.Name()
	for range 3 {
		ok, err := tx.AdmitRegistration(ctx, regID, at, by, device)
		if err != nil {
			return nil, err
		} else if ok {
			return &ScanResult{Result: CheckInOK, CheckedInAt: &at, By: device}, nil
		}
		cur, err := tx.FindRegistration(ctx, regID)
		if err != nil {
			return nil, err
		}
		if cur.Status != model.RegConfirmed {
			return &ScanResult{Result: statusAnswer(cur.Status)}, nil
		}
		if cur.CheckedInAt == nil {
			continue // undone between the update and the read: try again
		}
		sameDoor := cur.CheckedInBy == by && cur.CheckedInDevice == device
		if offline && at.Before(*cur.CheckedInAt) {
			moved, err := tx.MoveAdmissionEarlier(ctx, regID, at, by, device)
			if err != nil {
				return nil, err
			} else if !moved {
				continue
			}
			if !sameDoor {
				if err := tx.FlagSupersededAdmission(ctx, regID, at, device); err != nil {
					return nil, err
				}
			}
			return &ScanResult{Result: CheckInOK, CheckedInAt: &at, By: device, Conflict: !sameDoor}, nil
		}
		first := firstDoor(cur.CheckedInDevice, cur.CheckedInBy)
		// Offline, this door believed it admitted the person: if another door did too,
		// the organizer must hear of it.
		return &ScanResult{Result: CheckInAlready, CheckedInAt: cur.CheckedInAt, By: first, Conflict: offline && !sameDoor}, nil
	}
	return nil, fmt.Errorf("app: admission of registration %d keeps changing", regID)
}

// firstDoor is what an already_checked_in answer names: the device of the admission,
// else its door.
func firstDoor(device, by string) string {
	if device == "" {
		return by
	}
	return device
}

// replayScan answers a nonce already used with the answer it got the first time, or
// returns nil, nil for a new nonce. A nonce used for another event or action is refused.
func (a *App) replayScan(ctx context.Context, eventID int64, nonce string) (*ScanResult, error) {
	ci, err := a.Store.FindCheckInByNonce(ctx, nonce)
	if model.ErrorCode(err) == model.ENotFound {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if ci.EventID != eventID || ci.Action != "in" {
		return nil, model.Errorf(model.EConflict, "checkin.nonce_used")
	}
	res := &ScanResult{Result: ci.Answer, CheckedInAt: ci.AnswerAt, By: ci.AnswerBy, Conflict: ci.Result == checkInConflict}
	if ci.RegistrationID != nil && ci.Answer != CheckInOtherEvent {
		if res.Registration, err = a.Store.FindRosterEntry(ctx, *ci.RegistrationID); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// replayRace answers a scan whose nonce a concurrent call (a retry racing the first
// one) logged first: the first call's answer stands.
func (a *App) replayRace(ctx context.Context, eventID int64, nonce string) (*ScanResult, error) {
	res, err := a.replayScan(ctx, eventID, nonce)
	if res == nil && err == nil {
		err = fmt.Errorf("app: check-in nonce %q taken but not found", nonce)
	}
	return res, err
}

// UndoCheckIn clears the admission of a registration of the event (a door's mistake),
// logged and audited. The nonce, when given, makes a retry safe; otherwise undoing a
// registration that is not checked in is an EConflict.
func (a *App) UndoCheckIn(ctx context.Context, door Door, eventID, regID int64, nonce, device string) (*store.RosterEntry, error) {
	nonce, device = strings.TrimSpace(nonce), strings.TrimSpace(device)
	f := map[string]string{}
	if nonce != "" {
		validateNonce(nonce, "", f)
	}
	if utf8.RuneCountInString(device) > MaxDevice {
		f["device"] = "error.too_long"
	}
	if len(f) > 0 {
		return nil, model.FieldErrors(f)
	}
	replay := func() (*store.RosterEntry, error) {
		ci, err := a.Store.FindCheckInByNonce(ctx, nonce)
		if err != nil {
			return nil, err
		}
		if ci.EventID != eventID || ci.Action != checkInUndo || ci.RegistrationID == nil || *ci.RegistrationID != regID {
			return nil, model.Errorf(model.EConflict, "checkin.nonce_used")
		}
		return a.Store.FindRosterEntry(ctx, regID)
	}
	if nonce == "" {
		nonce = "undo-" + NewToken()
	} else if e, err := replay(); model.ErrorCode(err) != model.ENotFound {
		return e, err
	}
	device = door.device(device)
	now := a.Now()
	var dupNonce bool // the same nonce sent twice at once: a retry racing its first call
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.ShareLockEvent(ctx, eventID); err != nil {
			return err
		}
		r, err := tx.FindRegistration(ctx, regID)
		if err != nil {
			return err
		}
		if r.EventID != eventID {
			return model.ErrNotFound
		}
		if ok, err := tx.UndoAdmission(ctx, eventID, regID); err != nil {
			return err
		} else if !ok {
			return model.Errorf(model.EConflict, "checkin.not_checked_in")
		}
		ci := door.logRow(eventID, nonce, device)
		ci.RegistrationID, ci.Action, ci.Result, ci.Answer, ci.ScannedAt = &regID, checkInUndo, checkInUndo, CheckInOK, now
		if err := logScan(ctx, tx, ci, &dupNonce); err != nil {
			return err
		}
		a.audit(ctx, tx, door.actor(), "checkin.undo", "registration", regID, &eventID, device)
		return nil
	})
	if dupNonce {
		return replay()
	} else if err != nil {
		return nil, err
	}
	return a.Store.FindRosterEntry(ctx, regID)
}

// Roster returns the registrations of an event the door keeps for offline checks: all
// of them, or those changed at or after since. The server time is what the door sends
// as since next time; a little slack covers transactions that committed late, so that
// a delta may repeat a few rows but never miss one.
func (a *App) Roster(ctx context.Context, eventID int64, since *time.Time) (time.Time, []store.RosterEntry, error) {
	serverTime := a.Store.Now()
	f := store.RegistrationFilter{EventID: eventID}
	if since != nil {
		from := since.Add(-rosterSlack)
		f.Since = &from
	}
	rows, _, err := a.Store.ListRegistrations(ctx, f)
	if err != nil {
		return serverTime, nil, err
	}
	entries, err := a.rosterEntries(ctx, eventID, rows)
	return serverTime, entries, err
}

// rosterSlack is how far back a roster delta looks before its since.
const rosterSlack = 30 * time.Second

func (a *App) rosterEntries(ctx context.Context, eventID int64, rows []store.RegistrationRow) ([]store.RosterEntry, error) {
	out := make([]store.RosterEntry, len(rows))
	for i := range rows {
		out[i].RegistrationRow = rows[i]
	}
	return out, a.Store.AddPlatforms(ctx, eventID, out)
}

// MaxSearchResults is the most people a door search returns.
const MaxSearchResults = 20

// SearchRoster finds an event's registrations by name, email, phone or reference, for
// a door (a door link needs the search right).
func (a *App) SearchRoster(ctx context.Context, door Door, eventID int64, q string) ([]store.RosterEntry, error) {
	if door.Link != nil && !door.Link.AllowSearch {
		return nil, model.Errorf(model.EForbidden, "checkin.search_forbidden")
	}
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) < 2 {
		return []store.RosterEntry{}, nil
	}
	if utf8.RuneCountInString(q) > 200 {
		return nil, model.FieldErrors(map[string]string{"q": "error.too_long"})
	}
	rows, _, err := a.Store.ListRegistrations(ctx, store.RegistrationFilter{EventID: eventID, Query: q, Limit: MaxSearchResults})
	if err != nil {
		return nil, err
	}
	return a.rosterEntries(ctx, eventID, rows)
}

// DoorStats are the door's counters.
type DoorStats struct {
	Admitted int64
	Expected int64 // confirmed registrations
	Capacity int
	ThisDoor int64
	Doors    []store.DoorAdmissions
}

// CheckInStats counts the admissions of an event, in all and per door; thisDevice,
// when given, counts one device's admissions as ThisDoor instead of the door's.
func (a *App) CheckInStats(ctx context.Context, door Door, ev *model.Event, thisDevice string) (*DoorStats, error) {
	admitted, doors, err := a.Store.AdmissionCounts(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	expected, err := a.Store.CountConfirmed(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	st := &DoorStats{Admitted: admitted, Expected: expected, Capacity: ev.Capacity, Doors: doors}
	if doors == nil {
		st.Doors = []store.DoorAdmissions{}
	}
	if thisDevice = strings.TrimSpace(thisDevice); thisDevice != "" {
		st.ThisDoor, err = a.Store.CountAdmittedByDevice(ctx, ev.ID, thisDevice)
		return st, err
	}
	for _, d := range doors {
		if d.Name == door.Name() {
			st.ThisDoor = d.Admitted
		}
	}
	return st, nil
}

// DoorLinkForToken returns the door link of a token if it may be used now. An unknown
// token is EUnauthorized "checkin.link_invalid"; a revoked or expired one is
// EUnauthorized "checkin.link_ended", returned with the link.
func (a *App) DoorLinkForToken(ctx context.Context, token string) (*model.DoorLink, error) {
	invalid := model.Errorf(model.EUnauthorized, "checkin.link_invalid")
	if len(token) < 20 || len(token) > 64 {
		return nil, invalid
	}
	// A door sends its token with every scan: the link read is kept doorLinkTTL.
	key, now := sha256.Sum256([]byte(token)), time.Now()
	cached, ok, gen := a.door.cache.links.get(key, now)
	link := &cached
	if !ok {
		l, err := a.Store.FindDoorLinkByToken(ctx, token)
		if model.ErrorCode(err) == model.ENotFound {
			return nil, invalid
		} else if err != nil {
			return nil, err
		}
		// The unique index found the row; comparing what was read in constant time keeps
		// a database collation or trailing-space rule from ever admitting a near miss.
		if subtle.ConstantTimeCompare([]byte(l.Token), []byte(token)) != 1 {
			return nil, invalid
		}
		a.door.cache.links.keep(key, *l, gen, now, doorLinkTTL)
		link = l
	}
	if !link.Usable(a.Now()) {
		return link, model.Errorf(model.EUnauthorized, "checkin.link_ended")
	}
	return link, nil
}

// DoorLinkSyncGrace is how long after its expiry a door link may still send the scans
// it made offline while it was valid.
const DoorLinkSyncGrace = 24 * time.Hour

// DoorLinkForSync is DoorLinkForToken for the sync of offline scans: a link that
// expired less than DoorLinkSyncGrace ago is returned without error, and SyncCheckIns
// then records only the scans made before the expiry. A door that admitted people
// offline until the end of the event may find the network after its link expired;
// refusing its queue would lose admissions that were made by right. The scan times come
// from the door, which could back-date them: the grace is bounded, it only admits
// tickets of the link's event, and every row of the log names the link. A revoked link
// gets no grace: the organizer withdrew it on purpose (a lost or stolen phone).
func (a *App) DoorLinkForSync(ctx context.Context, token string) (*model.DoorLink, error) {
	link, err := a.DoorLinkForToken(ctx, token)
	if model.ErrorCode(err) == model.EUnauthorized && link != nil && link.RevokedAt == nil &&
		a.Now().Before(link.ExpiresAt.Add(DoorLinkSyncGrace)) {
		return link, nil
	}
	return link, err
}

// scannedWhileValid reports whether a scan of a link's door was made before the link
// expired (and was not revoked).
func scannedWhileValid(link *model.DoorLink, at *time.Time) bool {
	return link.RevokedAt == nil && at != nil && at.Before(link.ExpiresAt)
}

// DoorLinkInput is an organizer's new door link.
type DoorLinkInput struct {
	Name         string
	ExpiresAt    *time.Time // default: the end of the event plus DoorLinkGrace
	AllowSearch  bool
	AllowWalkIns bool
}

// DoorLinkGrace is how long after the end of its event a door link works by default.
const DoorLinkGrace = 6 * time.Hour

// CreateDoorLink makes a door link for an event, with a new 192-bit token.
func (a *App) CreateDoorLink(ctx context.Context, actor Actor, ev *model.Event, in DoorLinkInput) (*model.DoorLink, error) {
	f := map[string]string{}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		f["name"] = "error.required"
	} else if utf8.RuneCountInString(in.Name) > 100 {
		f["name"] = "error.too_long"
	}
	expires := ev.EndsAt.Add(DoorLinkGrace)
	if in.ExpiresAt != nil {
		expires = in.ExpiresAt.UTC()
	}
	if !expires.After(a.Now()) {
		f["expires_at"] = "doorlink.expiry_past"
	}
	if len(f) > 0 {
		return nil, model.FieldErrors(f)
	}
	d := &model.DoorLink{EventID: ev.ID, Name: in.Name, ExpiresAt: expires,
		AllowSearch: in.AllowSearch, AllowWalkIns: in.AllowWalkIns, CreatedBy: actor.UserID}
	d.Token = a.Token()
	if err := a.Store.CreateDoorLink(ctx, d); err != nil {
		return nil, err
	}
	a.audit(ctx, a.Store, actor, "door_link.create", "door_link", d.ID, &ev.ID, d.Name)
	return d, nil
}

// RevokeDoorLink ends a door link at once: its next request is refused and the door
// page wipes what it kept.
func (a *App) RevokeDoorLink(ctx context.Context, actor Actor, eventID, id int64) error {
	err := a.Store.RevokeDoorLink(ctx, eventID, id, a.Now())
	a.door.cache.links.forget(func(l model.DoorLink) bool { return l.ID == id }) // this instance refuses it from now on; others within doorLinkTTL
	if err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "door_link.revoke", "door_link", id, &eventID, "")
	return nil
}
