package faulttest

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"relais/internal/mail/mailtest"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// TestMailOutageRetriedAndPermanentFailureShown runs relais against an SMTP server that
// first refuses mail for now (451), then is down, then comes back: the confirmations stay
// queued, are retried, and are all delivered once. A permanent refusal (550) then marks
// the message failed with the server's answer, which the admin's mailbox shows.
func TestMailOutageRetriedAndPermanentFailureShown(t *testing.T) {
	needRelais(t)
	smtp := mailtest.Start(t)
	smtp.RefuseTemporarily()
	db := storetest.URL(t, "sqlite")
	// Retries wait 300 ms, then 600 ms, 1.2 s… (30 s, 1 min, 2 min… in production).
	p := startRelais(t, "outage", map[string]string{"RELAIS_DATABASE": db, "RELAIS_SMTP_URL": smtp.URL,
		"RELAIS_MAIL_RETRY_BASE": "300ms"})
	const adminEmail = "admin@outage.example.org"
	api := p.addAdmin(adminEmail)
	ev := api.createEvent(t, "Atelier sur la désinformation", 0)
	st := openStore(t, db)
	v, err := newVisitor(p.base + "/e/" + ev.Slug)
	if err != nil {
		t.Fatal(err)
	}
	emails := []string{"ama@outage.example.org", "kofi@outage.example.org", "yawa@outage.example.org"}
	for _, email := range emails {
		if a, err := v.register(p.base, ev.Slug, email); err != nil || !a.acknowledged() {
			t.Fatalf("register %s: %d %v", email, a.Status, err)
		}
	}
	byAddress := func() map[string]model.Message {
		out := map[string]model.Message{}
		for _, m := range outbox(t, st, ev.ID) {
			out[strings.ToLower(m.ToEmail)] = m
		}
		return out
	}
	// each waits until every one of emails has a message for which ok holds.
	each := func(what string, timeout time.Duration, ok func(m model.Message) bool) time.Duration {
		t.Helper()
		return waitFor(t, timeout, what, func() (bool, string) {
			msgs := byAddress()
			for _, email := range emails {
				m, found := msgs[email]
				if !found {
					return false, "no message for " + email
				}
				if !ok(m) {
					return false, fmt.Sprintf("%s: %s, %d attempts, last error %q", email, m.Status, m.Attempts, m.LastError)
				}
			}
			return true, ""
		})
	}

	// 1. Refused for now: queued, tried again, the server's answer kept.
	took := each("retries of temporary refusals", 10*time.Second, func(m model.Message) bool {
		return m.Status == model.MessageQueued && m.Attempts >= 2 && strings.Contains(m.LastError, "451")
	})
	t.Logf("451: every confirmation tried twice and queued again within %s, last error %q", took.Round(time.Millisecond), byAddress()[emails[0]].LastError)

	// 2. The server is down: still queued, tried again, the failure to connect recorded.
	smtp.Down()
	before := byAddress()
	took = each("retries while the server is down", 15*time.Second, func(m model.Message) bool {
		return m.Status == model.MessageQueued && m.Attempts > before[strings.ToLower(m.ToEmail)].Attempts &&
			!strings.Contains(m.LastError, "451")
	})
	for email, m := range byAddress() {
		t.Logf("down: %s queued after %d attempts, last error %q", email, m.Attempts, m.LastError)
	}
	t.Logf("down: every confirmation tried again within %s", took.Round(time.Millisecond))
	if n := len(smtp.Received()); n != 0 {
		t.Fatalf("%d messages delivered while the server refused or was down", n)
	}

	// 3. The server is back: every confirmation is delivered, once.
	smtp.Accept()
	smtp.Up()
	took = each("delivery once the server is back", 15*time.Second, func(m model.Message) bool {
		return m.Status == model.MessageSent && m.LastError == ""
	})
	t.Logf("back: every confirmation delivered within %s", took.Round(time.Millisecond))
	settle(smtp)
	got := deliveries(smtp)
	for _, email := range emails {
		if len(got[email]) != 1 {
			t.Errorf("%s: %d deliveries, want 1", email, len(got[email]))
		}
	}
	if len(got) != len(emails) {
		t.Errorf("deliveries to %d addresses, want %d: %v", len(got), len(emails), got)
	}

	// 4. Refused for good (550): failed at the first attempt, with the server's answer,
	// which the admin reads in the mailbox.
	smtp.RefusePermanently()
	const unknown = "inconnu@outage.example.org"
	if a, err := v.register(p.base, ev.Slug, unknown); err != nil || !a.acknowledged() {
		t.Fatalf("register %s: %d %v", unknown, a.Status, err)
	}
	var failed model.Message
	waitFor(t, 10*time.Second, "permanent failure recorded", func() (bool, string) {
		failed = byAddress()[unknown]
		return failed.Status == model.MessageFailed, fmt.Sprintf("%s, %d attempts, %q", failed.Status, failed.Attempts, failed.LastError)
	})
	t.Logf("550: failed after %d attempt, last error %q", failed.Attempts, failed.LastError)
	if failed.Attempts != 1 || !strings.Contains(failed.LastError, "550") || !strings.Contains(failed.LastError, "No such user here") {
		t.Errorf("failed message: %d attempts, last error %q; want 1 attempt and the server's 550 answer", failed.Attempts, failed.LastError)
	}
	if n := len(deliveries(smtp)[unknown]); n != 0 {
		t.Errorf("%d deliveries to %s", n, unknown)
	}

	admin := login(t, p.base, adminEmail, adminPassword)
	status, body := admin.get(t, p.base+"/admin/mailbox?status=failed")
	if status != http.StatusOK {
		t.Fatalf("GET /admin/mailbox?status=failed: %d", status)
	}
	if !strings.Contains(body, unknown) || !strings.Contains(html.UnescapeString(body), failed.LastError) {
		t.Errorf("the failed-mail list does not show %s with the server's answer %q", unknown, failed.LastError)
	}
	for _, email := range emails {
		if strings.Contains(body, email) {
			t.Errorf("the failed-mail list shows %s, which was delivered", email)
		}
	}
	status, body = admin.get(t, fmt.Sprintf("%s/admin/mailbox/%d", p.base, failed.ID))
	if status != http.StatusOK || !strings.Contains(html.UnescapeString(body), failed.LastError) {
		t.Errorf("GET /admin/mailbox/%d: %d, showing the server's answer: %v", failed.ID, status, strings.Contains(html.UnescapeString(body), failed.LastError))
	}
}
