package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"relais/internal/mail/mailtest"
	"relais/internal/model"
	"relais/internal/store"
)

// TestMailTestLeavesOtherMailToItsRetries: `relais mail test` run while the SMTP server
// refuses for now (what the admin is diagnosing) says why, and every message it tried,
// the test and the mail that was waiting, stays queued for its next attempt instead of
// being failed for good.
func TestMailTestLeavesOtherMailToItsRetries(t *testing.T) {
	dir := t.TempDir()
	srv := mailtest.Start(t)
	srv.RefuseTemporarily()
	db := filepath.Join(dir, "relais.db")
	env := map[string]string{"RELAIS_DATABASE": "sqlite:" + db, "RELAIS_SMTP_URL": srv.URL, "RELAIS_LOG_LEVEL": "error"}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, getenv, &out); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waiting := &model.Message{Kind: "registration_confirmed", IdempotencyKey: "reg:1", ToEmail: "kafui@example.tg",
		FromEmail: "relais@example.tg", Subject: "Votre billet", TextBody: "Bonjour", Lang: "fr"}
	if _, err := st.EnqueueMessage(context.Background(), waiting); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"mail", "test", "--to", "ama@example.net"}, getenv, &out)
	if err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("mail test against a refusing server: %v\n%s", err, out.String())
	}
	msgs, _, err := st.ListMessages(context.Background(), store.MessageFilter{Limit: 10})
	if err != nil || len(msgs) != 2 {
		t.Fatalf("messages: %d %v", len(msgs), err)
	}
	for _, m := range msgs {
		if m.Status != model.MessageQueued || m.Attempts != 1 {
			t.Errorf("%s to %s: %s after %d attempts, want queued for a retry", m.Kind, m.ToEmail, m.Status, m.Attempts)
		}
	}
}
