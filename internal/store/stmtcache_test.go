package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A statement first seen in a transaction runs there unprepared, is prepared once the
// connection is free, and is then used by later transactions, seeing their own writes
// and not those rolled back.
func TestWriterKeepsTransactionStatementsPrepared(t *testing.T) {
	ctx := context.Background()
	s := notesStore(t)
	pool, ok := s.db.ConnPool.(*stmtPool)
	if !ok {
		t.Fatalf("writer pool is %T", s.db.ConnPool)
	}
	const insert, count = "INSERT INTO notes (body) VALUES (?)", "SELECT count(*) FROM notes"
	inTx := func(n int, commit bool) int64 {
		t.Helper()
		var seen int64
		err := s.Tx(ctx, func(tx *Store) error {
			for i := range n {
				if err := tx.db.Exec(insert, i).Error; err != nil {
					return err
				}
			}
			if err := tx.db.Raw(count).Scan(&seen).Error; err != nil {
				return err
			}
			if !commit {
				return errRollback
			}
			return nil
		})
		if err != nil && err != errRollback {
			t.Fatal(err)
		}
		return seen
	}
	if got := inTx(2, true); got != 2 {
		t.Fatalf("first transaction sees %d rows, want 2", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for pool.cached(insert) == nil || pool.cached(count) == nil {
		if time.Now().After(deadline) {
			t.Fatal("statements of the first transaction not prepared after it")
		}
		time.Sleep(5 * time.Millisecond)
	}
	st := pool.cached(insert)
	if got := inTx(3, false); got != 5 {
		t.Fatalf("a transaction sees %d rows, want its own 3 on top of 2", got)
	}
	if got := inTx(1, true); got != 3 {
		t.Fatalf("after a rollback, %d rows, want 3", got)
	}
	if pool.cached(insert) != st {
		t.Fatal("the statement was prepared again")
	}
}

var errRollback = errorString("rollback")

type errorString string

func (e errorString) Error() string { return string(e) }

// notesStore opens a store on a new SQLite file with one table, notes (id, body).
func notesStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "relais.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.db.Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	return s
}
