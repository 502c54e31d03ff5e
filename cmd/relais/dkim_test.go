package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"relais/internal/mail/mailtest"
)

// `relais mail test` says whether the message went out signed, and the message it sent
// verifies against the record it tells the admin to publish.
func TestMailTestReportsDKIM(t *testing.T) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile := filepath.Join(dir, "dkim.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t)
	env := map[string]string{
		"RELAIS_DATABASE":  "sqlite:" + filepath.Join(dir, "relais.db"),
		"RELAIS_SMTP_URL":  srv.URL,
		"RELAIS_MAIL_FROM": "Ministère du Numérique <relais@numerique.example.tg>",
		"RELAIS_LOG_LEVEL": "error",
	}
	mailTest := func(t *testing.T) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), []string{"mail", "test", "--to", "ama@example.net"}, func(k string) string { return env[k] }, &out); err != nil {
			t.Fatalf("mail test: %v\n%s", err, out.String())
		}
		return out.String()
	}

	out := mailTest(t)
	if !strings.Contains(out, "not signed: no DKIM key configured") {
		t.Errorf("without a key:\n%s", out)
	}

	env["RELAIS_DKIM_KEY_FILE"] = keyFile
	env["RELAIS_DKIM_SELECTOR"] = "mai2026"
	out = mailTest(t)
	if !strings.Contains(out, "signed with DKIM selector mai2026 for domain numerique.example.tg") {
		t.Fatalf("with a key:\n%s", out)
	}
	name := "mai2026._domainkey.numerique.example.tg"
	_, record, ok := strings.Cut(out, "must hold:\n")
	if !strings.Contains(out, name) || !ok {
		t.Fatalf("no record to publish:\n%s", out)
	}
	record = strings.TrimSpace(record)
	msgs := srv.Messages()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msgs[len(msgs)-1]), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != name {
				t.Errorf("looked up %s", domain)
			}
			return []string{record}, nil
		}})
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("the test message does not verify against the printed record: %v %+v", err, vs)
	}

	env["RELAIS_DKIM_KEY_FILE"] = filepath.Join(dir, "missing.pem")
	if err := run(context.Background(), []string{"mail", "test", "--to", "ama@example.net"}, func(k string) string { return env[k] }, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "dkim") {
		t.Errorf("a missing key file: %v", err)
	}
}
