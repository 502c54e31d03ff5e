package app

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"relais/internal/model"
	"relais/internal/store"
)

// The check-in API authenticates and finds the event of the path on every scan. Door
// links and events are kept in memory for a moment so that a scan costs no read for
// them; the write connection is spared the API token's touch when it was recent. On
// SQLite, where one connection writes, concurrent scans share one transaction
// (writeQueue).

// doorState is what an App keeps for the check-in API.
type doorState struct {
	cache  doorCache
	writes writeQueue
}

// doorLinkTTL bounds how long an instance trusts a door link it read. RevokeDoorLink
// forgets the link at once on its own instance; another instance refuses it within
// this delay. Expiry is checked on every request against the app's clock.
const doorLinkTTL = 2 * time.Second

// doorEventTTL bounds how long the check-in API uses an event it read (for its
// existence and its capacity): a change made on this instance counts at once (SaveEvent
// and SetEventStatus forget the events), one made on another within this delay. Events
// are never deleted.
const doorEventTTL = time.Second

type doorCache struct {
	links  credCache[model.DoorLink]      // by the token's SHA-256
	events shortCache[int64, model.Event] // by id
}

// DoorEvent returns the event of a check-in API path, read at most doorEventTTL ago,
// or ENotFound.
func (a *App) DoorEvent(ctx context.Context, id int64) (*model.Event, error) {
	now := time.Now()
	ev, ok, gen := a.door.cache.events.get(id, now)
	if ok {
		return &ev, nil
	}
	read, err := a.Store.FindEventByID(ctx, id)
	if err != nil {
		return nil, err
	}
	a.door.cache.events.keep(id, *read, gen, now, doorEventTTL)
	return read, nil
}

// fastAdmission is a scan to admit whose registration was read confirmed: its log row
// (answered ok) and the admission, then the outcome.
type fastAdmission struct {
	ci         *model.CheckIn
	regID      int64
	at         time.Time
	by, device string
	// live: a live scan of a ticket already admitted is answered here, in the same
	// transaction (already_checked_in with the first admission), rather than taken back.
	live bool
	// What store.AdmitScan reported, or err when the transaction failed (nothing of it
	// was kept). first is the admission found when the answer is already_checked_in.
	admitted, dup bool
	first         *store.Admission
	err           error
}

func (x *fastAdmission) write(ctx context.Context, tx *store.Store, ps *store.ScanStatements) (err error) {
	x.first, x.admitted, x.dup = nil, false, false
	var decide func(store.Admission) (store.ScanAnswer, bool)
	if x.live {
		decide = x.already
	}
	var kept bool
	x.admitted, x.dup, kept, err = tx.AdmitScan(ctx, ps, x.ci, x.regID, x.at, x.by, x.device, decide)
	if !kept {
		x.first = nil
	}
	return err
}

// already answers a live scan of a registration still confirmed and admitted before,
// as admit does: already_checked_in, with the time and the door of the admission.
func (x *fastAdmission) already(cur store.Admission) (store.ScanAnswer, bool) {
	if cur.Status != model.RegConfirmed || cur.At == nil {
		return store.ScanAnswer{}, false // decided by writeScan
	}
	x.first = &cur
	return store.ScanAnswer{Result: CheckInAlready, Answer: CheckInAlready, At: cur.At, By: firstDoor(cur.Device, cur.By)}, true
}

// admitFast records x and admits its registration, in a transaction of its own or,
// on SQLite, shared with concurrent scans.
func (a *App) admitFast(ctx context.Context, eventID int64, x *fastAdmission) {
	if a.Store.Driver != "sqlite" {
		x.err = a.Store.Tx(ctx, func(tx *store.Store) error {
			if err := tx.ShareLockEvent(ctx, eventID); err != nil {
				return err
			}
			return x.write(ctx, tx, nil)
		})
		return
	}
	w := &queuedScan{run: x.write, nonce: x.ci.Nonce}
	a.door.writes.wait(a, w)
	if x.err = w.err; x.err != nil {
		x.admitted, x.dup, x.first = false, false, nil
	}
}

// writeScan runs decide, a scan's decision and its log row, in a transaction: its own
// with the event's share lock (see ShareLockEvent), or on SQLite one shared with
// concurrent scans, where decide has a savepoint of its own.
func (a *App) writeScan(ctx context.Context, eventID int64, nonce string, decide func(tx *store.Store) error) error {
	if a.Store.Driver != "sqlite" {
		return a.Store.Tx(ctx, func(tx *store.Store) error {
			if err := tx.ShareLockEvent(ctx, eventID); err != nil {
				return err
			}
			return decide(tx)
		})
	}
	w := &queuedScan{run: func(_ context.Context, tx *store.Store, _ *store.ScanStatements) error { return decide(tx) },
		nonce: nonce, savepoint: true}
	a.door.writes.wait(a, w)
	return w.err
}

// queuedScan is a scan's writes waiting for SQLite's write connection. run may be run
// more than once (when the transaction it shared failed, it runs again alone): it
// sets all it reports afresh.
type queuedScan struct {
	run   func(ctx context.Context, tx *store.Store, ps *store.ScanStatements) error
	nonce string
	// savepoint: run's error undoes its own writes only and is its answer (a nonce
	// already used, a check-in refused); without, it fails the whole transaction.
	savepoint bool
	err       error
	done      chan struct{}
}

// writeQueue gathers the scans (or, in App.regWrites, the registrations) waiting for
// SQLite's write connection. One goroutine, started when the first arrives and gone
// when none is left, writes all those queued in one transaction, then those that
// arrived meanwhile, and so on: the connection is not handed from request to request,
// and a scan costs a few statements rather than a transaction of its own.
type writeQueue struct {
	mu      sync.Mutex
	pending []*queuedScan
	running bool
	stmts   *store.ScanStatements // prepared by the goroutine, kept while the App lives
	plain   bool                  // no scan statements to prepare: a queue of registrations
}

// maxWriteBatch bounds the scans written in one transaction.
const maxWriteBatch = 64

// wait queues w and returns once it was written (or failed).
func (q *writeQueue) wait(a *App, w *queuedScan) {
	w.done = make(chan struct{})
	q.mu.Lock()
	q.pending = append(q.pending, w)
	if !q.running {
		q.running = true
		go q.write(a)
	}
	q.mu.Unlock()
	<-w.done // not abandoned when the request ends: the transaction is short, and may hold w already
}

// write writes the queued scans until none is left.
func (q *writeQueue) write(a *App) {
	ctx := context.Background()     // the requests' own may end; the busy timeout bounds the wait
	if q.stmts == nil && !q.plain { // only this goroutine (one at a time) touches stmts
		q.stmts, _ = a.Store.PrepareScanStatements(ctx) // nil on failure: statements unprepared
	}
	for {
		// A commit costs more than the rows of a few scans: the requests that can run
		// queue theirs first, and one commit writes them all. With none, this returns
		// at once.
		runtime.Gosched()
		q.mu.Lock()
		queued := q.pending
		q.pending = nil
		if len(queued) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		// A nonce sent twice at once (a retry racing its first call) waits for the next
		// transaction, where it finds what its first call wrote.
		var batch, later []*queuedScan
		nonces := make(map[string]bool, len(queued))
		for _, w := range queued {
			if len(batch) == maxWriteBatch || nonces[w.nonce] {
				later = append(later, w)
				continue
			}
			nonces[w.nonce] = true
			batch = append(batch, w)
		}
		if len(later) > 0 {
			q.mu.Lock()
			q.pending = append(later, q.pending...)
			q.mu.Unlock()
		}
		n, err := q.writeBatch(ctx, a, batch)
		if err == nil && n < len(batch) {
			// Cut short for an urgent writer (the mail worker): the rest goes next.
			q.mu.Lock()
			q.pending = append(append([]*queuedScan(nil), batch[n:]...), q.pending...)
			q.mu.Unlock()
			batch = batch[:n]
		}
		if err != nil && len(batch) > 1 && model.ErrorCode(err) != model.EUnavailable {
			// One scan's failure must not be the others': each runs again alone. A
			// database busy past its timeout is everyone's: they are told to try again
			// now rather than wait as long once more.
			for _, w := range batch {
				if _, err := q.writeBatch(ctx, a, []*queuedScan{w}); err != nil {
					w.err = err
				}
				close(w.done)
			}
			continue
		}
		for _, w := range batch {
			if err != nil {
				w.err = err
			}
			close(w.done)
		}
	}
}

// writeBatch writes a batch in one transaction. A panic (a bug) fails the batch,
// rolled back, instead of the process: the requests waiting for it get an error, as
// they would from their own transaction.
// It returns how many of the batch it wrote: fewer when an urgent writer waits.
func (q *writeQueue) writeBatch(ctx context.Context, a *App, batch []*queuedScan) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("app: queued writes: panic: %v\n%s", r, debug.Stack())
		}
	}()
	err = a.Store.Tx(ctx, func(tx *store.Store) error {
		var err error
		n, err = writeScans(ctx, tx, q.stmts, batch)
		return err
	})
	return n, err
}

// writeScans runs the scans of a batch in tx, and says how many it ran: it stops early
// (at least one written) when an urgent writer waits for the connection, so that the
// mail worker, which writes once per message sent, waits for a few rows, not sixty.
func writeScans(ctx context.Context, tx *store.Store, ps *store.ScanStatements, batch []*queuedScan) (int, error) {
	for i, w := range batch {
		if i > 0 && tx.UrgentWaiting() {
			return i, nil
		}
		if !w.savepoint {
			if err := w.run(ctx, tx, ps); err != nil {
				return i, err
			}
			w.err = nil
			continue
		}
		if err := tx.Savepoint(ctx); err != nil {
			return i, err
		}
		if w.err = w.run(ctx, tx, ps); w.err != nil {
			if err := tx.RollbackToSavepoint(ctx); err != nil {
				return i, err
			}
		}
		if err := tx.ReleaseSavepoint(ctx); err != nil {
			return i, err
		}
	}
	return len(batch), nil
}
