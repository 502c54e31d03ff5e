package mail_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"relais/internal/mail"
	"relais/internal/mail/mailtest"
	"relais/internal/model"
)

// dns is the TXT lookup a receiver would do, answered from the records the test publishes.
type dns map[string]string

func (d dns) lookup(name string) ([]string, error) {
	if v, ok := d[name]; ok {
		return []string{v}, nil
	}
	return nil, errors.New("no such TXT record: " + name)
}

// verify checks raw as a receiver does and returns its one signature's verification.
func verify(t *testing.T, raw []byte, records dns) *dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: records.lookup})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(vs) != 1 {
		t.Fatalf("%d DKIM signatures, want 1:\n%s", len(vs), raw)
	}
	return vs[0]
}

func rsaKey(t testing.TB) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Every message goes out signed over the real SMTP path (outbox, worker, one reused
// connection), and verifies against the published key as a receiver checks it.
func TestDKIMSignedThroughSMTP(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, domain, want string
		key                crypto.Signer
	}{
		{"rsa, From domain", "", "example.org", rsaKey(t)},
		{"ed25519, configured domain", "Mail.Example.org", "mail.example.org", edKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := mail.NewDKIM(tt.key, "relais2026", tt.domain)
			if err != nil {
				t.Fatal(err)
			}
			srv := mailtest.Start(t)
			s, err := mail.NewSigningSender(srv.URL+"&connections=1", d)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			st, _ := openStore(t, "sqlite")
			w := newWorker(st, s, mail.WorkerOptions{})
			with := message("dkim-1")
			with.Attachments = []model.Attachment{{Filename: "Dossier de presse.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte("%PDF-1.4 "), 3000)}}
			enqueue(t, st, with)
			enqueue(t, st, message("dkim-2"))
			if n := runOnce(t, w); n != 2 {
				t.Fatalf("sent %d", n)
			}
			if srv.Connections() != 1 {
				t.Errorf("%d connections for two messages, want one reused", srv.Connections())
			}
			records := dns{"relais2026._domainkey." + tt.want: d.Record()}
			msgs := srv.Messages()
			if len(msgs) != 2 {
				t.Fatalf("%d messages received", len(msgs))
			}
			for _, raw := range msgs {
				v := verify(t, raw, records)
				if v.Err != nil {
					t.Fatalf("signature does not verify: %v\n%s", v.Err, raw)
				}
				if v.Domain != tt.want {
					t.Errorf("d=%s, want %s", v.Domain, tt.want)
				}
				signed := strings.ToLower(strings.Join(v.HeaderKeys, ":"))
				for _, h := range []string{"from", "subject", "date", "message-id", "to", "reply-to"} {
					if !strings.Contains(signed, h) {
						t.Errorf("%s is not signed (h=%s)", h, signed)
					}
				}
				msg, _, _ := parse(t, raw)
				if got := decodeHeader(t, msg.Header.Get("From")); got != `"Relais Lomé" <relais@example.org>` && got != "Relais Lomé <relais@example.org>" {
					t.Errorf("From %q: want the sender's name and address", got)
				}
				for _, h := range []string{"Message-Id", "Date", "Reply-To"} {
					if msg.Header.Get(h) == "" {
						t.Errorf("no %s header", h)
					}
				}
			}
			// The check is real: a body changed in transit, or a key that is not the one
			// published, fails it.
			tampered := bytes.Replace(msgs[1], []byte("Bonjour"), []byte("Bonsoir"), 1)
			if v := verify(t, tampered, records); v.Err == nil {
				t.Error("a changed body still verifies")
			}
			for _, h := range []string{"Subject: ", "Reply-To: ", "Message-ID: "} {
				i := bytes.Index(msgs[1], []byte(h))
				if i < 0 {
					t.Fatalf("no %s", h)
				}
				changed := append(append(append([]byte(nil), msgs[1][:i+len(h)]...), 'X'), msgs[1][i+len(h):]...)
				if v := verify(t, changed, records); v.Err == nil {
					t.Errorf("a changed %s still verifies", h)
				}
			}
			other, _ := mail.NewDKIM(rsaKey(t), "relais2026", tt.domain)
			if v := verify(t, msgs[1], dns{"relais2026._domainkey." + tt.want: other.Record()}); v.Err == nil {
				t.Error("verifies against another key")
			}
		})
	}
}

// Without a key nothing is signed, and the message is the same as before.
func TestNoDKIMWithoutKey(t *testing.T) {
	d, err := mail.LoadDKIM("", "relais", "")
	if err != nil || d != nil {
		t.Fatalf("no key file: %v, %v", d, err)
	}
	srv := mailtest.Start(t)
	s := smtpSender(t, srv.URL)
	if err := s.Send(context.Background(), message("plain")); err != nil {
		t.Fatal(err)
	}
	if raw := srv.Messages()[0]; bytes.Contains(bytes.ToLower(raw), []byte("dkim-signature")) {
		t.Fatalf("signed without a key:\n%s", raw)
	}
}

// The key files openssl writes load; anything else is refused with a clear error.
func TestLoadDKIMKeyFiles(t *testing.T) {
	dir := t.TempDir()
	rk := rsaKey(t)
	_, ek, _ := ed25519.GenerateKey(rand.Reader)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	ecdsaPEM := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBzZ\n-----END EC PRIVATE KEY-----\n"
	for _, tt := range []struct {
		name    string
		data    []byte
		wantErr string
		wantK   string
	}{
		{"rsa pkcs8 (openssl genpkey)", pkcs8(rk), "", "k=rsa"},
		{"rsa pkcs1 (openssl genrsa -traditional)", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}), "", "k=rsa"},
		{"ed25519 pkcs8", pkcs8(ek), "", "k=ed25519"},
		{"public key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), "not a private key", ""},
		{"ec key", []byte(ecdsaPEM), "not a private key", ""},
		{"not PEM", []byte("hello"), "not a PEM file", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".pem")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			d, err := mail.LoadDKIM(path, "relais", "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec := d.Record(); !strings.HasPrefix(rec, "v=DKIM1; "+tt.wantK+"; p=") {
				t.Errorf("record %q", rec)
			}
			if got := d.RecordName("relais@Numerique.Example.tg"); got != "relais._domainkey.numerique.example.tg" {
				t.Errorf("record name %q", got)
			}
		})
	}
	if _, err := mail.LoadDKIM(filepath.Join(dir, "missing.pem"), "relais", ""); err == nil {
		t.Error("a missing key file is accepted")
	}
}
