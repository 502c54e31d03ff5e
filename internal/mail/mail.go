// Package mail sends Relais' email. Every email is first a row in the outbox (see
// store.EnqueueMessage); the Worker here claims due messages, hands them to a Sender over
// a few reused SMTP connections, and records the outcome: sent, retried later with back-off,
// or failed for good when the server refused it permanently. The package also renders
// email bodies from the templates in templates/emails.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/textproto"

	"relais/internal/config"
	"relais/internal/model"
)

// Sender delivers one message. An error of type *PermanentError means the message will
// never be delivered as it is (the server answered 5xx); any other error is temporary.
type Sender interface {
	Send(ctx context.Context, m *model.Message) error
	Close() error
}

// PermanentError is a refusal that retrying will not change: the server's 5xx answer,
// or (Code 0) a message that cannot be sent as written, refused before reaching a server.
type PermanentError struct {
	Code int
	Text string
}

func (e *PermanentError) Error() string {
	if e.Code == 0 {
		return e.Text
	}
	return fmt.Sprintf("%d %s", e.Code, e.Text)
}

// IsPermanent reports whether err is a *PermanentError.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}

// NewSender returns the sender for a RELAIS_SMTP_URL: an SMTPSender, or a KeepSender
// when the URL is empty (mail stays in the outbox for the admin's mailbox page).
func NewSender(smtpURL string) (Sender, error) { return NewSigningSender(smtpURL, nil) }

// NewSigningSender is NewSender whose SMTP sender signs every message with d (nil:
// unsigned). Kept mail never leaves the machine and is not signed.
func NewSigningSender(smtpURL string, d *DKIM) (Sender, error) {
	if smtpURL == "" {
		return KeepSender{}, nil
	}
	c, err := config.ParseSMTP(smtpURL)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp url %s: %w", config.Redacted(smtpURL), err)
	}
	return NewSigningSMTPSender(c, d), nil
}

// KeepSender sends nothing: the worker marks each message sent and it stays in the
// database, where the admin's mailbox page shows it. It is the development default.
type KeepSender struct {
	Logger *slog.Logger // optional; debug level only
}

// Send records nothing more than a debug line: the outbox row is the mail.
func (k KeepSender) Send(ctx context.Context, m *model.Message) error {
	if k.Logger != nil {
		k.Logger.DebugContext(ctx, "mail kept in the mailbox", "message_id", m.ID, "kind", m.Kind)
	}
	return nil
}

// Close does nothing.
func (KeepSender) Close() error { return nil }

// permanentFromReply turns a server's 5xx reply into a *PermanentError and leaves any
// other error as it is. Replies about authentication are the configuration's fault, not
// the message's, so they stay temporary and the message goes once the admin fixes it.
func permanentFromReply(err error) error {
	var tp *textproto.Error
	if !errors.As(err, &tp) || tp.Code < 500 || tp.Code > 599 {
		return err
	}
	switch tp.Code {
	case 530, 534, 535, 538:
		return err
	}
	return &PermanentError{Code: tp.Code, Text: tp.Msg}
}
