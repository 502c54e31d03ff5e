package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// SQLite in WAL mode appends each commit to the log; a checkpoint copies the log back
// into the database file and syncs that file to disk. By default the connection whose
// commit takes the log past 1,000 pages runs the checkpoint then and there, holding the
// one write connection: during a registration burst that was every tenth of a second or
// so, and the registration or scan that happened to commit, and all those queued
// behind it, waited for a disk sync (registration p99 164 ms against a p95 of 45 ms).
//
// The write connection therefore never checkpoints (its driver sets
// wal_autocheckpoint=0); a goroutine does, on a connection of its own, in PASSIVE mode,
// which does not stop writers or readers. The log starts over from its beginning only
// when a writer begins and finds it all copied back: writers that never pause (a burst)
// keep it growing, however often it is copied. So once the log is past
// walRestartFrames pages, the checkpointer copies it back until little is left, then
// holds the write gate for as long as it takes to copy that little, and the next
// writer starts the log over: writers wait a few milliseconds once in a while, where
// they waited for the whole copy and a disk sync every thousand pages.
//
// Durability does not change: a commit is in the log (synchronous=NORMAL) before it is
// acknowledged, and a crash replays the log on the next open.

// sqliteWriterDriver is mattn/go-sqlite3 with automatic checkpoints off on every
// connection it opens (the write pool's one connection, reopened after a failure too).
const sqliteWriterDriver = "sqlite3-relais-writer"

func init() {
	sql.Register(sqliteWriterDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint=0", nil)
		return err
	}})
}

// Checkpoint pacing: one every walCheckpointEvery (it costs nothing when the log was
// copied back already); past walRestartFrames pages in the log, the log is made to
// start over, holding writers back while at most walHeldFrames pages are copied.
var (
	walCheckpointEvery = 250 * time.Millisecond
	walRestartFrames   = 4000 // 16 MB of 4 KB pages; SQLite's own writer checkpoints at 1,000
	walHeldFrames      = 512
)

type checkpointer struct {
	db   *sql.DB
	gate *writeGate
	stop chan struct{}
	done chan struct{}

	mu    sync.Mutex
	stats CheckpointStats
}

// CheckpointStats is what the checkpointer has done, for tests.
type CheckpointStats struct {
	Held   int // checkpoints taken holding the write gate
	MaxLog int // most pages seen in the log
	Err    error
}

func startCheckpointer(db *sql.DB, gate *writeGate) *checkpointer {
	c := &checkpointer{db: db, gate: gate, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(walCheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		log, copied, err := c.checkpoint(false)
		maxLog, held := log, false
		if err == nil && log >= walRestartFrames {
			// Catch up with the writers (each pass copies what they wrote during the
			// last), then hold them back for the rest.
			for i := 0; i < 4 && err == nil && log-copied > walHeldFrames; i++ {
				log, copied, err = c.checkpoint(false)
				maxLog = max(maxLog, log)
			}
			if err == nil {
				log, _, err = c.checkpoint(true)
				maxLog, held = max(maxLog, log), true
			}
		}
		c.mu.Lock()
		c.stats.Err = err
		c.stats.MaxLog = max(c.stats.MaxLog, maxLog)
		if held && err == nil {
			c.stats.Held++
		}
		c.mu.Unlock()
	}
}

// checkpoint runs one PASSIVE checkpoint and returns the pages in the log and the
// pages copied back so far; gated, it holds the write gate meanwhile, so that the log
// is copied entirely (unless a reader still needs a part of it) and the next writer
// starts it over.
func (c *checkpointer) checkpoint(gated bool) (log, copied int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if gated {
		if err := c.gate.enter(ctx); err != nil {
			return 0, 0, err
		}
		defer c.gate.leave()
	}
	var busy int
	err = c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &copied)
	return log, copied, err
}

func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}

// CheckpointStats reports the SQLite checkpointer's work (zero elsewhere).
func (s *Store) CheckpointStats() CheckpointStats {
	if s.ckpt == nil {
		return CheckpointStats{}
	}
	s.ckpt.mu.Lock()
	defer s.ckpt.mu.Unlock()
	return s.ckpt.stats
}
