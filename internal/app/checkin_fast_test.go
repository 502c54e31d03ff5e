package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"relais/internal/config"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// checkinFastSetup is an app on SQLite with an event and n confirmed registrations.
func checkinFastSetup(t *testing.T, n int) (*App, *model.Event, []*model.Registration) {
	t.Helper()
	ctx := context.Background()
	a := New(storetest.Open(t, "sqlite"), config.Defaults(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Now().Add(time.Hour).UTC().Truncate(time.Minute)
	ev := &model.Event{Title: "Accueil", StartsAt: start, EndsAt: start.Add(2 * time.Hour), RegistrationMode: model.ModeOpen,
		Status: model.EventPublished}
	if err := a.SaveEvent(ctx, Actor{Name: "test"}, ev); err != nil {
		t.Fatal(err)
	}
	regs := make([]*model.Registration, n)
	for i := range regs {
		c := &model.Contact{Email: fmt.Sprintf("p%d@example.tg", i), FirstName: "P", LastName: fmt.Sprint(i), Lang: "fr", UnsubscribeToken: NewToken()}
		if err := a.Store.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		regs[i] = &model.Registration{EventID: ev.ID, ContactID: c.ID, Status: model.RegConfirmed, Source: model.SourceOnline, Lang: "fr",
			Answers: "{}", TicketCode: NewToken(), Reference: fmt.Sprintf("R%05d", i), ManageToken: NewToken()}
		if err := a.Store.CreateRegistration(ctx, regs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return a, ev, regs
}

// checkinFastAdmission is the fast write of a scan of r with the nonce.
func checkinFastAdmission(ev *model.Event, r *model.Registration, nonce string) *fastAdmission {
	at := store.Now()
	ci := &model.CheckIn{EventID: ev.ID, RegistrationID: &r.ID, Action: "in", Result: CheckInOK, ScannedAt: at, Device: "Porte",
		ActorName: "Porte", Nonce: nonce, Code: r.TicketCode, Answer: CheckInOK, AnswerAt: &at, AnswerBy: "Porte"}
	return &fastAdmission{ci: ci, regID: r.ID, at: at, by: "Porte", device: "Porte"}
}

// checkinFastRun writes ws as the queue's goroutine does, all queued at once.
func checkinFastRun(a *App, ws ...*queuedScan) {
	q := &a.door.writes
	for _, w := range ws {
		w.done = make(chan struct{})
	}
	q.mu.Lock()
	q.pending, q.running = append(q.pending, ws...), true
	q.mu.Unlock()
	q.write(a)
}

func checkinFastAdmitted(t *testing.T, a *App, r *model.Registration) bool {
	t.Helper()
	got, err := a.Store.FindRegistration(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.CheckedInAt != nil
}

func checkinFastLogged(t *testing.T, a *App, nonce string) bool {
	t.Helper()
	_, err := a.Store.FindCheckInByNonce(context.Background(), nonce)
	if err != nil && model.ErrorCode(err) != model.ENotFound {
		t.Fatal(err)
	}
	return err == nil
}

// Scans that share a transaction do not share a failure: a scan whose decision fails
// (in its savepoint) undoes its own writes only, and when a write fails the whole
// transaction, each scan runs again alone.
func TestCheckinFastSharedTransaction(t *testing.T) {
	a, ev, regs := checkinFastSetup(t, 4)
	x0, x3 := checkinFastAdmission(ev, regs[0], "n0"), checkinFastAdmission(ev, regs[3], "n3")
	broken := errors.New("broken write")
	refused := model.Errorf(model.EConflict, "checkin.nonce_used")
	w0 := &queuedScan{run: x0.write, nonce: "n0"}
	w1 := &queuedScan{nonce: "n1", run: func(ctx context.Context, tx *store.Store, _ *store.ScanStatements) error {
		return broken // a write that fails the transaction it is in
	}}
	w2 := &queuedScan{nonce: "n2", savepoint: true, run: func(ctx context.Context, tx *store.Store, _ *store.ScanStatements) error {
		if _, err := tx.AdmitRegistration(ctx, regs[2].ID, store.Now(), "Porte", "Porte"); err != nil {
			return err
		}
		return refused // decided after writing: its admission must go
	}}
	w3 := &queuedScan{run: x3.write, nonce: "n3"}
	checkinFastRun(a, w0, w1, w2, w3)
	if w0.err != nil || !x0.admitted || x0.dup || !checkinFastAdmitted(t, a, regs[0]) || !checkinFastLogged(t, a, "n0") {
		t.Fatalf("scan before the broken one: %v admitted=%v dup=%v", w0.err, x0.admitted, x0.dup)
	}
	if !errors.Is(w1.err, broken) {
		t.Fatalf("broken write: %v", w1.err)
	}
	if w2.err != refused || checkinFastAdmitted(t, a, regs[2]) {
		t.Fatalf("refused scan: %v, admitted %v", w2.err, checkinFastAdmitted(t, a, regs[2]))
	}
	if w3.err != nil || !x3.admitted || !checkinFastAdmitted(t, a, regs[3]) {
		t.Fatalf("scan after the broken one: %v admitted=%v", w3.err, x3.admitted)
	}
	// Without a failure, one transaction writes them all.
	y1, y2 := checkinFastAdmission(ev, regs[1], "m1"), checkinFastAdmission(ev, regs[2], "m2")
	again := checkinFastAdmission(ev, regs[0], "m0") // admitted before: its row is taken back
	v1, v2, v0 := &queuedScan{run: y1.write, nonce: "m1"}, &queuedScan{run: y2.write, nonce: "m2"}, &queuedScan{run: again.write, nonce: "m0"}
	checkinFastRun(a, v1, v2, v0)
	if v1.err != nil || v2.err != nil || v0.err != nil || !y1.admitted || !y2.admitted || again.admitted || again.dup {
		t.Fatalf("batch: %v %v %v, admitted %v %v %v", v1.err, v2.err, v0.err, y1.admitted, y2.admitted, again.admitted)
	}
	if checkinFastLogged(t, a, "m0") {
		t.Fatal("the row of a scan that admitted nobody was kept")
	}
}

// A nonce queued twice at once (a retry racing its first call) is written in the next
// transaction, where it finds its first call's row: one row, one admission.
func TestCheckinFastSameNonceQueuedTwice(t *testing.T) {
	a, ev, regs := checkinFastSetup(t, 1)
	first, retry := checkinFastAdmission(ev, regs[0], "same"), checkinFastAdmission(ev, regs[0], "same")
	w1, w2 := &queuedScan{run: first.write, nonce: "same"}, &queuedScan{run: retry.write, nonce: "same"}
	checkinFastRun(a, w1, w2)
	if w1.err != nil || w2.err != nil || !first.admitted || first.dup || retry.admitted || !retry.dup {
		t.Fatalf("first %+v (%v), retry %+v (%v)", first, w1.err, retry, w2.err)
	}
	rows, err := a.Store.ListCheckIns(context.Background(), ev.ID, false, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d log rows (%v), want 1", len(rows), err)
	}
}

// A scan whose writes panic (a bug) fails alone: the others of its transaction are
// written, and the process goes on.
func TestCheckinFastPanicFailsAlone(t *testing.T) {
	a, ev, regs := checkinFastSetup(t, 1)
	x := checkinFastAdmission(ev, regs[0], "fine")
	ok := &queuedScan{run: x.write, nonce: "fine"}
	bad := &queuedScan{nonce: "bad", run: func(context.Context, *store.Store, *store.ScanStatements) error { panic("bug") }}
	checkinFastRun(a, bad, ok)
	if bad.err == nil || ok.err != nil || !x.admitted || !checkinFastAdmitted(t, a, regs[0]) {
		t.Fatalf("panicking scan: %v; other: %v, admitted %v", bad.err, ok.err, x.admitted)
	}
}

// A live scan of a ticket admitted before is answered in the shared transaction:
// already_checked_in with the first admission's time and door, logged so; a retry of
// it gets the same answer, and an offline scan still takes the way of conflicts.
func TestCheckinFastAlreadyCheckedIn(t *testing.T) {
	a, ev, regs := checkinFastSetup(t, 2)
	ctx := context.Background()
	door := Door{Link: &model.DoorLink{ID: 0, Name: "Entrée"}}
	first, err := a.CheckIn(ctx, door, ev.ID, ScanInput{RegistrationID: regs[0].ID, Nonce: "a1", Device: "Porte A"})
	if err != nil || first.Result != CheckInOK {
		t.Fatalf("first scan: %+v, %v", first, err)
	}
	for _, nonce := range []string{"a2", "a2"} { // the second is a retry
		again, err := a.CheckIn(ctx, door, ev.ID, ScanInput{RegistrationID: regs[0].ID, Nonce: nonce, Device: "Porte B"})
		if err != nil || again.Result != CheckInAlready || again.By != "Porte A" || again.CheckedInAt == nil ||
			!again.CheckedInAt.Equal(*first.CheckedInAt) || again.Registration == nil || again.Registration.ID != regs[0].ID {
			t.Fatalf("scan again (%s): %+v, %v", nonce, again, err)
		}
	}
	ci, err := a.Store.FindCheckInByNonce(ctx, "a2")
	if err != nil || ci.Result != CheckInAlready || ci.Answer != CheckInAlready || ci.AnswerBy != "Porte A" || ci.RegistrationID == nil {
		t.Fatalf("log row of the second scan: %+v, %v", ci, err)
	}
	// Queued together, two scans of one ticket admit it once.
	x1, x2 := checkinFastAdmission(ev, regs[1], "b1"), checkinFastAdmission(ev, regs[1], "b2")
	x1.live, x2.live = true, true
	w1, w2 := &queuedScan{run: x1.write, nonce: "b1"}, &queuedScan{run: x2.write, nonce: "b2"}
	checkinFastRun(a, w1, w2)
	if w1.err != nil || w2.err != nil || !x1.admitted || x2.admitted || x2.first == nil || x2.first.At == nil {
		t.Fatalf("same ticket twice in one transaction: %+v (%v), %+v (%v)", x1, w1.err, x2, w2.err)
	}
	// Offline, the scan is decided by writeScan (earliest wins): its fast row is taken back.
	off := checkinFastAdmission(ev, regs[1], "b3")
	w3 := &queuedScan{run: off.write, nonce: "b3"}
	checkinFastRun(a, w3)
	if w3.err != nil || off.admitted || off.first != nil || checkinFastLogged(t, a, "b3") {
		t.Fatalf("offline scan of an admitted ticket: %+v (%v)", off, w3.err)
	}
}
