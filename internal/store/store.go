// Package store keeps Relais' data in SQLite or PostgreSQL through GORM. It is the
// only package that imports gorm; it returns model types and *model.Error values.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"relais/internal/config"
	"relais/internal/model"
	"relais/internal/store/migrations"
)

// Store is a handle on the database. On SQLite writes go through a single connection
// (one writer, immediate transactions) and reads through a separate pool.
type Store struct {
	db     *gorm.DB // writes (and reads inside transactions)
	read   *gorm.DB // reads outside transactions
	Driver string   // "sqlite" or "postgres"
	// Now is the clock used for stored times; tests replace it.
	Now  func() time.Time
	inTx bool
	gate *writeGate    // SQLite: the order of the writers of the one connection (gate.go)
	ckpt *checkpointer // SQLite: copies the log back into the database (checkpoint.go)
}

// Now returns the current time in UTC, truncated to what both databases keep.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// readers is the number of SQLite's read connections.
const readers = 8

// Open connects to the database named by a RELAIS_DATABASE URL. It does not migrate.
func Open(ctx context.Context, url string) (*Store, error) {
	driver, dsn, err := config.ParseDatabase(url)
	if err != nil {
		return nil, err
	}
	gcfg := func() *gorm.Config {
		return &gorm.Config{
			TranslateError:         true,
			Logger:                 logger.Discard,
			NowFunc:                Now,
			SkipDefaultTransaction: true,
			// On SQLite, preparing a statement took an eighth of a registration's CPU:
			// the readers keep theirs prepared (a bounded cache), the writer too (see
			// stmtPool). pgx keeps its own statement cache on PostgreSQL.
			PrepareStmt:        driver == "sqlite",
			PrepareStmtMaxSize: 512,
		}
	}
	s := &Store{Driver: driver, Now: Now}
	switch driver {
	case "sqlite":
		if dir := filepath.Dir(dsn); dir != "" && dir != "." && !strings.HasPrefix(dsn, ":memory:") {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: create %s: %w", dir, err)
			}
		}
		params := "_busy_timeout=10000&_foreign_keys=on&_journal_mode=WAL&_synchronous=NORMAL"
		// The writer keeps its statements prepared itself (stmtPool), in transactions too.
		sqlw, err := sql.Open(sqliteWriterDriver, "file:"+dsn+"?"+params+"&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		wcfg := gcfg()
		wcfg.PrepareStmt = false
		w, err := gorm.Open(sqlite.New(sqlite.Config{Conn: newStmtPool(sqlw)}), wcfg)
		if err != nil {
			sqlw.Close()
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		// Each reader keeps its own page cache (2 MB by default, 8 readers): 512 KB
		// each holds the hot pages (indexes, the events read on every page); the rest
		// comes from the system's file cache, shared with the writer.
		r, err := gorm.Open(sqlite.Open("file:"+dsn+"?"+params+"&mode=ro&_cache_size=-512"), gcfg())
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		wdb, _ := w.DB()
		wdb.SetMaxOpenConns(1)
		wdb.SetMaxIdleConns(1)
		wdb.SetConnMaxLifetime(0)
		rdb, _ := r.DB()
		rdb.SetMaxOpenConns(readers)
		rdb.SetMaxIdleConns(readers)
		s.db, s.read, s.gate = w, r, &writeGate{}
		// The checkpointer's connection writes the database file only: a small cache.
		c, err := sql.Open("sqlite3", "file:"+dsn+"?"+params+"&_cache_size=-64")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		c.SetMaxOpenConns(1)
		s.ckpt = startCheckpointer(c, s.gate)
	case "postgres":
		g, err := gorm.Open(postgres.Open(dsn), gcfg())
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		pdb, _ := g.DB()
		pdb.SetMaxOpenConns(20)
		pdb.SetMaxIdleConns(10)
		pdb.SetConnMaxIdleTime(5 * time.Minute)
		s.db, s.read = g, g
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Migrate applies pending migrations. On SQLite the read pool opens read-only, so a
// brand-new file must exist first: Migrate runs on the write connection.
func (s *Store) Migrate(ctx context.Context) error {
	if err := migrations.Run(s.db.WithContext(ctx)); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqldb, err := s.db.DB()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := sqldb.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// ReleaseMemory hands back what SQLite keeps in memory for later: the writer's page
// cache, and the readers' connections left idle with theirs (they open again on demand).
// Serve calls it once start-up is done. Nothing to do on PostgreSQL.
func (s *Store) ReleaseMemory(ctx context.Context) error {
	if s.Driver != "sqlite" {
		return nil
	}
	if err := s.db.WithContext(ctx).Exec("PRAGMA shrink_memory").Error; err != nil {
		return wrap(err, "release memory")
	}
	rdb, err := s.read.DB()
	if err != nil {
		return err
	}
	rdb.SetMaxIdleConns(0)
	rdb.SetMaxIdleConns(readers)
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	var errs []error
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.close())
	}
	for _, g := range []*gorm.DB{s.db, s.read} {
		if g == nil {
			continue
		}
		if d, err := g.DB(); err == nil {
			errs = append(errs, d.Close())
		}
		if s.read == s.db {
			break
		}
	}
	return errors.Join(errs...)
}

// SQLDB exposes the write pool, for tests and for libraries that need database/sql.
func (s *Store) SQLDB() *sql.DB {
	d, _ := s.db.DB()
	return d
}

// w returns the handle for writes; r the handle for reads (the write handle inside a transaction).
func (s *Store) w(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }
func (s *Store) r(ctx context.Context) *gorm.DB {
	if s.inTx {
		return s.db.WithContext(ctx)
	}
	return s.read.WithContext(ctx)
}

// Tx runs fn in one write transaction. On SQLite it is an immediate transaction, so
// decisions taken inside it (capacity, duplicates) see no concurrent writer.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	err := s.gated(ctx, func() error {
		return s.db.WithContext(ctx).Transaction(func(g *gorm.DB) error {
			return fn(&Store{db: g, read: g, Driver: s.Driver, Now: s.Now, inTx: true, gate: s.gate})
		})
	})
	if busy(err) && model.ErrorCode(err) == model.EInternal {
		// BEGIN, COMMIT, or a statement inside fn returned without wrap.
		return unavailable(err)
	}
	return err
}

// wrap turns database errors into *model.Error values and adds context.
func wrap(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return &model.Error{Code: model.ENotFound, Message: "error.not_found", Err: err}
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return &model.Error{Code: model.EConflict, Message: "error.conflict", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	var me *model.Error
	if errors.As(err, &me) {
		return err
	}
	if busy(err) {
		return unavailable(err)
	}
	return fmt.Errorf("store: unable to %s: %w", what, err)
}

// busy reports errors that mean "not now" rather than "wrong": SQLite still locked by
// another writer when its busy timeout ran out, PostgreSQL lock timeouts, deadlocks and
// serialization failures. The same request a moment later succeeds.
func busy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "55P03"
	}
	return false
}

// unavailable asks the user to try again shortly (503 with Retry-After), instead of
// reporting an internal error.
func unavailable(err error) error {
	return &model.Error{Code: model.EUnavailable, Message: "error.unavailable", Err: err}
}

// IsDuplicate reports whether err is a unique-constraint violation.
func IsDuplicate(err error) bool { return model.ErrorCode(err) == model.EConflict }

// Describe names the database for logs, without credentials.
func Describe(url string) string {
	driver, dsn, err := config.ParseDatabase(url)
	if err != nil {
		return "?"
	}
	if driver == "sqlite" {
		return "sqlite:" + dsn
	}
	return config.Redacted(dsn)
}
