package mail

import (
	"context"
	"time"
)

// WithCommitGate exposes withCommitGate to the tests.
func WithCommitGate(ctx context.Context, gate func() error) context.Context {
	return withCommitGate(ctx, gate)
}

// SetSMTPTimeout sets the SMTP timeout of senders made afterwards, until the returned
// function puts it back.
func SetSMTPTimeout(d time.Duration) (restore func()) {
	old := smtpTimeout
	smtpTimeout = d
	return func() { smtpTimeout = old }
}
