// Command relais-bench measures Relais against the floor of its own stack. It builds
// relais, runs it as a real process on 127.0.0.1 (SQLite, then PostgreSQL when
// reachable) with an in-process SMTP server counting messages, drives the real pages
// and API, measures the same load against a bare Echo+GORM handler and a bare SMTP loop
// on the same database and machine, and prints every figure with its ratio to the floor.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "relais-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("relais-bench", flag.ContinueOnError)
	o := options{}
	fs.DurationVar(&o.Duration, "duration", defaultDuration, "length of each timed burst")
	fs.IntVar(&o.Clients, "clients", 32, "concurrent clients")
	fs.IntVar(&o.Tickets, "tickets", 10000, "confirmed registrations for the check-in burst and the campaign")
	fs.StringVar(&o.OutDir, "out", "bench-results", "directory for the JSON results")
	fs.StringVar(&o.Postgres, "postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server for a throw-away database (empty: SQLite only)")
	fs.BoolVar(&o.NoSQLite, "no-sqlite", false, "skip SQLite (PostgreSQL only)")
	fs.StringVar(&o.Only, "only", "", "comma-separated scenarios: registration,checkin,pages,campaign (default all)")
	fs.StringVar(&o.Binary, "binary", "", "a relais binary to use instead of building one")
	fs.StringVar(&o.Profile, "profile", "", "directory for a CPU profile of relais during each scenario (empty: none)")
	fs.BoolVar(&o.Latencies, "latencies", false, "also write each request's start and duration in every burst of relais, as TSV files beside the JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return bench(ctx, o, out)
}
