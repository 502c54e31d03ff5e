// Package storetest opens real, throw-away databases for tests: a SQLite file in a
// temporary directory, and a fresh PostgreSQL database per test.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" to create throw-away databases

	"relais/internal/store"
)

// PostgresAdminURL is the server used for throw-away databases; RELAIS_TEST_POSTGRES overrides it.
func PostgresAdminURL() string {
	if v := os.Getenv("RELAIS_TEST_POSTGRES"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Drivers returns the databases to run a test on: sqlite always, postgres when reachable.
// When RELAIS_REQUIRE_POSTGRES=1 (CI), an unreachable PostgreSQL fails the test instead.
func Drivers(t testing.TB) []string {
	if postgresReachable() {
		return []string{"sqlite", "postgres"}
	}
	if os.Getenv("RELAIS_REQUIRE_POSTGRES") == "1" {
		t.Fatalf("PostgreSQL is required (RELAIS_REQUIRE_POSTGRES=1) but %s does not answer", PostgresAdminURL())
	}
	t.Logf("PostgreSQL not reachable at %s: running on SQLite only (start PostgreSQL or set RELAIS_TEST_POSTGRES to enable)", PostgresAdminURL())
	return []string{"sqlite"}
}

func postgresReachable() bool {
	db, err := sql.Open("pgx", PostgresAdminURL())
	if err != nil {
		return false
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.PingContext(ctx) == nil
}

// URL creates an empty database of the given driver and returns its RELAIS_DATABASE URL.
// The database is removed when the test ends.
func URL(t testing.TB, driver string) string {
	t.Helper()
	switch driver {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "relais.db")
	case "postgres":
		b := make([]byte, 6)
		rand.Read(b)
		name := "relais_test_" + hex.EncodeToString(b)
		admin, err := sql.Open("pgx", PostgresAdminURL())
		if err != nil {
			t.Fatal(err)
		}
		tmpl := migratedTemplate(t)
		if _, err := admin.Exec("CREATE DATABASE " + name + " TEMPLATE " + tmpl); err != nil {
			admin.Close()
			t.Fatalf("create database: %v", err)
		}
		t.Cleanup(func() {
			admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			admin.Close()
		})
		u, err := url.Parse(PostgresAdminURL())
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		return u.String()
	}
	t.Fatalf("unknown driver %q", driver)
	return ""
}

// Open returns a migrated store on a fresh database of the given driver.
func Open(t testing.TB, driver string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), URL(t, driver))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// template is a migrated PostgreSQL database that test databases are copied from, made
// once per test process: copying it is much faster than migrating every database.
var template struct {
	once sync.Once
	name string
	err  error
}

func migratedTemplate(t testing.TB) string {
	template.once.Do(func() {
		b := make([]byte, 6)
		rand.Read(b)
		name := fmt.Sprintf("relais_tmpl_%d_%s", os.Getpid(), hex.EncodeToString(b))
		admin, err := sql.Open("pgx", PostgresAdminURL())
		if err != nil {
			template.err = err
			return
		}
		defer admin.Close()
		// Templates of test processes that have ended are dropped (their pid is in the name).
		rows, err := admin.Query("SELECT datname FROM pg_database WHERE datname LIKE 'relais_tmpl_%'")
		if err == nil {
			var old []string
			for rows.Next() {
				var n string
				if rows.Scan(&n) == nil {
					old = append(old, n)
				}
			}
			rows.Close()
			for _, n := range old {
				parts := strings.Split(n, "_")
				if len(parts) == 4 {
					if _, err := os.Stat("/proc/" + parts[2]); os.IsNotExist(err) {
						admin.Exec("DROP DATABASE IF EXISTS " + n)
					}
				}
			}
		}
		if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
			template.err = err
			return
		}
		u, _ := url.Parse(PostgresAdminURL())
		u.Path = "/" + name
		st, err := store.Open(context.Background(), u.String())
		if err != nil {
			template.err = err
			return
		}
		template.err = st.Migrate(context.Background())
		st.Close()
		template.name = name
	})
	if template.err != nil {
		t.Fatalf("migrated template database: %v", template.err)
	}
	return template.name
}
