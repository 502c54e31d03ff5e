// Package mailtest runs a real SMTP server in the test process (emersion/go-smtp on a
// loopback port) that keeps what it receives and can be told to refuse mail or go down,
// so that sending, retries and reconnections are tested against the real protocol.
package mailtest

import (
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From string   // MAIL FROM
	To   []string // RCPT TO
	Data []byte   // the raw RFC 5322 message
}

// Server is an in-process SMTP server. Start one per test; it stops when the test ends.
type Server struct {
	// Addr is host:port; URL is the RELAIS_SMTP_URL that reaches it without TLS.
	Addr string
	URL  string

	t   testing.TB
	srv *smtp.Server

	mu          sync.Mutex
	ln          net.Listener
	received    []Received
	connections int // sessions opened (one per EHLO on a new connection)
	refuseCode  int
	refuseText  string
	user, pass  string
	live        map[*smtp.Conn]bool
	onAccept    func(Received)
}

// OnAccept runs f for each message the server takes, after its data has arrived and
// before the server answers that it took it.
func (s *Server) OnAccept(f func(Received)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onAccept = f
}

// Start listens on a free loopback port and serves until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{t: t, ln: ln, Addr: ln.Addr().String(), live: map[*smtp.Conn]bool{}}
	s.URL = "smtp://" + s.Addr + "?tls=none"
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "mailtest.invalid"
	s.srv.AllowInsecureAuth = true
	// Connection goroutines may log after the test has ended, when t.Log panics.
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Messages returns the raw messages received so far, in order.
func (s *Server) Messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.received))
	for i, r := range s.received {
		out[i] = r.Data
	}
	return out
}

// Received returns the messages received so far with their envelopes.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Connections returns how many SMTP sessions clients have opened.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// Refuse makes the server answer every recipient with code and text (a 4xx is a
// temporary refusal, a 5xx a permanent one) until Accept.
func (s *Server) Refuse(code int, text string) {
	s.mu.Lock()
	s.refuseCode, s.refuseText = code, text
	s.mu.Unlock()
}

// RefuseTemporarily answers 451 (greylisting, a full queue) until Accept.
func (s *Server) RefuseTemporarily() { s.Refuse(451, "Requested action aborted: try again later") }

// RefusePermanently answers 550 (no such mailbox) until Accept.
func (s *Server) RefusePermanently() { s.Refuse(550, "No such user here") }

// Accept makes the server take mail again.
func (s *Server) Accept() { s.Refuse(0, "") }

// RequireAuth makes the server advertise AUTH PLAIN and accept only these credentials.
func (s *Server) RequireAuth(user, pass string) {
	s.mu.Lock()
	s.user, s.pass = user, pass
	s.mu.Unlock()
}

// DropConnections ends every open connection the way a server's idle timeout does:
// a 421 reply, then the connection closes. Clients must dial again.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := make([]*smtp.Conn, 0, len(s.live))
	for c := range s.live {
		conns = append(conns, c)
	}
	clear(s.live)
	s.mu.Unlock()
	for _, c := range conns {
		// Written on the raw connection: the session's goroutine is waiting for a command.
		c.Conn().Write([]byte("421 4.4.2 mailtest.invalid Idle timeout, closing connection\r\n"))
		c.Close()
	}
}

// Down closes the listener and every connection: dialing the server fails until Up.
func (s *Server) Down() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	s.DropConnections()
}

// Up listens again on the same address after Down.
func (s *Server) Up() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		s.t.Fatalf("mailtest: listen again on %s: %v", s.Addr, err)
	}
	s.ln = ln
	go s.srv.Serve(ln)
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connections++
	s.live[c] = true
	return &session{s: s, c: c}, nil
}

type session struct {
	s      *Server
	c      *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		ss.s.mu.Lock()
		defer ss.s.mu.Unlock()
		if user != ss.s.user || pass != ss.s.pass {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	needAuth := ss.s.user != ""
	ss.s.mu.Unlock()
	if needAuth && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	code, text := ss.s.refuseCode, ss.s.refuseText
	ss.s.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: text}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(ss.to) == 0 {
		return errors.New("no recipient")
	}
	got := Received{From: ss.from, To: ss.to, Data: b}
	ss.s.mu.Lock()
	f := ss.s.onAccept
	ss.s.mu.Unlock()
	if f != nil {
		f(got)
	}
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, got)
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error {
	ss.s.mu.Lock()
	delete(ss.s.live, ss.c)
	ss.s.mu.Unlock()
	return nil
}
