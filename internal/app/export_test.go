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
func (a *App) RegistrationTurnLimit() int {
	a.regTurns.mu.Lock()
	defer a.regTurns.mu.Unlock()
	return a.regTurns.limit()
}

// TakeRegistrationTurn takes a turn as RegisterFor does, without waiting: false when
// none is free.
func (a *App) TakeRegistrationTurn() bool {
	t := &a.regTurns
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.waiting) > 0 || t.active >= t.limit() {
		return false
	}
	t.active++
	return true
}

// LeaveRegistrationTurn gives a turn back.
func (a *App) LeaveRegistrationTurn() { a.regTurns.leave() }

// RegistrationTurnsTaken says how many turns are taken.
func (a *App) RegistrationTurnsTaken() int {
	a.regTurns.mu.Lock()
	defer a.regTurns.mu.Unlock()
	return a.regTurns.active
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
