package app

import (
	"context"
	"errors"
	"time"
)

// SetNewReference replaces how references are drawn until the returned func is called.
func SetNewReference(f func() string) (restore func()) {
	old := newReference
	newReference = f
	return func() { newReference = old }
}

// How late the mail may be before fewer registrations are written at once.
const (
	MailLate     = mailLate
	MailVeryLate = mailVeryLate
)

// RegistrationTurnLimit says how many registrations RegisterFor lets through at once now.
func (a *App) RegistrationTurnLimit() int { return int(a.regTurns.size / a.regTurns.weight()) }

// TakeRegistrationTurn takes a turn as RegisterFor does, without waiting: false when
// none is free. release gives it back.
func (a *App) TakeRegistrationTurn() (release func(), ok bool) {
	w := a.regTurns.weight()
	if !a.regTurns.sem.TryAcquire(w) {
		return nil, false
	}
	return func() { a.regTurns.sem.Release(w) }, true
}

// RegistrationTurnsAllFree says whether no turn is taken.
func (a *App) RegistrationTurnsAllFree() bool {
	if !a.regTurns.sem.TryAcquire(a.regTurns.size) {
		return false
	}
	a.regTurns.sem.Release(a.regTurns.size)
	return true
}

// HoldRegistrationWrites keeps SQLite's queue of registration writes from being written
// until flush is called with how many are queued: flush waits until they are, then
// writes them in one transaction, and returns how many it wrote and the transaction's
// error (when it failed, the registrations are told so, not run again alone).
func (a *App) HoldRegistrationWrites() (flush func(n int) (int, error)) {
	q := &a.regWrites
	q.mu.Lock()
	q.running = true
	q.mu.Unlock()
	return func(n int) (int, error) {
		for {
			q.mu.Lock()
			k := len(q.pending)
			q.mu.Unlock()
			if k >= n {
				break
			}
			time.Sleep(time.Millisecond)
		}
		q.mu.Lock()
		batch := q.pending
		q.pending, q.running = nil, false
		q.mu.Unlock()
		written, err := q.writeBatch(context.Background(), a, batch)
		for i, w := range batch {
			switch {
			case err != nil:
				w.err = err
			case i >= written:
				w.err = errors.New("not written: the transaction gave way to an urgent writer")
			}
			close(w.done)
		}
		return written, err
	}
}
