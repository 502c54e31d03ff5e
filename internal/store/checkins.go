package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"

	"relais/internal/model"
)

// Admission at the door: every change of a registration's checked_in_at is one
// conditional UPDATE, so that two doors scanning the same ticket at once cannot both
// admit it, and every scan is one row of the check-in log, keyed by its nonce.

// RosterEntry is a registration as the door sees it: the person, the ticket and the
// platform they mostly publish on.
type RosterEntry struct {
	RegistrationRow
	Platform string
}

// doorEntrySQL reads what the door needs of a registration: what decides a scan's
// answer and what the door shows of the person, with the platform of AddPlatforms'
// rule. Its columns are scanned by hand: read on every scan, mapping a whole row by
// reflection cost more than the query.
const doorEntrySQL = `SELECT r.id, r.event_id, r.contact_id, r.status, r.ticket_code, r.reference,
 r.checked_in_at, r.checked_in_by, r.checked_in_device, c.first_name, c.last_name, c.outlet,
 COALESCE((SELECT ch.platform FROM contact_channels ch WHERE ch.contact_id = r.contact_id
  ORDER BY ch.followers DESC, ch.id LIMIT 1), '') AS platform
 FROM registrations r JOIN contacts c ON c.id = r.contact_id WHERE `

// scanEntrySQL is doorEntrySQL without the platform, which a scan's answer does not
// show: its sub-query (a sort of the person's channels) cost as much as the rest.
const scanEntrySQL = `SELECT r.id, r.event_id, r.contact_id, r.status, r.ticket_code, r.reference,
 r.checked_in_at, r.checked_in_by, r.checked_in_device, c.first_name, c.last_name, c.outlet
 FROM registrations r JOIN contacts c ON c.id = r.contact_id WHERE `

func (s *Store) findDoorEntry(ctx context.Context, platform bool, where string, args ...any) (*RosterEntry, error) {
	q := scanEntrySQL
	if platform {
		q = doorEntrySQL
	}
	rows, err := s.r(ctx).Raw(q+where+" LIMIT 1", args...).Rows()
	if err != nil {
		return nil, wrap(err, "find registration")
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "find registration")
		}
		return nil, model.ErrNotFound
	}
	var e RosterEntry
	var at sql.NullTime
	r := &e.Registration
	dest := []any{&r.ID, &r.EventID, &r.ContactID, &r.Status, &r.TicketCode, &r.Reference, &at, &r.CheckedInBy,
		&r.CheckedInDevice, &e.FirstName, &e.LastName, &e.Outlet, &e.Platform}
	if !platform {
		dest = dest[:len(dest)-1]
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, wrap(err, "find registration")
	}
	if at.Valid {
		r.CheckedInAt = &at.Time
	}
	return &e, nil
}

// FindRosterEntry, FindRosterEntryByCode (any event) and FindRosterEntryByReference
// return a registration as the door shows it: its id, event, contact, status, ticket
// code, reference and admission, the person's name and outlet, and the main platform
// (AddPlatforms' rule). The other fields are left empty.
func (s *Store) FindRosterEntry(ctx context.Context, id int64) (*RosterEntry, error) {
	return s.findDoorEntry(ctx, true, "r.id = ?", id)
}

func (s *Store) FindRosterEntryByCode(ctx context.Context, code string) (*RosterEntry, error) {
	return s.findDoorEntry(ctx, true, "r.ticket_code = ?", code)
}

func (s *Store) FindRosterEntryByReference(ctx context.Context, eventID int64, ref string) (*RosterEntry, error) {
	return s.findDoorEntry(ctx, true, "r.event_id = ? AND r.reference = ?", eventID, ref)
}

// FindScanEntry, FindScanEntryByCode and FindScanEntryByReference are their
// FindRosterEntry counterparts for a scan's answer: the Platform is left empty.
func (s *Store) FindScanEntry(ctx context.Context, id int64) (*RosterEntry, error) {
	return s.findDoorEntry(ctx, false, "r.id = ?", id)
}

func (s *Store) FindScanEntryByCode(ctx context.Context, code string) (*RosterEntry, error) {
	return s.findDoorEntry(ctx, false, "r.ticket_code = ?", code)
}

func (s *Store) FindScanEntryByReference(ctx context.Context, eventID int64, ref string) (*RosterEntry, error) {
	return s.findDoorEntry(ctx, false, "r.event_id = ? AND r.reference = ?", eventID, ref)
}

// AddPlatforms fills the Platform of each entry: the contact's channel with the most
// followers (the first one on a tie).
func (s *Store) AddPlatforms(ctx context.Context, eventID int64, entries []RosterEntry) error {
	if len(entries) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, e.ContactID)
	}
	var chans []model.ContactChannel
	q := s.r(ctx).Select("contact_id, platform, followers, id").Order("contact_id, followers DESC, id")
	if len(entries) > 200 {
		// A whole roster: ask by event rather than with thousands of parameters.
		q = q.Where("contact_id IN (SELECT contact_id FROM registrations WHERE event_id = ?)", eventID)
	} else {
		q = q.Where("contact_id IN ?", ids)
	}
	if err := q.Find(&chans).Error; err != nil {
		return wrap(err, "list platforms")
	}
	main := map[int64]string{}
	for _, ch := range chans {
		if _, seen := main[ch.ContactID]; !seen {
			main[ch.ContactID] = ch.Platform
		}
	}
	for i := range entries {
		entries[i].Platform = main[entries[i].ContactID]
	}
	return nil
}

// ShareLockEvent takes, inside a transaction on PostgreSQL, a key-share lock on the
// event. Logging a scan takes it anyway (the log's foreign key), but after the
// registration's row; taking it first makes a check-in wait for a transaction that
// holds the event's lock (a registration, a cancellation, a walk-in) before it locks
// any registration, never in the opposite order, which could deadlock. Concurrent
// check-ins do not wait for each other: key-share locks do not conflict.
func (s *Store) ShareLockEvent(ctx context.Context, eventID int64) error {
	if s.Driver != "postgres" || !s.inTx {
		return nil // SQLite: immediate transactions, one writer
	}
	return wrap(s.w(ctx).Exec("SELECT id FROM events WHERE id = ? FOR KEY SHARE", eventID).Error, "lock event")
}

// FindCheckInByNonce returns the log row of a scan, or ENotFound.
func (s *Store) FindCheckInByNonce(ctx context.Context, nonce string) (*model.CheckIn, error) {
	var ci model.CheckIn
	return &ci, wrap(s.r(ctx).Where("nonce = ?", nonce).Take(&ci).Error, "find check-in")
}

// checkInInsert is the INSERT of a row of the check-in log (its id is not read back).
const checkInInsert = `INSERT INTO check_ins (event_id, registration_id, action, result, scanned_at, device,
 actor_user_id, door_link_id, actor_name, nonce, code, created_at, answer, answer_at, answer_by)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func checkInValues(ci *model.CheckIn) []any {
	if ci.CreatedAt.IsZero() {
		ci.CreatedAt = Now() // what gorm's NowFunc gives created_at elsewhere
	}
	return []any{ci.EventID, ci.RegistrationID, ci.Action, ci.Result, ci.ScannedAt, ci.Device,
		ci.ActorUserID, ci.DoorLinkID, ci.ActorName, ci.Nonce, ci.Code, ci.CreatedAt, ci.Answer, ci.AnswerAt, ci.AnswerBy}
}

// AddCheckIn appends a row to the check-in log; a nonce already used is an EConflict.
func (s *Store) AddCheckIn(ctx context.Context, ci *model.CheckIn) error {
	return wrap(s.w(ctx).Exec(checkInInsert, checkInValues(ci)...).Error, "add check-in")
}

// Admission is a registration's status and admission as a transaction reads them.
type Admission struct {
	Status     model.RegistrationStatus
	At         *time.Time
	By, Device string
}

// ScanAnswer is what a row of the check-in log answers (see model.CheckIn).
type ScanAnswer struct {
	Result, Answer string
	At             *time.Time
	By             string
}

// AdmitScan records a scan answered ok (ci, its log row) and admits its registration,
// in the caller's transaction: two statements, the row first. A nonce already used
// reports dup and changes nothing. When the registration cannot be admitted (another
// scan was first, or it is no longer confirmed), decide, when not nil, is given the
// registration's current admission: when it returns true, the row is kept with the
// answer it returns (kept); otherwise, or without decide, the row is taken back and
// the caller decides the answer another way. ps, when not nil, are the statements
// prepared beforehand (SQLite).
func (s *Store) AdmitScan(ctx context.Context, ps *ScanStatements, ci *model.CheckIn, regID int64, at time.Time, by, device string,
	decide func(Admission) (ScanAnswer, bool)) (admitted, dup, kept bool, err error) {
	logged, err := s.exec(ctx, ps.stmt(scanInsert), scanSQL[scanInsert], checkInValues(ci)...)
	if err != nil {
		return false, false, false, wrap(err, "add check-in")
	}
	if logged == 0 {
		return false, true, false, nil
	}
	n, err := s.exec(ctx, ps.stmt(scanAdmit), admitSQL, at, by, device, s.Now(), regID, model.RegConfirmed)
	if err != nil || n == 1 {
		return n == 1, false, false, wrap(err, "admit registration")
	}
	if decide != nil {
		cur, err := s.admission(ctx, ps.stmt(scanAdmission), regID)
		if err != nil && model.ErrorCode(err) != model.ENotFound {
			return false, false, false, err
		}
		if err == nil {
			if ans, ok := decide(*cur); ok {
				_, err := s.exec(ctx, ps.stmt(scanAnswer), scanSQL[scanAnswer], ans.Result, ans.Answer, ans.At, ans.By, ci.Nonce)
				return false, false, err == nil, wrap(err, "answer check-in")
			}
		}
	}
	_, err = s.exec(ctx, nil, "DELETE FROM check_ins WHERE nonce = ?", ci.Nonce)
	return false, false, false, wrap(err, "take back check-in")
}

// admission reads a registration's status and admission in the transaction.
func (s *Store) admission(ctx context.Context, st *sql.Stmt, regID int64) (*Admission, error) {
	var row *sql.Row
	if tx := s.sqlTx(); st != nil && tx != nil {
		row = tx.StmtContext(ctx, st).QueryRowContext(ctx, regID)
	} else {
		row = s.w(ctx).Raw(scanSQL[scanAdmission], regID).Row()
	}
	var a Admission
	var at sql.NullTime
	if err := row.Scan(&a.Status, &at, &a.By, &a.Device); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, model.ErrNotFound
		}
		return nil, wrap(err, "read admission")
	}
	if at.Valid {
		a.At = &at.Time
	}
	return &a, nil
}

const (
	admitScanConflict = " ON CONFLICT (nonce) DO NOTHING"
	admitSQL          = `UPDATE registrations SET checked_in_at = ?, checked_in_by = ?, checked_in_device = ?, updated_at = ?
 WHERE id = ? AND status = ? AND checked_in_at IS NULL`
)

// AdmitScan's statements, in ScanStatements.
const (
	scanInsert = iota
	scanAdmit
	scanAdmission
	scanAnswer
)

var scanSQL = [...]string{
	scanInsert:    checkInInsert + admitScanConflict,
	scanAdmit:     admitSQL,
	scanAdmission: "SELECT status, checked_in_at, checked_in_by, checked_in_device FROM registrations WHERE id = ?",
	scanAnswer:    "UPDATE check_ins SET result = ?, answer = ?, answer_at = ?, answer_by = ? WHERE nonce = ?",
}

// ScanStatements are AdmitScan's statements, prepared once on SQLite's write
// connection. Unprepared, every statement of a transaction is prepared anew each time
// it runs, and on SQLite's single writer that costs as much as running it.
type ScanStatements struct{ stmts [len(scanSQL)]*sql.Stmt }

func (ps *ScanStatements) stmt(i int) *sql.Stmt {
	if ps == nil {
		return nil
	}
	return ps.stmts[i]
}

// PrepareScanStatements prepares AdmitScan's statements on SQLite (nil elsewhere). It
// needs the write connection: call it outside a transaction.
func (s *Store) PrepareScanStatements(ctx context.Context) (*ScanStatements, error) {
	if s.Driver != "sqlite" || s.inTx {
		return nil, nil
	}
	db := s.SQLDB()
	ps := &ScanStatements{}
	for i, q := range scanSQL {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			ps.Close()
			return nil, wrap(err, "prepare check-in statements")
		}
		ps.stmts[i] = st
	}
	return ps, nil
}

// Close releases the statements.
func (ps *ScanStatements) Close() {
	for _, st := range ps.stmts {
		if st != nil {
			st.Close()
		}
	}
}

// exec runs a write statement in the transaction: the prepared st when given (its
// text is query's), else through gorm. It returns the rows changed.
func (s *Store) exec(ctx context.Context, st *sql.Stmt, query string, args ...any) (int64, error) {
	if st != nil {
		if tx := s.sqlTx(); tx != nil {
			res, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		}
	}
	res := s.w(ctx).Exec(query, args...)
	return res.RowsAffected, res.Error
}

// sqlTx is the database/sql transaction of a Store in one, or nil.
func (s *Store) sqlTx() *sql.Tx {
	if !s.inTx {
		return nil
	}
	switch p := s.db.Statement.ConnPool.(type) {
	case *sql.Tx:
		return p
	case *gorm.PreparedStmtTX:
		tx, _ := p.Tx.(*sql.Tx)
		return tx
	}
	return nil
}

// AdmitRegistration marks a confirmed registration that is not checked in yet as
// checked in. It reports false, changing nothing, when another scan was first or the
// registration is not confirmed (any more).
func (s *Store) AdmitRegistration(ctx context.Context, id int64, at time.Time, by, device string) (bool, error) {
	res := s.w(ctx).Exec(admitSQL, at, by, device, s.Now(), id, model.RegConfirmed)
	return res.RowsAffected == 1, wrap(res.Error, "admit registration")
}

// scanSavepoint is the savepoint of one scan in a transaction that holds several.
const scanSavepoint = "scan"

// Savepoint, RollbackToSavepoint and ReleaseSavepoint let a transaction that writes
// several scans undo one of them alone.
func (s *Store) Savepoint(ctx context.Context) error {
	return wrap(s.w(ctx).Exec("SAVEPOINT "+scanSavepoint).Error, "savepoint")
}

func (s *Store) RollbackToSavepoint(ctx context.Context) error {
	return wrap(s.w(ctx).Exec("ROLLBACK TO SAVEPOINT "+scanSavepoint).Error, "roll back to savepoint")
}

func (s *Store) ReleaseSavepoint(ctx context.Context) error {
	return wrap(s.w(ctx).Exec("RELEASE SAVEPOINT "+scanSavepoint).Error, "release savepoint")
}

// MoveAdmissionEarlier gives the admission of a checked-in registration to an earlier
// scan (offline doors: the earliest scan wins). It reports false when the stored
// admission is not later than at.
func (s *Store) MoveAdmissionEarlier(ctx context.Context, id int64, at time.Time, by, device string) (bool, error) {
	res := s.w(ctx).Model(&model.Registration{}).
		Where("id = ? AND status = ? AND checked_in_at > ?", id, model.RegConfirmed, at).
		UpdateColumns(map[string]any{"checked_in_at": at, "checked_in_by": by, "checked_in_device": device, "updated_at": s.Now()})
	return res.RowsAffected == 1, wrap(res.Error, "move admission")
}

// UndoAdmission clears the admission of a registration of the event. It reports false
// when the registration was not checked in.
func (s *Store) UndoAdmission(ctx context.Context, eventID, id int64) (bool, error) {
	res := s.w(ctx).Model(&model.Registration{}).
		Where("id = ? AND event_id = ? AND checked_in_at IS NOT NULL", id, eventID).
		UpdateColumns(map[string]any{"checked_in_at": nil, "checked_in_by": "", "checked_in_device": "", "updated_at": s.Now()})
	return res.RowsAffected == 1, wrap(res.Error, "undo admission")
}

// FlagSupersededAdmission marks the log row of a registration's current admission as
// a conflict that lost to an earlier scan: a retry of that scan is then answered
// already_checked_in at the winner's time and door. Call it before logging the winner.
func (s *Store) FlagSupersededAdmission(ctx context.Context, regID int64, winnerAt time.Time, winnerBy string) error {
	var ci model.CheckIn
	err := s.w(ctx).Where("registration_id = ? AND action = ? AND answer = ?", regID, "in", "ok").
		Order("id DESC").Take(&ci).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil // admitted before the log kept answers: nothing to flag
	} else if err != nil {
		return wrap(err, "find admission")
	}
	err = s.w(ctx).Model(&model.CheckIn{}).Where("id = ?", ci.ID).UpdateColumns(map[string]any{
		"result": "conflict", "answer": "already_checked_in", "answer_at": winnerAt, "answer_by": winnerBy}).Error
	return wrap(err, "flag admission")
}

// FindAPITokenByHash returns a live token and its user, or ENotFound: one statement,
// scanned by hand, as every API request (every scan at a door) starts with it.
func (s *Store) FindAPITokenByHash(ctx context.Context, hash string) (*model.APIToken, *model.User, error) {
	rows, err := s.r(ctx).Raw(`SELECT t.id, t.last_used_at, u.id, u.email, u.name, u.password_hash, u.role, u.lang,
 u.disabled_at, u.last_login_at, u.created_at, u.updated_at
 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked_at IS NULL LIMIT 1`, hash).Rows()
	if err != nil {
		return nil, nil, wrap(err, "find api token")
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, nil, wrap(err, "find api token")
		}
		return nil, nil, model.ErrNotFound
	}
	var t model.APIToken
	var u model.User
	var used, disabled, login sql.NullTime
	if err := rows.Scan(&t.ID, &used, &u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Role, &u.Lang, &disabled, &login,
		&u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, nil, wrap(err, "find api token")
	}
	t.UserID = u.ID
	for _, nt := range []struct {
		v *sql.NullTime
		p **time.Time
	}{{&used, &t.LastUsedAt}, {&disabled, &u.DisabledAt}, {&login, &u.LastLoginAt}} {
		if nt.v.Valid {
			tm := nt.v.Time
			*nt.p = &tm
		}
	}
	return &t, &u, nil
}

// CheckInRow is a line of the check-in log with the person's name.
type CheckInRow struct {
	model.CheckIn
	FirstName string
	LastName  string
}

// ListCheckIns returns an event's check-in log, newest first; onlyConflicts keeps the
// scans that collided with another door's.
func (s *Store) ListCheckIns(ctx context.Context, eventID int64, onlyConflicts bool, limit int) ([]CheckInRow, error) {
	q := s.r(ctx).Table("check_ins ci").
		Joins("LEFT JOIN registrations r ON r.id = ci.registration_id").
		Joins("LEFT JOIN contacts c ON c.id = r.contact_id").
		Where("ci.event_id = ?", eventID)
	if onlyConflicts {
		q = q.Where("ci.result = ?", "conflict")
	}
	var rows []CheckInRow
	err := q.Select("ci.*, COALESCE(c.first_name, '') AS first_name, COALESCE(c.last_name, '') AS last_name").
		Order("ci.created_at DESC, ci.id DESC").Limit(limit).Scan(&rows).Error
	return rows, wrap(err, "list check-ins")
}

// DoorAdmissions is how many people one door admitted.
type DoorAdmissions struct {
	Name     string `json:"name"`
	Admitted int64  `json:"admitted"`
}

// AdmissionCounts returns how many people are checked in at an event, in all and per
// door (the staff member or door link that admitted them), busiest door first.
func (s *Store) AdmissionCounts(ctx context.Context, eventID int64) (int64, []DoorAdmissions, error) {
	var doors []DoorAdmissions
	err := s.r(ctx).Model(&model.Registration{}).Select("checked_in_by AS name, COUNT(*) AS admitted").
		Where("event_id = ? AND checked_in_at IS NOT NULL", eventID).Group("checked_in_by").
		Order("admitted DESC, name").Scan(&doors).Error
	var total int64
	for _, d := range doors {
		total += d.Admitted
	}
	return total, doors, wrap(err, "count admissions")
}

// CountAdmittedByDevice counts the people of an event admitted from one device.
func (s *Store) CountAdmittedByDevice(ctx context.Context, eventID int64, device string) (int64, error) {
	var n int64
	err := s.r(ctx).Model(&model.Registration{}).
		Where("event_id = ? AND checked_in_at IS NOT NULL AND checked_in_device = ?", eventID, device).Count(&n).Error
	return n, wrap(err, "count admissions")
}

// CreateDoorLink inserts a door link.
func (s *Store) CreateDoorLink(ctx context.Context, d *model.DoorLink) error {
	return wrap(s.w(ctx).Create(d).Error, "create door link")
}

// ListDoorLinks returns an event's door links, newest first.
func (s *Store) ListDoorLinks(ctx context.Context, eventID int64) ([]model.DoorLink, error) {
	var ds []model.DoorLink
	return ds, wrap(s.r(ctx).Where("event_id = ?", eventID).Order("created_at DESC, id DESC").Find(&ds).Error, "list door links")
}

// FindDoorLink returns a door link of an event, or ENotFound.
func (s *Store) FindDoorLink(ctx context.Context, eventID, id int64) (*model.DoorLink, error) {
	var d model.DoorLink
	return &d, wrap(s.r(ctx).Where("id = ? AND event_id = ?", id, eventID).Take(&d).Error, "find door link")
}

// RevokeDoorLink ends a door link of an event at once (revoking twice keeps the first time).
func (s *Store) RevokeDoorLink(ctx context.Context, eventID, id int64, at time.Time) error {
	res := s.w(ctx).Model(&model.DoorLink{}).Where("id = ? AND event_id = ?", id, eventID).
		Where("revoked_at IS NULL").UpdateColumn("revoked_at", at)
	if res.Error != nil {
		return wrap(res.Error, "revoke door link")
	}
	if res.RowsAffected == 0 {
		_, err := s.FindDoorLink(ctx, eventID, id)
		return err
	}
	return nil
}
