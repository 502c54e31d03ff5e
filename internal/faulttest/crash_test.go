package faulttest

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"relais/internal/config"
	"relais/internal/mail/mailtest"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// TestCrashLosesNoRegistration kills relais with SIGKILL in the middle of a registration
// burst and starts it again on the same database: every registration that got its 303
// is there, once, and its confirmation email is delivered once; only a message the SMTP
// server had just taken when the process died (one per connection at most) goes again
// after the restart, with the same Message-ID.
func TestCrashLosesNoRegistration(t *testing.T) {
	needRelais(t)
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) { testCrash(t, driver) })
	}
}

func testCrash(t *testing.T, driver string) {
	const clients = 16
	const connections = config.DefaultSMTPConnections // the mail worker's SMTP connections
	smtp := mailtest.Start(t)
	db := storetest.URL(t, driver)
	// Mail the dead process had claimed goes out again when its claim runs out: 5 min in
	// production, 2 s here.
	p := startRelais(t, "crash-"+driver, map[string]string{"RELAIS_DATABASE": db, "RELAIS_SMTP_URL": fmt.Sprintf("%s&connections=%d", smtp.URL, connections),
		"RELAIS_MAIL_LEASE": "2s"})
	api := p.addAdmin("admin@crash.example.org")
	ev := api.createEvent(t, "Journée mondiale des télécommunications", 0)
	page := p.base + "/e/" + ev.Slug
	visitors := make([]*visitor, clients)
	for i := range visitors {
		v, err := newVisitor(page)
		if err != nil {
			t.Fatal(err)
		}
		visitors[i] = v
	}

	// The burst: every client posts the real form with new addresses until the process dies.
	var (
		mu          sync.Mutex
		acked       []string     // got their 303
		inDoubt     []string     // the connection broke: recorded or not, nobody was told
		unexpected  []string     // any other answer: a bug
		next, oks   atomic.Int64 // address counter, acknowledgements so far
		stop        = make(chan struct{})
		wg          sync.WaitGroup
		burstEnds   = time.Now().Add(20 * time.Second) // a bound, should the kill never come
		burstStarts = time.Now()
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(burstEnds) {
				select {
				case <-stop:
					return
				default:
				}
				email := fmt.Sprintf("blog-%s-%04d@crash.example.org", driver, next.Add(1))
				a, err := visitors[c].register(p.base, ev.Slug, email)
				mu.Lock()
				switch {
				case err != nil:
					inDoubt = append(inDoubt, email)
				case a.acknowledged():
					acked = append(acked, email)
					oks.Add(1)
				default:
					unexpected = append(unexpected, fmt.Sprintf("%s: %d %s", email, a.Status, a.Location))
				}
				mu.Unlock()
				if err != nil {
					return // the server is gone
				}
			}
		}()
	}
	// Kill in the middle of the burst: after 1.5 s, once registrations are flowing.
	waitFor(t, 20*time.Second, "registrations under way", func() (bool, string) {
		return time.Since(burstStarts) >= 1500*time.Millisecond && oks.Load() >= 20, fmt.Sprintf("%d acknowledged", oks.Load())
	})
	p.crash()
	killedAt := time.Since(burstStarts)
	close(stop)
	wg.Wait()
	// The messages that may go out twice: the server had taken them, but the worker was
	// killed before it recorded them as sent. Each connection sends one message at a
	// time, so there is at most one such message per connection; it goes out again with
	// the same Message-ID.
	st := openStore(t, db)
	settle(smtp)
	delivered := deliveries(smtp)
	var accepted []string // accepted by the SMTP server, not recorded as sent
	claimed := 0
	for _, m := range outbox(t, st, ev.ID) {
		if m.Status == model.MessageSending {
			claimed++
			if len(delivered[strings.ToLower(m.ToEmail)]) > 0 {
				accepted = append(accepted, strings.ToLower(m.ToEmail))
			}
		}
	}
	t.Logf("killed after %s: %d registrations acknowledged, %d cut off; %d emails delivered, %d claimed but not recorded as sent, %d of which the server had taken",
		killedAt.Round(time.Millisecond), len(acked), len(inDoubt), len(smtp.Received()), claimed, len(accepted))
	if len(accepted) > connections {
		t.Errorf("%d messages were taken by the server but not recorded as sent (%v): at most one per connection (%d) should be", len(accepted), accepted, connections)
	}
	if len(unexpected) > 0 {
		t.Errorf("%d answers were neither a 303 to the ticket nor a broken connection, first: %s", len(unexpected), unexpected[0])
	}
	if len(inDoubt) == 0 {
		t.Errorf("no request was in flight when the process was killed: the crash did not hit the burst")
	}

	restarted := time.Now()
	p.restart()

	// Every acknowledged registration is there, and no address twice.
	regs := api.registrations(t, ev.ID)
	rows := map[string]int{}
	for _, r := range regs {
		rows[strings.ToLower(r.Email)]++
		if r.Status != "confirmed" {
			t.Errorf("%s: status %s, want confirmed (capacity is unlimited)", r.Email, r.Status)
		}
	}
	for _, email := range acked {
		if rows[email] == 0 {
			t.Errorf("acknowledged registration of %s is lost", email)
		}
	}
	for email, n := range rows {
		if n > 1 {
			t.Errorf("%s registered %d times", email, n)
		}
	}
	t.Logf("%d registrations in the database (%d acknowledged, %d of the %d cut off were recorded)",
		len(regs), len(acked), len(regs)-len(acked), len(inDoubt))

	// Every registration's confirmation is delivered once the restarted worker has
	// drained the outbox — what the dead process had claimed included.
	drained := waitFor(t, 30*time.Second, "confirmation emails after the restart", func() (bool, string) {
		got := deliveries(smtp)
		missing := 0
		for _, email := range acked {
			if len(got[email]) == 0 {
				missing++
			}
		}
		if missing > 0 {
			return false, fmt.Sprintf("%d acknowledged registrations without their email; %s", missing, unsent(outbox(t, st, ev.ID)))
		}
		if why := unsent(outbox(t, st, ev.ID)); why != "" {
			return false, why
		}
		return true, ""
	})
	t.Logf("outbox drained %s after the restart (%s after it was ready)", time.Since(restarted).Round(time.Millisecond), drained.Round(time.Millisecond))
	got := deliveries(smtp)
	var twice []string
	for email, ids := range got {
		if rows[email] == 0 {
			t.Errorf("an email went to %s, who is not registered", email)
		}
		if len(ids) == 1 {
			continue
		}
		if len(ids) == 2 && ids[0] == ids[1] && slices.Contains(accepted, email) {
			t.Logf("%s: the message in flight at the kill was delivered again after the restart, with the same Message-ID", email)
			continue
		}
		twice = append(twice, fmt.Sprintf("%s (%d: %v)", email, len(ids), ids))
	}
	sort.Strings(twice)
	if len(twice) > 0 {
		t.Errorf("%d addresses got their confirmation more than once: %s", len(twice), strings.Join(twice, ", "))
	}
	for email := range rows {
		if len(got[email]) == 0 {
			t.Errorf("registered %s got no confirmation", email)
		}
	}
	// The restarted process serves as before.
	v, err := newVisitor(page)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := v.register(p.base, ev.Slug, "apres-"+driver+"@crash.example.org"); err != nil || !a.acknowledged() {
		t.Errorf("registration after the restart: %+v, %v", a.Status, err)
	}
	if a, err := v.register(p.base, ev.Slug, acked[0]); err != nil || a.Status != http.StatusSeeOther {
		t.Errorf("registering %s again: %+v, %v; want the neutral 303", acked[0], a.Status, err)
	}
}
