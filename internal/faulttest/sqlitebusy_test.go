package faulttest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3", the one relais uses

	"relais/internal/mail/mailtest"
	"relais/internal/store/storetest"
)

// TestSQLiteBusyDoesNotFail holds the SQLite database's write lock from another
// connection while people register. Within relais' busy timeout (10 s) they wait and
// get their 303; past it they are asked to try again (503, Retry-After, a page in
// French), never given a 500.
func TestSQLiteBusyDoesNotFail(t *testing.T) {
	needRelais(t)
	smtp := mailtest.Start(t)
	dbURL := storetest.URL(t, "sqlite")
	// The mail worker and the scheduler write too; with hourly polls they keep out of the
	// way, so that the first writer to wait on the lock is a registration.
	p := startRelais(t, "busy", map[string]string{"RELAIS_DATABASE": dbURL, "RELAIS_SMTP_URL": smtp.URL,
		"RELAIS_MAIL_RETRY_BASE": "1h", "RELAIS_SCHEDULER_INTERVAL": "1h"})
	api := p.addAdmin("admin@busy.example.org")
	ev := api.createEvent(t, "Atelier sécurité en ligne", 0)
	db, err := sql.Open("sqlite3", "file:"+strings.TrimPrefix(dbURL, "sqlite:")+"?_busy_timeout=10000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := openStore(t, dbURL)
	idle := func() {
		t.Helper()
		waitFor(t, 10*time.Second, "the mail worker idle", func() (bool, string) {
			why := unsent(outbox(t, st, ev.ID))
			return why == "", why
		})
	}

	var acked []string
	t.Run("a write shorter than the busy timeout", func(t *testing.T) {
		idle()
		answers := registerWhileLocked(t, p, ev, db, 8, 2*time.Second, "court")
		for _, a := range answers {
			if a.ok() {
				acked = append(acked, a.email)
				if a.before {
					t.Errorf("%s: acknowledged after %s, while the database was still locked", a.email, a.took)
				}
			} else if !a.retryPage() {
				t.Errorf("%s: %s; want a 303 or a page asking to try again", a.email, a)
			}
		}
		if len(acked) != len(answers) {
			t.Errorf("%d of %d registrations waited the 2 s lock out", len(acked), len(answers))
		}
	})
	t.Run("a write longer than the busy timeout", func(t *testing.T) {
		idle()
		// The first registration to reach the database waits 10 s and gives up; the others
		// were waiting for relais' single write connection meanwhile, and get it in time.
		// (Not through the API: its first write, the token's last use, may fail quietly.)
		answers := registerWhileLocked(t, p, ev, db, 3, 11*time.Second, "long")
		retry := 0
		for _, a := range answers {
			switch {
			case a.ok():
				acked = append(acked, a.email)
			case a.retryPage():
				retry++
			default:
				t.Errorf("%s: %s; want a 303 or a page asking to try again", a.email, a)
			}
		}
		if retry == 0 {
			t.Errorf("nobody was asked to try again though the lock outlasted the busy timeout: %v", answers)
		}
	})

	// Everyone who got a 303 is registered.
	rows := map[string]bool{}
	for _, r := range api.registrations(t, ev.ID) {
		rows[strings.ToLower(r.Email)] = true
	}
	for _, email := range acked {
		if !rows[email] {
			t.Errorf("acknowledged registration of %s is lost", email)
		}
	}
}

// busyAnswer is what one registration got while the database was locked.
type busyAnswer struct {
	answer
	email  string
	err    error
	took   time.Duration
	before bool // the answer came before the lock was released
}

func (a busyAnswer) ok() bool { return a.err == nil && a.acknowledged() }

// retryPage says the answer is a clear, temporary refusal: 503 (or 429) with a
// Retry-After, and a page in French asking to try again.
func (a busyAnswer) retryPage() bool {
	return a.err == nil && (a.Status == http.StatusServiceUnavailable || a.Status == http.StatusTooManyRequests) &&
		a.Header.Get("Retry-After") != "" && strings.Contains(strings.ToLower(a.Body), "réessayez")
}

func (a busyAnswer) String() string {
	if a.err != nil {
		return fmt.Sprintf("error after %s: %v", a.took.Round(time.Millisecond), a.err)
	}
	return fmt.Sprintf("%d after %s (Retry-After %q)", a.Status, a.took.Round(time.Millisecond), a.Header.Get("Retry-After"))
}

// registerWhileLocked takes SQLite's write lock (BEGIN IMMEDIATE and an insert), has n
// people register at once, releases the lock after hold and returns their answers.
func registerWhileLocked(t *testing.T, p *relais, ev event, db *sql.DB, n int, hold time.Duration, tag string) []busyAnswer {
	t.Helper()
	visitors := make([]*visitor, n)
	for i := range visitors {
		v, err := newVisitor(p.base + "/e/" + ev.Slug)
		if err != nil {
			t.Fatal(err)
		}
		visitors[i] = v
	}
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: _txlock=immediate
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO key_values (key, value) VALUES (?, ?)", "faulttest-"+tag, "verrou"); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	locked := time.Now()
	var (
		mu       sync.Mutex
		released time.Time
		answers  []busyAnswer
		wg       sync.WaitGroup
	)
	record := func(a busyAnswer, start time.Time) {
		a.took = time.Since(start)
		mu.Lock()
		a.before = released.IsZero()
		answers = append(answers, a)
		mu.Unlock()
	}
	for i, v := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("blog-%s-%d@busy.example.org", tag, i)
			start := time.Now()
			a, err := v.register(p.base, ev.Slug, email)
			record(busyAnswer{answer: a, email: email, err: err}, start)
		}()
	}
	time.Sleep(hold)
	mu.Lock()
	err = tx.Commit()
	released = time.Now()
	mu.Unlock()
	if err != nil {
		t.Fatal(errors.Join(errors.New("commit the lock"), err))
	}
	wg.Wait()
	t.Logf("lock held %s; answers: %v", released.Sub(locked).Round(time.Millisecond), answers)
	return answers
}
