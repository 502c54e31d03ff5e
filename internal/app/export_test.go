package app

import "time"

// SetNewReference replaces how references are drawn until the returned func is called.
func SetNewReference(f func() string) (restore func()) {
	old := newReference
	newReference = f
	return func() { newReference = old }
}

// RegistrationSlots returns the slots RegisterFor takes one of while it works.
func (a *App) RegistrationSlots() chan struct{} { return a.regSlots }

// RegistrationNarrowSlots returns the slots RegisterFor also takes one of while the
// mail worker is behind.
func (a *App) RegistrationNarrowSlots() chan struct{} { return a.regNarrow }

// HoldRegistrationWrites keeps SQLite's queue of registration writes from being written
// until flush is called with how many are queued: flush waits until they are, then
// writes them as the queue's goroutine does, in one transaction.
func (a *App) HoldRegistrationWrites() (flush func(n int)) {
	q := &a.regWrites
	q.mu.Lock()
	q.running = true
	q.mu.Unlock()
	return func(n int) {
		for {
			q.mu.Lock()
			k := len(q.pending)
			q.mu.Unlock()
			if k >= n {
				break
			}
			time.Sleep(time.Millisecond)
		}
		go q.write(a)
	}
}
