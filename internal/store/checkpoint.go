package store

import (
	"context"
	"database/sql"
	"strconv"
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
// The write connection therefore leaves checkpoints to a goroutine (its driver sets
// wal_autocheckpoint to walFallbackFrames, far beyond what the goroutine lets the log
// reach: SQLite's own checkpoints come back only if the goroutine stops doing its
// work). The goroutine checkpoints on a connection of its own, in PASSIVE mode, which
// does not stop writers or readers. The log starts over from its beginning only when a
// writer begins and finds it all copied back: writers that never pause (a burst) keep
// it growing, however often it is copied. So once the log is past walRestartFrames
// pages, the checkpointer copies it back until a pass finds little new, then holds the
// write gate while it copies that little and syncs the files, and the next writer
// starts the log over. The writers that take the gate (registrations, scans, the mail
// worker) wait for that once in a while, where they waited for the whole copy and a
// disk sync every thousand pages; a write that does not take the gate may commit
// meanwhile, and the log then starts over at a later write.
//
// Durability does not change: a commit is in the log (synchronous=NORMAL) before it is
// acknowledged, and a crash replays the log on the next open.

// sqliteWriterDriver is mattn/go-sqlite3 with SQLite's own checkpoints put back to
// walFallbackFrames on every connection it opens (the write pool's one connection,
// reopened after a failure too).
const sqliteWriterDriver = "sqlite3-relais-writer"

// walFallbackFrames is where the write connection checkpoints by itself (80 MB of log).
const walFallbackFrames = 20000

func init() {
	sql.Register(sqliteWriterDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint="+strconv.Itoa(walFallbackFrames), nil)
		return err
	}})
}

// Checkpoint pacing: one every walCheckpointEvery (it costs nothing when the log was
// copied back already); past walRestartFrames pages in the log, the log is made to
// start over, holding writers back once a pass finds at most walHeldFrames new pages.
var (
	walCheckpointEvery = 250 * time.Millisecond
	walRestartFrames   = 4000 // 16 MB of 4 KB pages; SQLite's own writer checkpoints at 1,000
	walHeldFrames      = 512
)

type checkpointer struct {
	db     *sql.DB
	gate   *writeGate
	ctx    context.Context // ends with close: a checkpoint waiting for the gate gives up
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	stats CheckpointStats
}

// CheckpointStats is what the checkpointer has done, for tests.
type CheckpointStats struct {
	Held    int   // checkpoints taken holding the write gate
	MaxLog  int   // most pages seen in the log
	Errors  int   // checkpoints that failed
	LastErr error // the last failure
}

func startCheckpointer(db *sql.DB, gate *writeGate) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, gate: gate, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(walCheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		log, _, err := c.checkpoint(false)
		maxLog, held := log, false
		if err == nil && log >= walRestartFrames {
			// Catch up with the writers: each pass copies what they wrote during the one
			// before, until that is little; then hold them back for the rest.
			for i := 0; i < 4 && err == nil; i++ {
				prev := log
				if log, _, err = c.checkpoint(false); log-prev <= walHeldFrames {
					break
				}
			}
			if err == nil {
				log, _, err = c.checkpoint(true)
				held = err == nil
			}
			maxLog = max(maxLog, log)
		}
		c.mu.Lock()
		c.stats.MaxLog = max(c.stats.MaxLog, maxLog)
		if held {
			c.stats.Held++
		}
		if err != nil && c.ctx.Err() == nil {
			c.stats.Errors++
			c.stats.LastErr = err
		}
		c.mu.Unlock()
	}
}

// checkpoint runs one PASSIVE checkpoint and returns the pages in the log when it
// began and the pages copied back; gated, it holds the write gate meanwhile, so that
// the log is copied entirely (unless a reader still needs a part of it) and the next
// writer starts it over.
func (c *checkpointer) checkpoint(gated bool) (log, copied int, err error) {
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
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
	c.cancel()
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
