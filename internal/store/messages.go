package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"relais/internal/model"
)

// maxLastError keeps last_error inside its column (2,000 characters) whatever the driver counts.
const maxLastError = 1900

// EnqueueMessage puts m and its attachments in the outbox, queued for now unless
// m.NextAttemptAt says later. The idempotency key makes it safe to call twice: the second
// call stores nothing and returns created=false. Either way m.ID is the stored message's id.
// Call it inside Tx with the change that causes the email, so both commit or neither does.
func (s *Store) EnqueueMessage(ctx context.Context, m *model.Message) (created bool, err error) {
	if err := readyToQueue(m, s.now()); err != nil {
		return false, err
	}
	err = s.Tx(ctx, func(tx *Store) error {
		id, err := tx.insertMessage(ctx, m)
		if err != nil {
			return err
		}
		if id == 0 {
			var existing model.Message
			if err := tx.db.Select("id", "status").Where("idempotency_key = ?", m.IdempotencyKey).
				Take(&existing).Error; err != nil {
				return err
			}
			m.ID, m.Status = existing.ID, existing.Status
			return nil
		}
		m.ID = id
		created = true
		for i := range m.Attachments {
			a := &m.Attachments[i]
			a.ID, a.MessageID = 0, m.ID
			if a.Data == nil {
				a.Data = []byte{}
			}
		}
		if len(m.Attachments) > 0 { // one statement for all (a confirmation has two)
			return tx.db.Create(&m.Attachments).Error
		}
		return nil
	})
	if err != nil {
		return false, wrap(err, "queue message")
	}
	return created, nil
}

// enqueueChunk is how many messages one INSERT of EnqueueMessages writes: 20 values
// each, far below the parameter limits of SQLite (32,766) and PostgreSQL (65,535).
const enqueueChunk = 100

// messageColumns are the columns of a message's row, in the order of messageValues;
// its bodies are in message_bodies.
const messageColumns = "kind, idempotency_key, to_email, to_name, from_email, from_name, reply_to, subject, " +
	"headers, lang, status, attempts, next_attempt_at, claimed_until, last_error, sent_at, " +
	"event_id, contact_id, campaign_id, created_at"

// messageColumnCount is the number of messageColumns.
const messageColumnCount = 20

// messageValues appends m's values in the order of messageColumns.
func messageValues(args []any, m *model.Message) []any {
	return append(args, m.Kind, m.IdempotencyKey, m.ToEmail, m.ToName, m.FromEmail, m.FromName, m.ReplyTo,
		m.Subject, m.Headers, m.Lang, string(m.Status), m.Attempts, m.NextAttemptAt,
		nullable(m.ClaimedUntil), m.LastError, nullable(m.SentAt), nullable(m.EventID), nullable(m.ContactID),
		nullable(m.CampaignID), m.CreatedAt)
}

// placeholders writes n bind parameters separated by commas, numbered from first on
// PostgreSQL.
func (s *Store) placeholders(q *strings.Builder, first, n int) {
	for j := range n {
		if j > 0 {
			q.WriteByte(',')
		}
		if s.Driver == "postgres" {
			q.WriteString("$" + strconv.Itoa(first+j))
		} else {
			q.WriteByte('?')
		}
	}
}

// insertMessage writes m and its bodies unless its idempotency key is queued already,
// inside a transaction, and returns its id, or 0. On PostgreSQL it is one statement.
func (s *Store) insertMessage(ctx context.Context, m *model.Message) (int64, error) {
	var q strings.Builder
	q.WriteString("INSERT INTO messages (" + messageColumns + ") VALUES (")
	s.placeholders(&q, 1, messageColumnCount)
	q.WriteString(") ON CONFLICT (idempotency_key) DO NOTHING RETURNING id")
	args := messageValues(make([]any, 0, messageColumnCount+4), m)
	if s.Driver == "postgres" {
		var b strings.Builder
		n := messageColumnCount
		fmt.Fprintf(&b, "WITH m AS (%s) INSERT INTO message_bodies (message_id, %s) SELECT id, $%d, $%d, $%d::bigint, $%d FROM m RETURNING message_id",
			q.String(), bodyColumns, n+1, n+2, n+3, n+4)
		return s.scanID(ctx, b.String(), bodyValues(args, m)...)
	}
	id, err := s.scanID(ctx, q.String(), args...)
	if err != nil || id == 0 {
		return 0, err
	}
	m.ID = id
	return id, s.insertBodies(ctx, []*model.Message{m})
}

// scanID runs a query returning at most one id, and returns it, or 0.
func (s *Store) scanID(ctx context.Context, query string, args ...any) (int64, error) {
	rows, err := s.db.Statement.ConnPool.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	var id int64
	if rows.Next() {
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
	}
	return id, errors.Join(rows.Err(), rows.Close())
}

// insertBodies writes the bodies of messages just inserted (at most enqueueChunk).
func (s *Store) insertBodies(ctx context.Context, msgs []*model.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString("INSERT INTO message_bodies (message_id, " + bodyColumns + ") VALUES ")
	args := make([]any, 0, (bodyColumnCount+1)*len(msgs))
	for i, m := range msgs {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('(')
		s.placeholders(&q, len(args)+1, bodyColumnCount+1)
		q.WriteByte(')')
		args = bodyValues(append(args, m.ID), m)
	}
	_, err := s.db.Statement.ConnPool.ExecContext(ctx, q.String(), args...)
	return err
}

// bodyColumns are the columns of message_bodies but message_id, in the order of
// bodyValues.
const bodyColumns = "html_body, text_body, template_id, vals"

// bodyColumnCount is the number of bodyColumns.
const bodyColumnCount = 4

// bodyValues appends m's bodies in the order of bodyColumns: its own, or its
// template's id and its values.
func bodyValues(args []any, m *model.Message) []any {
	if m.BodyTemplate == nil {
		return append(args, m.HTMLBody, m.TextBody, nil, "")
	}
	vals, _ := json.Marshal(m.BodyValues) // strings: cannot fail
	return append(args, "", "", m.BodyTemplate.ID, string(vals))
}

// CreateBodyTemplate stores t, shared by messages queued afterwards, and sets its ID.
func (s *Store) CreateBodyTemplate(ctx context.Context, t *model.BodyTemplate) error {
	t.ID = 0
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	err := s.gated(ctx, func() error { return s.w(ctx).Create(t).Error })
	return wrap(err, "create body template")
}

// ShareBodyTemplate sets t's ID to that of a recent stored template with the same
// bodies, or stores t. Registration emails are rendered once per process and event
// (their markers never reach the stored text): a restart, or another instance, finds the
// bodies it would write already there. Only the latest shareRecent templates are
// compared, so that the look-up costs the same however many there are; an older twin
// only means one more copy.
func (s *Store) ShareBodyTemplate(ctx context.Context, t *model.BodyTemplate) error {
	var ids []int64
	recent := s.r(ctx).Model(&model.BodyTemplate{}).Select("id").Order("id DESC").Limit(shareRecent)
	err := s.r(ctx).Model(&model.BodyTemplate{}).Where("id IN (?) AND html_body = ? AND text_body = ?", recent, t.HTMLBody, t.TextBody).
		Order("id").Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return wrap(err, "find body template")
	}
	if len(ids) > 0 {
		t.ID = ids[0]
		return nil
	}
	return s.CreateBodyTemplate(ctx, t)
}

// shareRecent is how many of the latest body templates ShareBodyTemplate compares.
const shareRecent = 100

// readBodies reads the bodies of msgs through query (a message without stored bodies
// gets empty ones), writing out those kept as a template and values. Templates are read
// once and kept in templates, when given.
func (s *Store) readBodies(query func(q string, args ...any) (*sql.Rows, error), msgs []*model.Message,
	templates map[int64]*model.BodyTemplate) (bad map[int64]error, err error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	byID := make(map[int64]*model.Message, len(msgs))
	ids := make([]any, len(msgs))
	for i, m := range msgs {
		m.HTMLBody, m.TextBody, m.BodyTemplate, m.BodyValues = "", "", nil, nil
		byID[m.ID] = m
		ids[i] = m.ID
	}
	var q strings.Builder
	q.WriteString("SELECT message_id, " + bodyColumns + " FROM message_bodies WHERE message_id IN (")
	s.placeholders(&q, 1, len(ids))
	q.WriteByte(')')
	rows, err := query(q.String(), ids...)
	if err != nil {
		return nil, err
	}
	type shared struct {
		m    *model.Message
		tmpl int64
		vals string
	}
	var pending []shared
	for rows.Next() {
		var id int64
		var html, text, vals string
		var tmpl sql.NullInt64
		if err := rows.Scan(&id, &html, &text, &tmpl, &vals); err != nil {
			rows.Close()
			return nil, err
		}
		if m := byID[id]; m != nil {
			m.HTMLBody, m.TextBody = html, text
			if tmpl.Valid {
				pending = append(pending, shared{m, tmpl.Int64, vals})
			}
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(pending) == 0 {
		return nil, err
	}
	if templates == nil {
		templates = map[int64]*model.BodyTemplate{}
	}
	var missing []any
	for _, p := range pending {
		if templates[p.tmpl] == nil && !slices.Contains(missing, any(p.tmpl)) {
			missing = append(missing, p.tmpl)
		}
	}
	if len(missing) > 0 {
		q.Reset()
		q.WriteString("SELECT id, html_body, text_body FROM body_templates WHERE id IN (")
		s.placeholders(&q, 1, len(missing))
		q.WriteByte(')')
		rows, err := query(q.String(), missing...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			t := &model.BodyTemplate{}
			if err := rows.Scan(&t.ID, &t.HTMLBody, &t.TextBody); err != nil {
				rows.Close()
				return nil, err
			}
			templates[t.ID] = t
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	for _, p := range pending {
		if err := writeOut(p.m, templates[p.tmpl], p.vals); err != nil {
			if bad == nil {
				bad = map[int64]error{}
			}
			p.m.HTMLBody, p.m.TextBody = "", ""
			bad[p.m.ID] = fmt.Errorf("message %d: body template %d: %w", p.m.ID, p.tmpl, err)
		}
	}
	return bad, nil
}

// nullable is a pointer's value, or an untyped nil (NULL) for a nil pointer.
func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// readyToQueue checks that m can be queued and sets it as a new queued message: due
// now unless it says later.
func readyToQueue(m *model.Message, now time.Time) error {
	if m.IdempotencyKey == "" {
		return model.Errorf(model.EInvalid, "store: message has no idempotency key")
	}
	if m.ToEmail == "" {
		return model.Errorf(model.EInvalid, "store: message has no recipient")
	}
	m.ID = 0
	m.Status = model.MessageQueued
	m.Attempts = 0
	m.ClaimedUntil, m.SentAt = nil, nil
	m.LastError = ""
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = now
	}
	m.NextAttemptAt = dbTime(m.NextAttemptAt)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	return nil
}

// EnqueueMessages queues many messages as EnqueueMessage queues one, in a few
// statements: one multi-row INSERT … ON CONFLICT DO NOTHING per hundred messages. A
// message whose idempotency key is queued already (or repeated in msgs) is not stored
// again: it gets the stored message's id and status. It returns how many messages are
// new. A campaign queues its recipients' messages with it, hundreds per transaction.
func (s *Store) EnqueueMessages(ctx context.Context, msgs []*model.Message) (created int, err error) {
	now := s.now()
	for _, m := range msgs {
		if err := readyToQueue(m, now); err != nil {
			return 0, err
		}
	}
	err = s.Tx(ctx, func(tx *Store) error {
		if tx.Driver == "postgres" {
			// The bodies are compressed by LZ4 rather than pglz where the server has it
			// (PostgreSQL 14 and later): several times faster both ways, nearly as small.
			// A setting of this transaction only; no row is returned by older servers.
			if err := tx.db.Exec(`SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings
	WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)`).Error; err != nil {
				return err
			}
		}
		for start := 0; start < len(msgs); start += enqueueChunk {
			n, err := tx.insertMessages(ctx, msgs[start:min(start+enqueueChunk, len(msgs))])
			if err != nil {
				return err
			}
			created += n
		}
		return nil
	})
	if err != nil {
		return 0, wrap(err, "queue messages")
	}
	return created, nil
}

// insertMessages writes one chunk of EnqueueMessages inside its transaction.
func (s *Store) insertMessages(ctx context.Context, msgs []*model.Message) (created int, err error) {
	var q strings.Builder
	q.WriteString("INSERT INTO messages (" + messageColumns + ") VALUES ")
	args := make([]any, 0, messageColumnCount*len(msgs))
	for i, m := range msgs {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('(')
		s.placeholders(&q, len(args)+1, messageColumnCount)
		q.WriteByte(')')
		args = messageValues(args, m)
	}
	q.WriteString(" ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key")
	rows, err := s.db.Statement.ConnPool.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return 0, err
	}
	ids := make(map[string]int64, len(msgs))
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return 0, err
		}
		ids[key] = id
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	var existing []string
	fresh := make([]*model.Message, 0, len(ids))
	for _, m := range msgs {
		id, ok := ids[m.IdempotencyKey]
		if !ok {
			existing = append(existing, m.IdempotencyKey)
			continue
		}
		// A key given twice in msgs is inserted once: the second is like one queued before.
		delete(ids, m.IdempotencyKey)
		m.ID = id
		created++
		fresh = append(fresh, m)
		for i := range m.Attachments {
			a := &m.Attachments[i]
			a.ID, a.MessageID = 0, m.ID
			if a.Data == nil {
				a.Data = []byte{}
			}
			if err := s.db.Create(a).Error; err != nil {
				return 0, err
			}
		}
	}
	if err := s.insertBodies(ctx, fresh); err != nil {
		return 0, err
	}
	if len(existing) == 0 {
		return created, nil
	}
	var found []model.Message
	if err := s.db.Select("id", "status", "idempotency_key").Where("idempotency_key IN ?", existing).
		Find(&found).Error; err != nil {
		return 0, err
	}
	byKey := make(map[string]*model.Message, len(found))
	for i := range found {
		byKey[found[i].IdempotencyKey] = &found[i]
	}
	for _, m := range msgs {
		if m.ID == 0 {
			if e := byKey[m.IdempotencyKey]; e != nil {
				m.ID, m.Status = e.ID, e.Status
			}
		}
	}
	return created, nil
}

// ClaimMessages hands up to limit due messages to one worker for lease: queued messages
// whose time has come, and messages left "sending" by a worker whose lease ran out (it
// crashed). Claimed messages are "sending", their attempt counted, and come with their
// attachments' names and types but not their bytes (Data is nil): LoadMessageContent
// reads those when the message is sent, so that a batch of emails carrying a large press
// kit is never in memory at once. On PostgreSQL rows locked by another claimer are
// skipped, so several instances share the queue without taking the same message.
func (s *Store) ClaimMessages(ctx context.Context, limit int, lease time.Duration) ([]model.Message, error) {
	if limit <= 0 {
		limit = 1
	}
	now := s.now()
	lock := ""
	if s.Driver == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	// The two kinds of due message are looked up apart, each in the order of the index
	// on (status, next_attempt_at), which stops at limit: one query with OR read and
	// sorted every queued message at each claim, ten thousand for a large campaign.
	// Ties on next_attempt_at (a campaign's batch shares one) are left in the index's
	// order: with ", id" PostgreSQL sorted every due message again.
	query := `WITH due AS (SELECT id, next_attempt_at FROM messages WHERE status = ? AND next_attempt_at <= ?
	ORDER BY next_attempt_at LIMIT ?` + lock + `),
lapsed AS (SELECT id, next_attempt_at FROM messages WHERE status = ? AND claimed_until <= ?
	ORDER BY next_attempt_at LIMIT ?` + lock + `)
UPDATE messages SET status = ?, claimed_until = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM (SELECT id, next_attempt_at FROM due UNION ALL SELECT id, next_attempt_at FROM lapsed) AS u
	ORDER BY next_attempt_at, id LIMIT ?)
RETURNING *`
	var msgs []model.Message
	err := s.Tx(ctx, func(tx *Store) error {
		if s.Driver == "postgres" {
			if err := tx.db.Exec(indexOnly).Error; err != nil {
				return err
			}
		}
		// The claimed rows come back whole: no second query for them.
		err := tx.db.Raw(query, model.MessageQueued, now, limit, model.MessageSending, now, limit,
			model.MessageSending, now.Add(lease), limit).Scan(&msgs).Error
		if err != nil || len(msgs) == 0 {
			return err
		}
		ids := make([]int64, len(msgs))
		for i := range msgs {
			ids[i] = msgs[i].ID
		}
		var as []model.Attachment
		if err := tx.db.Select("id", "message_id", "filename", "content_type", "content_id", "inline").
			Where("message_id IN ?", ids).Order("id").Find(&as).Error; err != nil {
			return err
		}
		byID := make(map[int64]*model.Message, len(msgs))
		for i := range msgs {
			byID[msgs[i].ID] = &msgs[i]
		}
		for _, a := range as {
			if m := byID[a.MessageID]; m != nil {
				m.Attachments = append(m.Attachments, a)
			}
		}
		return nil
	})
	slices.SortFunc(msgs, func(a, b model.Message) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return msgs, wrap(err, "claim messages")
}

// LoadMessageContent reads what ClaimMessages leaves out of a message: its bodies and
// the bytes of its attachments.
func (s *Store) LoadMessageContent(ctx context.Context, m *model.Message) error {
	if err := s.loadBodies(ctx, m); err != nil {
		return err
	}
	if len(m.Attachments) == 0 {
		return nil
	}
	var as []model.Attachment
	if err := s.r(ctx).Where("message_id = ?", m.ID).Order("id").Find(&as).Error; err != nil {
		return wrap(err, "load attachments")
	}
	m.Attachments = as
	return nil
}

// writeOut sets m's bodies from t and its values vals (JSON).
func writeOut(m *model.Message, t *model.BodyTemplate, vals string) (err error) {
	if t == nil {
		return errors.New("missing")
	}
	m.BodyTemplate = t
	defer func() { m.BodyTemplate, m.BodyValues = nil, nil }()
	if err := json.Unmarshal([]byte(vals), &m.BodyValues); err != nil {
		return fmt.Errorf("values: %w", err)
	}
	m.HTMLBody, m.TextBody, err = m.Bodies()
	return err
}

// loadBodies reads m's bodies (empty when it has none stored).
func (s *Store) loadBodies(ctx context.Context, m *model.Message) error {
	pool := s.r(ctx).Statement.ConnPool
	// A message whose bodies cannot be written out is shown without them: the worker
	// marks it failed with the reason.
	_, err := s.readBodies(func(q string, args ...any) (*sql.Rows, error) { return pool.QueryContext(ctx, q, args...) },
		[]*model.Message{m}, nil)
	return wrap(err, "load message bodies")
}

// ReleaseMessages gives claimed messages that were not sent back to the queue, without
// counting the attempt: a worker that stops does this so a restart sends them at once.
func (s *Store) ReleaseMessages(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.gated(ctx, func() error {
		return s.w(ctx).Model(&model.Message{}).Where("id IN ? AND status = ?", ids, model.MessageSending).
			Updates(map[string]any{"status": model.MessageQueued, "claimed_until": nil,
				"attempts": gorm.Expr("CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END")}).Error
	})
	return wrap(err, "release messages")
}

// MarkMessageSent records that the server accepted the message at at.
//
// The worker calls it after every message, before sending the next, so it is one short
// statement. On PostgreSQL its commit does not wait for the WAL to reach the disk
// (synchronous_commit off, for this transaction only): the row is committed and seen by
// every other session when this returns, so a worker killed at any moment afterwards
// loses nothing; only a crash of the database server itself within a fraction of a
// second could forget it, and the message would then go out a second time. Waiting for
// the disk at every message took most of a worker's time.
func (s *Store) MarkMessageSent(ctx context.Context, id int64, at time.Time) error {
	var n int64
	err := s.gated(ctx, func() error {
		var res sql.Result
		var err error
		if s.Driver == "postgres" && !s.inTx {
			// One round trip, past GORM: a query without parameters goes by the simple
			// protocol, which runs both statements in one implicit transaction. Both values
			// are formatted here, an integer and a time, never text from outside.
			res, err = s.SQLDB().ExecContext(ctx, "SET LOCAL synchronous_commit = off; UPDATE messages SET status = '"+
				string(model.MessageSent)+"', sent_at = '"+dbTime(at).Format("2006-01-02 15:04:05.999999")+
				"+00', claimed_until = NULL, last_error = '' WHERE id = "+strconv.FormatInt(id, 10))
		} else {
			g := s.w(ctx).Exec("UPDATE messages SET status = ?, sent_at = ?, claimed_until = NULL, last_error = '' WHERE id = ?",
				model.MessageSent, dbTime(at), id)
			err, n = g.Error, g.RowsAffected
		}
		if err == nil && res != nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err == nil && n == 0 {
		return model.ErrNotFound
	}
	return wrap(err, "mark message sent")
}

// SentMarker records messages as sent for a worker sending a batch, as MarkMessageSent
// does, and reads what is sent (LoadBodies, LoadAttachments). The worker's connections
// share one: marks asked for while another is being written are written together, in
// one statement, when it is done (a group commit), and each MarkSent returns once its
// own is committed. On PostgreSQL it keeps a connection of the pool for the batch, whose
// session commits without waiting for the disk (synchronous_commit off: what
// MarkMessageSent does for one transaction). Close gives the connection back as it was.
// A SentMarker is safe for concurrent use.
type SentMarker struct {
	s    *Store
	mu   sync.Mutex // held while the connection is in use, and so while marks are written
	conn *sql.Conn  // PostgreSQL: nil until the first use, and after a failure

	qmu     sync.Mutex
	pending []*markRequest // asked for, not written yet

	// Reads have a connection of their own on PostgreSQL (held while reading): a press
	// kit's bytes being read never hold the marks up.
	rmu       sync.Mutex
	rconn     *sql.Conn
	templates map[int64]*model.BodyTemplate // body templates read, by id (rmu)
}

// markRequest is one message to record as sent, and where its outcome goes.
type markRequest struct {
	id   int64
	at   time.Time
	done chan error
}

// SentMarker returns a marker for one batch; Close it at the end of the batch.
func (s *Store) SentMarker() *SentMarker {
	return &SentMarker{s: s, templates: map[int64]*model.BodyTemplate{}}
}

// MarkSent is MarkMessageSent.
func (m *SentMarker) MarkSent(ctx context.Context, id int64, at time.Time) error {
	if m.s.inTx {
		return m.s.MarkMessageSent(ctx, id, at)
	}
	req := &markRequest{id: id, at: at, done: make(chan error, 1)}
	m.qmu.Lock()
	m.pending = append(m.pending, req)
	m.qmu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case err := <-req.done: // written together with others while this one waited
		return err
	default:
	}
	m.qmu.Lock()
	group := m.pending
	m.pending = nil
	m.qmu.Unlock()
	found, err := m.markGroup(ctx, group)
	for _, r := range group {
		switch {
		case err != nil:
			r.done <- wrap(err, "mark message sent")
		case !found[r.id]:
			r.done <- model.ErrNotFound
		default:
			r.done <- nil
		}
	}
	return <-req.done
}

// markGroup writes a group of marks in one statement; m.mu is held. Their sent_at is the
// latest of their times, a few milliseconds apart at most.
func (m *SentMarker) markGroup(ctx context.Context, group []*markRequest) (map[int64]bool, error) {
	var at time.Time
	args := make([]any, 0, len(group)+2)
	args = append(args, string(model.MessageSent), nil)
	for _, r := range group {
		if r.at.After(at) {
			at = r.at
		}
		args = append(args, r.id)
	}
	args[1] = dbTime(at)
	var q strings.Builder
	q.WriteString("UPDATE messages SET status = ")
	m.s.placeholders(&q, 1, 1)
	q.WriteString(", sent_at = ")
	m.s.placeholders(&q, 2, 1)
	q.WriteString(", claimed_until = NULL, last_error = '' WHERE id IN (")
	m.s.placeholders(&q, 3, len(group))
	q.WriteString(") RETURNING id")
	found := make(map[int64]bool, len(group))
	scan := func(rows *sql.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			found[id] = true
		}
		return rows.Err()
	}
	if m.s.Driver != "postgres" {
		err := m.s.gated(ctx, func() error {
			rows, err := m.s.w(ctx).Raw(q.String(), args...).Rows()
			if err != nil {
				return err
			}
			return scan(rows)
		})
		return found, err
	}
	if err := m.connect(ctx); err != nil {
		return nil, err
	}
	rows, err := m.conn.QueryContext(ctx, q.String(), args...)
	if err == nil {
		err = scan(rows)
	}
	if err != nil {
		m.discard()
	}
	return found, err
}

// connect takes the marker's connection from the pool, once; m.mu is held.
func (m *SentMarker) connect(ctx context.Context) error {
	if m.conn != nil {
		return nil
	}
	c, err := m.s.SQLDB().Conn(ctx)
	if err != nil {
		return err
	}
	m.conn = c
	if _, err := c.ExecContext(ctx, "SET synchronous_commit = off"); err != nil {
		m.discard()
		return err
	}
	return nil
}

// LoadContent is LoadMessageContent. On PostgreSQL it reads over the marker's
// connection: during a burst of requests, which take the pool's connections, a batch's
// reads would otherwise queue for one, message after message.
func (m *SentMarker) LoadContent(ctx context.Context, msg *model.Message) error {
	bad, err := m.LoadBodies(ctx, []*model.Message{msg})
	if err == nil {
		err = bad[msg.ID]
	}
	if err != nil {
		return err
	}
	return m.LoadAttachments(ctx, msg)
}

// LoadBodies reads the bodies of msgs in one query (a message without stored bodies
// gets empty ones): a worker reads those of the next few messages it sends at once,
// a round trip for several messages instead of one each. A message whose stored bodies
// cannot be written out (its template is gone, its values are malformed) is left out
// and reported in bad; err is a failure to read.
func (m *SentMarker) LoadBodies(ctx context.Context, msgs []*model.Message) (bad map[int64]error, err error) {
	err = m.read(ctx, "load message bodies", func(query queryFunc) (err error) {
		bad, err = m.s.readBodies(query, msgs, m.templates)
		return err
	})
	return bad, err
}

// smallAttachments is the size up to which LoadSmallAttachments reads a message's
// attachments with those of other messages: a ticket's QR code and calendar file are
// 1–3 KB in all.
const smallAttachments = 64 << 10

// LoadSmallAttachments reads, in one query, the attachments of those of msgs whose
// attachments are small in all (a confirmation's QR code and calendar file): a round
// trip fewer per message. LoadAttachments reads the others (a press kit, even of many
// small files), one message at a time.
func (m *SentMarker) LoadSmallAttachments(ctx context.Context, msgs []*model.Message) error {
	var ids []any
	for _, msg := range msgs {
		if len(msg.Attachments) > 0 {
			ids = append(ids, msg.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(attachmentSelect + ` WHERE message_id IN (SELECT message_id FROM attachments WHERE message_id IN (`)
	m.s.placeholders(&q, 1, len(ids))
	q.WriteString(") GROUP BY message_id HAVING SUM(length(data)) <= " + strconv.Itoa(smallAttachments) + ") ORDER BY message_id, id")
	var as []model.Attachment
	err := m.read(ctx, "load attachments", func(query queryFunc) (err error) {
		as, err = scanAttachments(query(q.String(), ids...))
		return err
	})
	if err != nil {
		return err
	}
	loaded := map[int64][]model.Attachment{}
	for _, a := range as {
		loaded[a.MessageID] = append(loaded[a.MessageID], a)
	}
	for _, msg := range msgs {
		if got := loaded[msg.ID]; len(msg.Attachments) > 0 && len(got) == len(msg.Attachments) {
			msg.Attachments = got
		}
	}
	return nil
}

// LoadAttachments reads the bytes of msg's attachments, when it has any and they are
// not read yet: one message at a time, so that a batch carrying a press kit is never in
// memory whole.
func (m *SentMarker) LoadAttachments(ctx context.Context, msg *model.Message) error {
	if !slices.ContainsFunc(msg.Attachments, func(a model.Attachment) bool { return a.Data == nil }) {
		return nil
	}
	var q strings.Builder
	q.WriteString(attachmentSelect + " WHERE message_id = ")
	m.s.placeholders(&q, 1, 1)
	q.WriteString(" ORDER BY id")
	return m.read(ctx, "load attachments", func(query queryFunc) (err error) {
		msg.Attachments, err = scanAttachments(query(q.String(), msg.ID))
		return err
	})
}

// attachmentSelect reads attachments whole, in the order of scanAttachments.
const attachmentSelect = "SELECT id, message_id, filename, content_type, content_id, inline, data FROM attachments"

// scanAttachments reads the rows of an attachmentSelect (empty data as an empty slice,
// not nil: nil means not read).
func scanAttachments(rows *sql.Rows, err error) ([]model.Attachment, error) {
	if err != nil {
		return nil, err
	}
	var as []model.Attachment
	for rows.Next() {
		var a model.Attachment
		if err := rows.Scan(&a.ID, &a.MessageID, &a.Filename, &a.ContentType, &a.ContentID, &a.Inline, &a.Data); err != nil {
			rows.Close()
			return nil, err
		}
		if a.Data == nil {
			a.Data = []byte{}
		}
		as = append(as, a)
	}
	return as, errors.Join(rows.Err(), rows.Close())
}

// indexOnly makes PostgreSQL read the worker's tables by their indexes, for the rest of
// the transaction (indexOnlySession: for the session, on a marker's read connection,
// reset before it goes back to the pool). Every query of the worker looks messages and their
// attachments up by an index; but on tables not analyzed yet (a new database, until
// autovacuum comes by a minute later) PostgreSQL takes each value of an IN list to
// match 0.5% of the rows and read whole tables instead: 7–14 ms for every 16 to 200
// messages of a registration burst or a campaign, 0.5 ms of the database's CPU per
// message sent, growing with the tables. Nor does it plan parallel workers there: on
// such tables it launched one for a look-up of 200 messages' attachments (a process
// started for 0.2 ms of work: 5–27 ms a batch of a campaign, a third of its time).
const indexOnly = "SELECT set_config('enable_seqscan', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)"

// indexOnlySession is indexOnly for the session, and indexOnlyReset undoes it.
const indexOnlySession = "SELECT set_config('enable_seqscan', 'off', false), set_config('max_parallel_workers_per_gather', '0', false)"

var indexOnlyReset = []string{"RESET enable_seqscan", "RESET max_parallel_workers_per_gather"}

// queryFunc runs a query the way a marker reads.
type queryFunc func(q string, args ...any) (*sql.Rows, error)

// read runs fn with the marker's way of reading, and wraps its error as what: on
// PostgreSQL over the marker's read connection, taken from the pool once and let go
// after a failure (a press kit being read never holds the marks up); else from the pool.
// Reads go one at a time: the connections share the templates read.
func (m *SentMarker) read(ctx context.Context, what string, fn func(queryFunc) error) error {
	m.rmu.Lock()
	defer m.rmu.Unlock()
	if m.s.Driver != "postgres" || m.s.inTx {
		pool := m.s.r(ctx).Statement.ConnPool
		return wrap(fn(func(q string, args ...any) (*sql.Rows, error) { return pool.QueryContext(ctx, q, args...) }), what)
	}
	if m.rconn == nil {
		c, err := m.s.SQLDB().Conn(ctx)
		if err != nil {
			return wrap(err, what)
		}
		if _, err := c.ExecContext(ctx, indexOnlySession); err != nil {
			discardConn(c)
			return wrap(err, what)
		}
		m.rconn = c
	}
	c := m.rconn
	err := fn(func(q string, args ...any) (*sql.Rows, error) { return c.QueryContext(ctx, q, args...) })
	if err != nil {
		discardConn(m.rconn)
		m.rconn = nil
	}
	return wrap(err, what)
}

// Close gives the connection back to the pool with its session's settings reset.
func (m *SentMarker) Close() error {
	m.rmu.Lock()
	if m.rconn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var err error
		for _, q := range indexOnlyReset {
			if err == nil {
				_, err = m.rconn.ExecContext(ctx, q)
			}
		}
		if err != nil {
			discardConn(m.rconn)
		} else {
			m.rconn.Close()
		}
		cancel()
		m.rconn = nil
	}
	m.rmu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := m.conn.ExecContext(ctx, "RESET synchronous_commit"); err != nil {
		m.discard()
		return nil
	}
	err := m.conn.Close()
	m.conn = nil
	return err
}

// discard closes the connection instead of giving it back: its session may keep the
// setting, which no other use of the pool may inherit.
func (m *SentMarker) discard() {
	discardConn(m.conn)
	m.conn = nil
}

// MarkMessageRetry puts a message that failed for now back in the queue for next. It
// does nothing when the message is no longer being sent (an admin cancelled it meanwhile).
func (s *Store) MarkMessageRetry(ctx context.Context, id int64, errText string, next time.Time) error {
	err := s.gated(ctx, func() error {
		return s.w(ctx).Model(&model.Message{}).Where("id = ? AND status = ?", id, model.MessageSending).
			Updates(map[string]any{"status": model.MessageQueued, "next_attempt_at": dbTime(next),
				"claimed_until": nil, "last_error": clip(errText)}).Error
	})
	return wrap(err, "mark message for retry")
}

// MarkMessageFailed gives up on a message, keeping why (the server's answer) for the admin.
func (s *Store) MarkMessageFailed(ctx context.Context, id int64, errText string) error {
	err := s.gated(ctx, func() error {
		return s.w(ctx).Model(&model.Message{}).
			Where("id = ? AND status IN ?", id, []model.MessageStatus{model.MessageSending, model.MessageQueued}).
			Updates(map[string]any{"status": model.MessageFailed, "claimed_until": nil, "last_error": clip(errText)}).Error
	})
	return wrap(err, "mark message failed")
}

// CancelMessage stops a message that is queued or failed from being sent.
func (s *Store) CancelMessage(ctx context.Context, id int64) error {
	return s.moveMessage(ctx, id, "cancel message", "mail.error.cannot_cancel",
		[]model.MessageStatus{model.MessageQueued, model.MessageFailed},
		map[string]any{"status": model.MessageCancelled, "claimed_until": nil})
}

// RetryMessageNow queues a failed message (or one waiting for its next attempt) for now,
// with a fresh count of attempts: the admin's "retry" button.
func (s *Store) RetryMessageNow(ctx context.Context, id int64) error {
	return s.moveMessage(ctx, id, "retry message", "mail.error.cannot_retry",
		[]model.MessageStatus{model.MessageFailed, model.MessageQueued},
		map[string]any{"status": model.MessageQueued, "next_attempt_at": s.now(), "attempts": 0, "claimed_until": nil})
}

// moveMessage applies changes when the message is in one of from; ENotFound when there is
// no such message, EConflict (with msgKey) when it is in another state.
func (s *Store) moveMessage(ctx context.Context, id int64, what, msgKey string, from []model.MessageStatus, changes map[string]any) error {
	res := s.w(ctx).Model(&model.Message{}).Where("id = ? AND status IN ?", id, from).Updates(changes)
	if res.Error != nil {
		return wrap(res.Error, what)
	}
	if res.RowsAffected > 0 {
		return nil
	}
	var n int64
	if err := s.r(ctx).Model(&model.Message{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return wrap(err, what)
	}
	if n == 0 {
		return model.ErrNotFound
	}
	return &model.Error{Code: model.EConflict, Message: msgKey}
}

// MessageFilter narrows ListMessages. Zero fields do not filter.
type MessageFilter struct {
	Status  model.MessageStatus
	EventID *int64
	Query   string // in the recipient's address or name, or the subject
	Limit   int
	Offset  int
}

// ListMessages returns the outbox newest first, without bodies or attachments, and how
// many messages match in all.
func (s *Store) ListMessages(ctx context.Context, f MessageFilter) ([]model.Message, int64, error) {
	q := s.r(ctx).Model(&model.Message{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.EventID != nil {
		q = q.Where("event_id = ?", *f.EventID)
	}
	if f.Query != "" {
		like := "%" + escapeLike(f.Query) + "%"
		q = q.Where("LOWER(to_email) LIKE ? OR LOWER(to_name) LIKE ? OR LOWER(subject) LIKE ?", like, like, like)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count messages")
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	// Every column but the headers (the bodies are elsewhere), which lists never show.
	columns := []string{"id", "kind", "idempotency_key", "to_email", "to_name", "from_email",
		"from_name", "reply_to", "subject", "lang", "status", "attempts", "next_attempt_at",
		"claimed_until", "last_error", "sent_at", "event_id", "contact_id", "campaign_id", "created_at"}
	var ms []model.Message
	err := q.Select(columns).Order("created_at DESC, id DESC").Find(&ms).Error
	return ms, total, wrap(err, "list messages")
}

// FindMessage returns a message with its bodies and attachments, or ENotFound.
func (s *Store) FindMessage(ctx context.Context, id int64) (*model.Message, error) {
	var m model.Message
	err := s.r(ctx).Preload("Attachments", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).
		First(&m, id).Error
	if err == nil {
		err = s.loadBodies(ctx, &m)
	}
	return &m, wrap(err, "find message")
}

// FindAttachment returns one attachment of a message, or ENotFound.
func (s *Store) FindAttachment(ctx context.Context, messageID, attID int64) (*model.Attachment, error) {
	var a model.Attachment
	err := s.r(ctx).Where("id = ? AND message_id = ?", attID, messageID).Take(&a).Error
	return &a, wrap(err, "find attachment")
}

// CountMessagesByStatus counts the outbox by status, for one event when eventID is given.
func (s *Store) CountMessagesByStatus(ctx context.Context, eventID *int64) (map[model.MessageStatus]int64, error) {
	q := s.r(ctx).Model(&model.Message{})
	if eventID != nil {
		q = q.Where("event_id = ?", *eventID)
	}
	var rows []struct {
		Status model.MessageStatus
		N      int64
	}
	if err := q.Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, wrap(err, "count messages")
	}
	out := make(map[model.MessageStatus]int64, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// now reads the store's clock as the database keeps it.
func (s *Store) now() time.Time { return dbTime(s.Now()) }

// dbTime is t as stored: UTC (SQLite compares times as text) to the microsecond (PostgreSQL's precision).
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// clip shortens an error text to fit last_error, on a character boundary.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= maxLastError {
		return s
	}
	cut := maxLastError
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}

// discardConn closes c instead of giving it back to the pool: its session may keep a
// setting that no other use of the pool may inherit.
func discardConn(c *sql.Conn) {
	c.Raw(func(any) error { return driver.ErrBadConn })
	c.Close()
}
