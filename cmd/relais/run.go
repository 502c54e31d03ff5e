package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/i18n"
	"relais/internal/mail"
	"relais/internal/store"
	"relais/internal/web"
	"relais/templates"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Usage: relais [--config FILE] COMMAND [OPTIONS]

Commands:
  serve                 run the web service (default; migrates the database first)
  migrate               apply database migrations and exit
  user add              create a staff account: --email E --name N --role admin|organizer|door [--password P]
  token create          print a new API token: --email E --name N
  demo                  load the demonstration sessions (safe to run twice)
  mail test             queue a test email: --to ADDRESS
  version               print the version

Every configuration key can also be set as a RELAIS_* environment variable.
`

// run is the whole program; tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("relais", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfgFile := fs.String("config", getenv("RELAIS_CONFIG"), "configuration file (TOML)")
	fs.Usage = func() { fmt.Fprint(stdout, usage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	args = fs.Args()
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, "relais", version)
		return nil
	}
	if cmd == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := config.Load(*cfgFile, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, stdout)
	case "migrate":
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "user", "token", "demo", "mail":
		return adminCommand(ctx, cfg, log, cmd, args, stdout)
	}
	return fmt.Errorf("unknown command %q (try relais help)", cmd)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens and migrates the database.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// wiring is what every command shares: store, application, catalogues, mail.
type wiring struct {
	store  *store.Store
	app    *app.App
	i18n   *i18n.Bundle
	mail   *mail.Renderer
	sender mail.Sender
	dkim   *mail.DKIM // nil: outgoing mail is not signed
}

func wire(ctx context.Context, cfg config.Config, log *slog.Logger) (*wiring, error) {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	bundle, err := i18n.New()
	if err != nil {
		st.Close()
		return nil, err
	}
	renderer, err := mail.NewRenderer(templates.FS, bundle)
	if err != nil {
		st.Close()
		return nil, err
	}
	dk, err := mail.LoadDKIM(cfg.DKIMKeyFile, cfg.DKIMSelector, cfg.DKIMDomain)
	if err != nil {
		st.Close()
		return nil, err
	}
	sender, err := mail.NewSigningSender(cfg.SMTPURL, dk)
	if err != nil {
		st.Close()
		return nil, err
	}
	a := app.New(st, cfg, log)
	a.Mail = renderer
	a.I18n = bundle
	return &wiring{store: st, app: a, i18n: bundle, mail: renderer, sender: sender, dkim: dk}, nil
}

func (w *wiring) close() {
	w.sender.Close()
	w.store.Close()
}

// serve runs the web service until ctx ends, then shuts down in reverse order:
// stop accepting requests and let in-flight ones finish, stop the mail worker between
// two messages, close the database.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	started := time.Now()
	if limit := memoryLimit(cfg.MemoryLimitMiB, os.Getenv("GOMEMLIMIT")); limit > 0 {
		prev := debug.SetMemoryLimit(limit)
		defer debug.SetMemoryLimit(prev)
	}
	restoreGC := lowerGCDuringStartup(os.Getenv("GOGC"))
	defer restoreGC() // when start-up fails
	w, err := wire(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer w.close()
	secret, err := w.app.SecretKey(ctx)
	if err != nil {
		return err
	}
	worker := mail.NewWorker(w.store, w.sender, mail.WorkerOptions{Rate: cfg.MailRate, Logger: log,
		Backoff: scaledBackoff(cfg.MailRetryBase), Lease: cfg.MailLease,
		// A retry is due at most one poll late: with short waits (tests), look as often.
		Poll: min(10*time.Second, cfg.MailRetryBase)})
	w.app.Kick, w.app.MailLag = worker.Kick, worker.Lag
	e, err := web.New(web.Deps{App: w.app, Config: cfg, I18n: w.i18n, Log: log, Secret: secret})
	if err != nil {
		return err
	}
	if tok, err := w.app.SetupToken(ctx); err != nil {
		return err
	} else if tok != "" {
		// The one-time link is the only way in on a fresh install; it is printed on
		// purpose, once, and only its hash is stored.
		fmt.Fprintf(stdout, "\n  No administrator yet. Create the first one at:\n  %s/setup?token=%s\n\n", strings.TrimRight(cfg.BaseURL, "/"), tok)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	bg, stopBg := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := worker.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("mail worker stopped", "err", err)
		}
	}()
	go func() { defer wg.Done(); web.SessionCleanup(bg, w.app, 10*time.Minute) }()
	// Reminders before events and scheduled follow-ups (app/scheduler.go); safe with several instances.
	wg.Add(1)
	go func() { defer wg.Done(); w.app.RunScheduler(bg, cfg.SchedulerInterval) }()
	// Anonymises the personal data of events past retention_months (app/retention.go), at
	// start and every 6 h; idempotent, so safe with several instances.
	wg.Add(1)
	go func() { defer wg.Done(); w.app.RunRetention(bg, 6*time.Hour) }()
	if cfg.CoverageCheck {
		// Reads the pages of new coverage links (app/coveragecheck.go); safe with several instances.
		wg.Add(1)
		go func() { defer wg.Done(); _ = w.app.RunCoverageChecks(bg, 15*time.Second) }()
	}
	if addr := getenvPprof(); addr != "" {
		// Profiling on a separate, local-only listener, for `make bench` investigations.
		go func() { log.Info("pprof listening", "addr", addr); _ = http.ListenAndServe(addr, pprofMux()) }()
	}
	// Start-up (migrations, catalogues, templates) leaves garbage behind: collect it
	// and hand the pages back to the system before the first request.
	restoreGC()
	if err := w.store.ReleaseMemory(ctx); err != nil {
		log.Warn("start-up: could not release the database's caches", "err", err)
	}
	releaseMemory()
	srvErr := make(chan error, 1)
	go func() { srvErr <- e.Server.Serve(ln) }()
	log.Info("relais started", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "database", store.Describe(cfg.Database),
		"mail", mailMode(cfg), "dkim", w.dkim != nil, "version", version, "startup", time.Since(started).Round(time.Millisecond))
	select {
	case <-ctx.Done():
	case err := <-srvErr:
		if !errors.Is(err, http.ErrServerClosed) {
			stopBg()
			wg.Wait()
			return err
		}
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.Server.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
	}
	stopBg()
	wg.Wait()
	log.Info("stopped")
	return nil
}

// memoryLimit returns the soft memory limit for serve in bytes, or 0 to leave the
// runtime's alone: memory_limit_mib unless the GOMEMLIMIT variable (read by the runtime
// itself at start) is set.
func memoryLimit(mib int, gomemlimit string) int64 {
	if mib <= 0 || gomemlimit != "" {
		return 0
	}
	return int64(mib) << 20
}

// scaledBackoff is mail.DefaultBackoff (30 s, doubling, jittered) stretched so that the
// first wait is base.
func scaledBackoff(base time.Duration) func(int) time.Duration {
	return func(attempt int) time.Duration {
		return time.Duration(float64(mail.DefaultBackoff(attempt)) * float64(base) / float64(30*time.Second))
	}
}

func mailMode(cfg config.Config) string {
	if cfg.SMTPURL == "" {
		return "kept in the dev mailbox (/admin/mailbox)"
	}
	return config.Redacted(cfg.SMTPURL)
}
