package store

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// openCheckpointed opens a SQLite store with the checkpointer paced as given.
func openCheckpointed(t *testing.T, every time.Duration, restartFrames int) (*Store, string) {
	t.Helper()
	oldEvery, oldRestart := walCheckpointEvery, walRestartFrames
	walCheckpointEvery, walRestartFrames = every, restartFrames
	t.Cleanup(func() { walCheckpointEvery, walRestartFrames = oldEvery, oldRestart })
	path := filepath.Join(t.TempDir(), "relais.db")
	s, err := Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.SQLDB().Exec("CREATE TABLE blobs (b BLOB)"); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// The write connection commits without checkpointing; the checkpointer copies the log
// into the database file on its own.
func TestCheckpointsAreNotTheWritersJob(t *testing.T) {
	s, path := openCheckpointed(t, 50*time.Millisecond, walRestartFrames)
	var auto int
	if err := s.SQLDB().QueryRow("PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != walFallbackFrames {
		t.Fatalf("the write connection's wal_autocheckpoint is %d (%v), want %d", auto, err, walFallbackFrames)
	}
	// 8 MB, past the 1,000 pages (4 MB) at which SQLite's own writer would checkpoint.
	blob := make([]byte, 64<<10)
	err := s.gated(context.Background(), func() error {
		tx, err := s.SQLDB().Begin()
		if err != nil {
			return err
		}
		for range 128 {
			if _, err := tx.Exec("INSERT INTO blobs (b) VALUES (?)", blob); err != nil {
				tx.Rollback()
				return err
			}
		}
		return tx.Commit()
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() >= 8<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file holds %d bytes 10 s after the commit: not checkpointed (%+v)", st.Size(), s.CheckpointStats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := s.CheckpointStats(); st.Errors != 0 {
		t.Fatalf("checkpointer stats %+v", st)
	}
}

// Writers that never pause would keep the log growing (a checkpoint that copies it
// while they append cannot start it over): past walRestartFrames pages the
// checkpointer holds them back for a moment, and the log starts over.
func TestCheckpointBoundsTheLogUnderContinuousWrites(t *testing.T) {
	const gate = 400
	s, _ := openCheckpointed(t, 20*time.Millisecond, gate)
	ctx := context.Background()
	blob := make([]byte, 3000) // a page or so per row
	// The writers go on until they have written well past the bound (however long that
	// takes on a slow machine), and at least 1.5 s.
	const want = 25 * gate
	var stop atomic.Bool
	var written atomic.Int64
	defer stop.Store(true)
	done := make(chan error, 2)
	for range 2 {
		go func() {
			for !stop.Load() {
				if err := s.gated(ctx, func() error {
					_, err := s.SQLDB().Exec("INSERT INTO blobs (b) VALUES (?)", blob)
					return err
				}); err != nil {
					done <- err
					return
				}
				written.Add(1)
			}
			done <- nil
		}()
	}
	start := time.Now()
	for written.Load() < want || time.Since(start) < 1500*time.Millisecond {
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("only %d rows written in 2 minutes", written.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	var rows int
	if err := s.SQLDB().QueryRow("SELECT count(*) FROM blobs").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	st := s.CheckpointStats()
	t.Logf("%d rows written; checkpointer %+v", rows, st)
	if st.Errors != 0 {
		t.Fatal(st.LastErr)
	}
	if st.Held == 0 {
		t.Fatalf("no checkpoint held the writers back, the log reached %d pages", st.MaxLog)
	}
	// Past the bound, one interval's writes more at most (a tick is 20 ms; leave room
	// for a slow machine's longer pauses).
	if st.MaxLog > rows/2 {
		t.Fatalf("the log reached %d pages for %d rows written: it did not start over", st.MaxLog, rows)
	}
}

// A checkpoint waiting for the write gate gives up when the store closes: closing does
// not wait for the writer that holds the gate (up to the checkpoint's 30 s).
func TestCheckpointerStopsWaitingAtClose(t *testing.T) {
	s, _ := openCheckpointed(t, 10*time.Millisecond, 1)
	if _, err := s.SQLDB().Exec("INSERT INTO blobs (b) VALUES (x'00')"); err != nil {
		t.Fatal(err)
	}
	if err := s.gate.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.gate.leave()
	deadline := time.Now().Add(5 * time.Second)
	for { // the checkpointer queues for the gate
		s.gate.mu.Lock()
		waiting := len(s.gate.normal)
		s.gate.mu.Unlock()
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the checkpointer never asked for the gate")
		}
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { s.ckpt.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("closing waited for the checkpoint queued behind the gate")
	}
	s.ckpt = nil // closed above; Close (cleanup) closes the rest
}
