package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"relais/internal/mail"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// clock is a store clock the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// openStore returns a migrated store on driver with a hand-moved clock.
func openStore(t *testing.T, driver string) (*store.Store, *clock) {
	st := storetest.Open(t, driver)
	clk := &clock{t: time.Date(2017, 5, 17, 9, 0, 0, 0, time.UTC)}
	st.Now = clk.Now
	return st, clk
}

// smtpSender returns an SMTPSender for url, closed when the test ends.
func smtpSender(t *testing.T, url string) mail.Sender {
	t.Helper()
	s, err := mail.NewSender(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newWorker has no back-off, so a refused message is due again at once.
func newWorker(st *store.Store, s mail.Sender, opts mail.WorkerOptions) *mail.Worker {
	if opts.Backoff == nil {
		opts.Backoff = func(int) time.Duration { return 0 }
	}
	return mail.NewWorker(st, s, opts)
}

func message(key string) *model.Message {
	return &model.Message{Kind: "test", IdempotencyKey: key, Lang: "fr",
		FromEmail: "relais@example.org", FromName: "Relais Lomé", ReplyTo: "presse@example.org",
		ToEmail: "ama@example.net", ToName: "Ama Mensah", Subject: "Votre billet – " + key,
		TextBody: "Bonjour Ama, voici votre billet.", HTMLBody: "<p>Bonjour Ama, voici <b>votre billet</b>.</p>"}
}

func enqueue(t *testing.T, st *store.Store, m *model.Message) *model.Message {
	t.Helper()
	if _, err := st.EnqueueMessage(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func find(t *testing.T, st *store.Store, id int64) *model.Message {
	t.Helper()
	m, err := st.FindMessage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func runOnce(t *testing.T, w *mail.Worker) int {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// part is one leaf of a parsed MIME message.
type part struct {
	header header
	body   []byte
}

type header = map[string][]string

func (p part) get(k string) string {
	if v := p.header[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parse reads a raw message and flattens its MIME tree into leaves, bodies decoded.
// structure lists the multipart types met, outermost first.
func parse(t *testing.T, raw []byte) (msg *netmail.Message, leaves []part, structure []string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	var walk func(h header, body io.Reader)
	walk = func(h header, body io.Reader) {
		ct := "text/plain"
		if v := h["Content-Type"]; len(v) > 0 {
			ct = v[0]
		}
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("content type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			structure = append(structure, mt)
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("multipart: %v", err)
				}
				walk(header(p.Header), p)
			}
		}
		var r io.Reader = body
		switch strings.ToLower(firstOf(h["Content-Transfer-Encoding"])) {
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		leaves = append(leaves, part{header: h, body: b})
	}
	walk(header(msg.Header), msg.Body)
	return msg, leaves, structure
}

func firstOf(v []string) string {
	if len(v) > 0 {
		return v[0]
	}
	return ""
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decode %q: %v", v, err)
	}
	return s
}
