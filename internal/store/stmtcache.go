package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"gorm.io/gorm"
)

// stmtPool is the gorm connection pool of SQLite's write connection: it keeps each
// statement prepared, in transactions too.
//
// gorm's own PrepareStmt prepares a statement first seen in a transaction on that
// transaction, so every later transaction prepares it again; preparing was about a
// quarter of a registration's time on the single writer. Here statements are prepared
// on the pool (its one connection) and bound to each transaction with Tx.StmtContext,
// which reuses what the connection has prepared. A statement first seen in a
// transaction runs unprepared there, and is prepared once the connection is free.
type stmtPool struct {
	db *sql.DB

	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool // being prepared
}

// maxStmts bounds the cache: queries built with a variable number of parameters (IN
// lists, bulk inserts) would otherwise add a statement per length. Past it, a query runs
// unprepared.
const maxStmts = 512

func newStmtPool(db *sql.DB) *stmtPool {
	return &stmtPool{db: db, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// cached returns the prepared statement for query, or nil.
func (p *stmtPool) cached(query string) *sql.Stmt {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.stmts[query]
}

// stmt returns the prepared statement for query, preparing it when it is new (it waits
// for the connection); nil when the cache is full.
func (p *stmtPool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := p.cached(query); st != nil {
		return st, nil
	}
	p.mu.RLock()
	full := len(p.stmts) >= maxStmts
	p.mu.RUnlock()
	if full {
		return nil, nil
	}
	// Prepared without the lock held: preparing waits for the connection, which a
	// transaction may hold while it looks up its own statements.
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if had, ok := p.stmts[query]; ok || len(p.stmts) >= maxStmts {
		st.Close()
		return had, nil
	}
	p.stmts[query] = st
	return st, nil
}

// inTx returns the prepared statement for a query run in a transaction, or nil: a new
// query is prepared in the background, once the transaction has given the connection back.
func (p *stmtPool) inTx(query string) *sql.Stmt {
	if st := p.cached(query); st != nil {
		return st
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending[query] || len(p.stmts)+len(p.pending) >= maxStmts {
		return nil
	}
	p.pending[query] = true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p.stmt(ctx, query)
		p.mu.Lock()
		delete(p.pending, query)
		p.mu.Unlock()
	}()
	return nil
}

func (p *stmtPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, query)
}

func (p *stmtPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		return p.db.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (p *stmtPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		return p.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (p *stmtPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		return p.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// BeginTx starts a transaction whose statements come from the pool's cache.
func (p *stmtPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &stmtTx{p: p, Tx: tx}, nil
}

// GetDBConn gives gorm's DB() the pool.
func (p *stmtPool) GetDBConn() (*sql.DB, error) { return p.db, nil }

// stmtTx is a transaction of a stmtPool.
type stmtTx struct {
	p *stmtPool
	*sql.Tx
}

func (t *stmtTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st := t.p.inTx(query)
	if st == nil {
		return t.Tx.ExecContext(ctx, query, args...)
	}
	return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

func (t *stmtTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st := t.p.inTx(query)
	if st == nil {
		return t.Tx.QueryContext(ctx, query, args...)
	}
	return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
}

func (t *stmtTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st := t.p.inTx(query)
	if st == nil {
		return t.Tx.QueryRowContext(ctx, query, args...)
	}
	return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// GetDBConn gives gorm's DB() the pool, in a transaction too.
func (t *stmtTx) GetDBConn() (*sql.DB, error) { return t.p.db, nil }
