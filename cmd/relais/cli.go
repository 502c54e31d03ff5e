package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/mail"
	"relais/internal/model"
)

// adminCommand runs the one-shot commands: user add, token create, demo, mail test.
func adminCommand(ctx context.Context, cfg config.Config, log *slog.Logger, cmd string, args []string, stdout io.Writer) error {
	sub := ""
	if cmd != "demo" {
		if len(args) == 0 {
			return fmt.Errorf("%s: missing sub-command (try relais help)", cmd)
		}
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet(cmd+" "+sub, flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "name")
	role := fs.String("role", "organizer", "admin, organizer or door")
	password := fs.String("password", "", "password (a random one is printed when empty)")
	to := fs.String("to", "", "recipient address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w, err := wire(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer w.close()
	actor := app.Actor{Name: "cli"}
	switch cmd + " " + sub {
	case "user add":
		pw := *password
		if pw == "" {
			pw = app.NewToken()[:20]
		}
		u, err := w.app.CreateUser(ctx, actor, app.UserInput{Email: *email, Name: *name, Role: model.Role(*role), Lang: cfg.Lang, Password: pw})
		if err != nil {
			return describe(w, err)
		}
		fmt.Fprintf(stdout, "created %s (%s)\n", u.Email, u.Role)
		if *password == "" {
			fmt.Fprintf(stdout, "password: %s\n", pw)
		}
		return nil
	case "token create":
		u, err := w.store.FindUserByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("no account with email %q", *email)
		}
		clear, _, err := w.app.CreateAPIToken(ctx, actor, u.ID, *name)
		if err != nil {
			return describe(w, err)
		}
		fmt.Fprintln(stdout, clear)
		return nil
	case "demo ":
		report, err := w.app.LoadDemo(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, report)
		return nil
	case "mail test":
		id, err := w.app.QueueTestMail(ctx, *to)
		if err != nil {
			return describe(w, err)
		}
		fmt.Fprintf(stdout, "test email queued (message %d) for %s\n", id, *to)
		// Send it now, so that the command proves the SMTP settings by itself. The outbox's
		// claim keeps a running server from sending it a second time. The worker is an
		// ordinary one: it sends whatever else is due too, oldest first, and a temporary
		// refusal (the very thing being diagnosed, often) leaves every message, the test
		// included, to be retried as usual rather than failed for good.
		worker := mail.NewWorker(w.store, w.sender, mail.WorkerOptions{Logger: log})
		if _, err := worker.RunOnce(ctx); err != nil {
			return err
		}
		m, err := w.store.FindMessage(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case m.Status == model.MessageSent:
			fmt.Fprintf(stdout, "sent: %s\n", mailMode(cfg))
			fmt.Fprintln(stdout, dkimReport(cfg, w.dkim, m.FromEmail))
			return nil
		case m.Status == model.MessageQueued && m.Attempts == 0:
			return fmt.Errorf("not sent yet: older mail is due before it; the running server sends it in turn")
		default:
			return fmt.Errorf("not sent (%s): %s", m.Status, m.LastError)
		}
	}
	return fmt.Errorf("unknown command %q (try relais help)", cmd+" "+sub)
}

// describe turns validation errors into one readable line for the terminal.
func describe(w *wiring, err error) error {
	var me *model.Error
	if e, ok := err.(*model.Error); ok {
		me = e
	}
	if me == nil {
		return err
	}
	if len(me.Fields) == 0 {
		return fmt.Errorf("%s", w.i18n.T("en", me.Message))
	}
	msg := ""
	for f, m := range me.Fields {
		msg += fmt.Sprintf(" --%s: %s", f, w.i18n.T("en", m))
	}
	return fmt.Errorf("invalid input:%s", msg)
}
