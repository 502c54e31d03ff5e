package store

import (
	"context"
	"sync"
)

// SQLite has one write connection, which database/sql hands out first come, first
// served. During a registration burst some thirty requests wait for it, and the mail
// worker, which writes once per message sent, waited behind all of them each time: the
// confirmations fell seconds behind the registrations. writeGate is a lock in front of
// that connection with two queues; a writer marked Urgent (the mail worker) goes before
// the others, so it waits for one transaction, not for thirty.
type writeGate struct {
	mu             sync.Mutex
	held           bool
	urgent, normal []chan struct{}
}

type urgentKey struct{}

// Urgent marks ctx's writes on SQLite as going first. The mail worker uses it: a short
// write that lets an email leave should not queue behind a burst of registrations.
func Urgent(ctx context.Context) context.Context { return context.WithValue(ctx, urgentKey{}, true) }

func isUrgent(ctx context.Context) bool { v, _ := ctx.Value(urgentKey{}).(bool); return v }

// enter waits for the gate, or for ctx to end.
func (g *writeGate) enter(ctx context.Context) error {
	g.mu.Lock()
	if !g.held {
		g.held = true
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	urgent := isUrgent(ctx)
	if urgent {
		g.urgent = append(g.urgent, ch)
	} else {
		g.normal = append(g.normal, ch)
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		if removed := g.remove(ch, urgent); !removed {
			// The gate was handed over just as ctx ended: pass it on.
			g.mu.Unlock()
			g.leave()
			return ctx.Err()
		}
		g.mu.Unlock()
		return ctx.Err()
	}
}

func (g *writeGate) remove(ch chan struct{}, urgent bool) bool {
	q := &g.normal
	if urgent {
		q = &g.urgent
	}
	for i, c := range *q {
		if c == ch {
			*q = append((*q)[:i], (*q)[i+1:]...)
			return true
		}
	}
	return false
}

// leave hands the gate to the first urgent waiter, else to the first other one.
func (g *writeGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	var next chan struct{}
	switch {
	case len(g.urgent) > 0:
		next, g.urgent = g.urgent[0], g.urgent[1:]
	case len(g.normal) > 0:
		next, g.normal = g.normal[0], g.normal[1:]
	default:
		g.held = false
		return
	}
	close(next)
}

// gated runs fn holding the write gate (SQLite outside a transaction); elsewhere it just
// runs fn: PostgreSQL has many writers, and inside a transaction the gate is held already.
func (s *Store) gated(ctx context.Context, fn func() error) error {
	if s.gate == nil || s.inTx {
		return fn()
	}
	if err := s.gate.enter(ctx); err != nil {
		return err
	}
	defer s.gate.leave()
	return fn()
}

// UrgentWaiting says whether an urgent writer (the mail worker) waits for the write
// gate: a transaction that writes a queue of requests can commit early and let it in.
func (s *Store) UrgentWaiting() bool {
	if s.gate == nil {
		return false
	}
	s.gate.mu.Lock()
	defer s.gate.mu.Unlock()
	return len(s.gate.urgent) > 0
}
