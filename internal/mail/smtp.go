package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"sync"
	"time"

	gomail "github.com/go-mail/mail"

	"relais/internal/config"
	"relais/internal/model"
)

// smtpTimeout bounds a dial and each whole message transfer (a press kit over a slow
// uplink takes a while). A variable for the tests.
var smtpTimeout = time.Minute

const (
	// smtpIdleTimeout closes the connection politely before servers drop it (most allow
	// a minute or more); the next message dials again.
	smtpIdleTimeout = 30 * time.Second
)

// SMTPSender sends over a few SMTP connections (config.SMTP.Connections), each reused
// from message to message: dialling and authenticating for each message would cost more
// than sending it. When the server has dropped a connection (idle timeout, restart) it
// dials again and sends the message once more on the fresh connection. Safe for
// concurrent use: as many messages go at once as there are connections, the others wait.
type SMTPSender struct {
	now  func() time.Time
	dkim *DKIM // nil: messages go unsigned
	all  []*smtpConn
	free chan *smtpConn
}

// smtpConn is one connection of an SMTPSender, dialled on its first message.
type smtpConn struct {
	dialer *gomail.Dialer // its own: the AUTH mechanism's state is per connection

	mu       sync.Mutex
	conn     gomail.SendCloser // nil until the first message, and after a failure
	lastUsed time.Time
	idle     *time.Timer
}

// NewSMTPSender returns a sender for the server c. It does not connect yet.
func NewSMTPSender(c config.SMTP) *SMTPSender { return NewSigningSMTPSender(c, nil) }

// NewSigningSMTPSender is NewSMTPSender that signs every message with d (nil: unsigned).
func NewSigningSMTPSender(c config.SMTP, dk *DKIM) *SMTPSender {
	installDialDeadline()
	n := max(1, c.Connections)
	s := &SMTPSender{now: time.Now, dkim: dk, free: make(chan *smtpConn, n)}
	for range n {
		sc := &smtpConn{dialer: newDialer(c)}
		s.all = append(s.all, sc)
		s.free <- sc
	}
	return s
}

func newDialer(c config.SMTP) *gomail.Dialer {
	d := &gomail.Dialer{
		Host:      c.Host,
		Port:      c.Port,
		Username:  c.Username,
		Password:  c.Password,
		Timeout:   smtpTimeout,
		TLSConfig: &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12},
		// Reconnection is ours: go-mail's own retry would resend on EOF at any step.
		RetryFailure: false,
	}
	// go-mail's default policy is opportunistic STARTTLS, which sends in clear text when
	// the server does not offer it: never leave the choice implicit.
	switch c.TLS {
	case "none":
		d.StartTLSPolicy = gomail.NoStartTLS
	case "tls":
		d.SSL = true
	default:
		d.StartTLSPolicy = gomail.MandatoryStartTLS
	}
	// go-mail picks a mechanism lazily by writing d.Auth during Dial; set it up front.
	if c.Username != "" {
		d.Auth = &smtpAuth{user: c.Username, pass: c.Password}
	}
	return d
}

// Parallel is how many messages Send takes at once: a worker runs as many sends.
func (s *SMTPSender) Parallel() int { return len(s.all) }

// Send delivers m over a free connection. A 5xx answer is a *PermanentError carrying
// the server's words; anything else (refused for now, server unreachable) is temporary.
// Once the server has accepted the data the message is sent: it is never sent again here.
func (s *SMTPSender) Send(ctx context.Context, m *model.Message) error {
	msg, env, err := compose(m, s.now())
	if err != nil {
		return err
	}
	var payload io.WriterTo = msg
	if s.dkim != nil {
		if payload, err = s.dkim.signedMessage(msg, env.from); err != nil {
			return err
		}
	}
	var c *smtpConn
	select {
	case c = <-s.free:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { s.free <- c }()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	reused := c.conn != nil
	gate, _ := ctx.Value(commitGateKey{}).(func() error)
	bodyWritten, err := c.transmit(env, payload, gate)
	var closed *gateClosedError
	if errors.As(err, &closed) {
		return &unavailableError{err: closed.err}
	}
	if err != nil && reused && !bodyWritten && connectionLost(err) {
		// The connection had died while idle. The server cannot have taken this message:
		// its body never went through, so sending it on a fresh connection is safe.
		_, err = c.transmit(env, payload, gate)
	}
	if err == nil {
		return nil
	}
	var unavailable *unavailableError
	if errors.As(err, &unavailable) {
		return err
	}
	if connectionLost(err) {
		return &unavailableError{err: err}
	}
	return permanentFromReply(err)
}

// transmit sends one message, dialling first when there is no connection. After a failure
// the connection is dropped: its SMTP state is unknown. bodyWritten tells whether the
// whole message went out before the failure.
func (c *smtpConn) transmit(env envelope, msg io.WriterTo, gate func() error) (bodyWritten bool, err error) {
	if c.conn == nil {
		sc, err := c.dialer.Dial()
		if err != nil {
			return false, &unavailableError{err: err}
		}
		c.conn = sc
	}
	// go-mail puts the connection's deadline at smtpTimeout from now (a moment later).
	w := &trackedMessage{msg: msg, gate: gate, deadline: time.Now().Add(smtpTimeout)}
	if err := c.conn.Send(env.from, env.to, w); err != nil {
		c.drop()
		if w.gateErr != nil {
			return false, &gateClosedError{err: w.gateErr}
		}
		return w.written, err
	}
	c.lastUsed = time.Now()
	if c.idle == nil {
		c.idle = time.AfterFunc(smtpIdleTimeout, c.closeIfIdle)
	} else {
		c.idle.Reset(smtpIdleTimeout)
	}
	return true, nil
}

// drop ends the connection (QUIT, then close); errors do not matter any more.
func (c *smtpConn) drop() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func (c *smtpConn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil && time.Since(c.lastUsed) >= smtpIdleTimeout {
		c.drop()
	}
}

// Close ends the connections, waiting for messages being sent. A later Send dials again.
func (s *SMTPSender) Close() error {
	var errs []error
	for _, c := range s.all {
		c.mu.Lock()
		if c.idle != nil {
			c.idle.Stop()
		}
		if c.conn != nil {
			errs = append(errs, c.conn.Close())
			c.conn = nil
		}
		c.mu.Unlock()
	}
	return errors.Join(errs...)
}

// commitGateKey is the context key of a commit gate: a function Send calls once the
// message's data has gone out, before the final dot with which the server takes the
// message. Send does not hand the message over unless it returns nil. The worker's gate
// waits for the previous message of the connection to be recorded as sent: that record
// is written while this message goes out, and yet a crash of relais leaves no more than
// one message per connection taken by the server and not recorded.
type commitGateKey struct{}

// withCommitGate returns ctx carrying gate for Send.
func withCommitGate(ctx context.Context, gate func() error) context.Context {
	return context.WithValue(ctx, commitGateKey{}, gate)
}

// errGateLate holds a message back whose commit gate passed too close to the deadline.
var errGateLate = errors.New("the previous message was recorded too late to send this one")

// gateClosedError is a message held back because its commit gate failed.
type gateClosedError struct{ err error }

func (e *gateClosedError) Error() string { return "message held back: " + e.err.Error() }
func (e *gateClosedError) Unwrap() error { return e.err }

// trackedMessage records whether the whole message was written to the DATA stream, and
// passes its commit gate, if any, before the final dot.
type trackedMessage struct {
	msg      io.WriterTo
	written  bool
	gate     func() error
	gateErr  error
	deadline time.Time // about when the connection takes no more writes
}

func (t *trackedMessage) WriteTo(w io.Writer) (int64, error) {
	n, err := t.msg.WriteTo(w)
	if err == nil && t.gate != nil {
		margin := smtpTimeout / 4
		roomy := time.Until(t.deadline) >= margin
		t.gateErr = t.gate()
		if t.gateErr == nil && roomy && time.Until(t.deadline) < margin {
			// Waiting at the gate took the connection's time: the server's answer to the
			// dot could come after the deadline, and a message it took would count as not
			// sent, to go again. It is held back instead, and sent later.
			t.gateErr = errGateLate
		}
		if t.gateErr != nil {
			// go-mail writes the final dot even after an error here, and the server would
			// take the message. Past the connection's deadline that write fails: the
			// server drops the unfinished message. Only a database that could not record
			// the previous message makes a connection wait this long.
			time.Sleep(time.Until(t.deadline) + time.Second)
			return n, t.gateErr
		}
	}
	t.written = err == nil
	return n, err
}

// unavailableError means the server could not be reached or ended the conversation:
// the message was not refused, the server was not there to take it.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "smtp server unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// connectionLost reports errors that mean the connection is gone rather than a refusal
// of this message: the server's 421 ("closing channel"), or no answer at all.
func connectionLost(err error) bool {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code == 421
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne)
}

// smtpAuth logs in with PLAIN, or with LOGIN when the server offers only that (some
// hosted services do). It refuses to send the password in clear text except to this machine.
// Each connection has its own (newDialer), so the mechanism chosen in Start is still the
// one in use when Next runs.
type smtpAuth struct {
	user, pass string
	login      bool
	step       int
}

func (a *smtpAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(server.Name) {
		return "", nil, errors.New("mail: refusing to send the SMTP password over an unencrypted connection (use tls=starttls or tls=tls)")
	}
	a.step = 0
	a.login = !slices.Contains(server.Auth, "PLAIN") && slices.Contains(server.Auth, "LOGIN")
	if a.login {
		return "LOGIN", nil, nil
	}
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a *smtpAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	if !a.login {
		return nil, fmt.Errorf("mail: unexpected server challenge during AUTH PLAIN")
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("mail: unexpected server challenge during AUTH LOGIN")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var dialDeadlineOnce sync.Once

// installDialDeadline makes go-mail's dial put a deadline on the new connection. go-mail
// sets one only after the server's greeting, so a server that accepts the connection but
// never greets (or a TLS port dialled in clear text) would block the worker for ever.
// go-mail exposes its dial function only as a package variable; this is the one place
// that sets it, once, to the same behaviour for every sender.
func installDialDeadline() {
	dialDeadlineOnce.Do(func() {
		gomail.NetDialTimeout = func(network, address string, timeout time.Duration) (net.Conn, error) {
			c, err := net.DialTimeout(network, address, timeout)
			if err == nil && timeout > 0 {
				c.SetDeadline(time.Now().Add(timeout))
			}
			return c, err
		}
	})
}
