package main

import (
	"io"
	"log"
	"net"
	"sync/atomic"

	"github.com/emersion/go-smtp"
)

// smtpCounter is an SMTP server that accepts everything and counts the messages.
type smtpCounter struct {
	srv   *smtp.Server
	addr  string
	count atomic.Int64
}

func startSMTP() (*smtpCounter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &smtpCounter{addr: ln.Addr().String()}
	c.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &countSession{c: c}, nil }))
	c.srv.Domain = "bench.invalid"
	c.srv.AllowInsecureAuth = true
	c.srv.MaxRecipients = 10
	c.srv.ErrorLog = log.New(io.Discard, "", 0)
	go c.srv.Serve(ln)
	return c, nil
}

func (c *smtpCounter) url() string { return "smtp://" + c.addr + "?tls=none" }
func (c *smtpCounter) close()      { c.srv.Close() }

type countSession struct{ c *smtpCounter }

func (s *countSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *countSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *countSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.c.count.Add(1)
	return nil
}
func (s *countSession) Reset()        {}
func (s *countSession) Logout() error { return nil }
