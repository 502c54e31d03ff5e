package store

import (
	"context"
	"testing"
	"time"
)

// An urgent writer (the mail worker) is let in before writers that came first; a
// writer that gives up while waiting leaves the queue without blocking the others.
func TestWriteGateOrder(t *testing.T) {
	g := &writeGate{}
	ctx := context.Background()
	if err := g.enter(ctx); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 3)
	waiting := func(n int) {
		for {
			g.mu.Lock()
			l := len(g.urgent) + len(g.normal)
			g.mu.Unlock()
			if l == n {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	go func() { g.enter(ctx); order <- "first normal"; g.leave() }()
	waiting(1)
	gone, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error)
	go func() { gaveUp <- g.enter(gone) }()
	waiting(2)
	go func() { g.enter(Urgent(ctx)); order <- "urgent"; g.leave() }()
	waiting(3)
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("a cancelled waiter entered")
	}
	go func() { g.enter(ctx); order <- "second normal"; g.leave() }()
	waiting(3)
	g.leave()
	for _, want := range []string{"urgent", "first normal", "second normal"} {
		if got := <-order; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if err := g.enter(ctx); err != nil { // free again
		t.Fatal(err)
	}
	g.leave()
	if g.held {
		t.Fatal("gate still held")
	}
}

// A transaction writing a queue of requests sees when the mail worker waits.
func TestUrgentWaiting(t *testing.T) {
	g := &writeGate{}
	s := &Store{gate: g, inTx: true}
	ctx := context.Background()
	if err := g.enter(ctx); err != nil {
		t.Fatal(err)
	}
	if s.UrgentWaiting() {
		t.Fatal("urgent writer reported with none waiting")
	}
	done := make(chan struct{})
	go func() { g.enter(ctx); g.leave(); close(done) }() // an ordinary writer: not urgent
	for {
		g.mu.Lock()
		n := len(g.normal)
		g.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if s.UrgentWaiting() {
		t.Fatal("an ordinary writer counted as urgent")
	}
	go func() { g.enter(Urgent(ctx)); g.leave() }()
	for !s.UrgentWaiting() {
		time.Sleep(time.Millisecond)
	}
	g.leave()
	<-done
	if (&Store{}).UrgentWaiting() {
		t.Fatal("a store without a gate (PostgreSQL) reported an urgent writer")
	}
}
