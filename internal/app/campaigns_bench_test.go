package app_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/mail"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// TestCampaign10kDelivery measures a follow-up to 10,000 attendees, from the click to the
// last message accepted by a local SMTP server, with the outbox worker running beside
// (as in relais serve). It is slow, so it runs only with RELAIS_CAMPAIGN_10K=1
// (RELAIS_CAMPAIGN_N changes the number). It logs the times and asserts only that each
// attendee got one message.
func TestCampaign10kDelivery(t *testing.T) {
	if os.Getenv("RELAIS_CAMPAIGN_10K") != "1" {
		t.Skip("set RELAIS_CAMPAIGN_10K=1 to measure a 10,000-recipient campaign")
	}
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("RELAIS_CAMPAIGN_N")); err == nil && v > 0 {
		n = v
	}
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			ev := campEvent(t, a, clk.Now().Add(-24*time.Hour))
			t0 := time.Now()
			campAttendees(t, a, ev, n)
			t.Logf("%s: %d attendees registered in %v", driver, n, time.Since(t0).Round(time.Millisecond))
			m := campStartMailer(t)
			w := mail.NewWorker(a.Store, m.s, mail.WorkerOptions{})
			a.Kick = w.Kick
			wctx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); w.Run(wctx) }()
			defer func() { stop(); <-done }()
			camp, err := a.CreateCampaign(ctx, app.Actor{Name: "bench"}, ev.ID, app.CampaignInput{Segment: model.SegAttended,
				Subject: "Merci {first_name} !", Body: "Bonjour {first_name},\n\nMerci d’être venu·e à **{event_title}** ({event_date}).\n\n" +
					"Vos publications : [signaler un lien]({coverage_url}). Contact presse : {press_contact}."})
			if err != nil {
				t.Fatal(err)
			}
			t0 = time.Now()
			p, err := a.SendCampaign(ctx, app.Actor{Name: "bench"}, camp.ID)
			if err != nil || p.Recipients != int64(n) {
				t.Fatalf("send: %+v %v", p, err)
			}
			queued := time.Since(t0)
			deadline := time.Now().Add(10 * time.Minute)
			for len(m.srv.Received()) < n && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			delivered := time.Since(t0)
			got := m.perRecipient()
			if len(got) != n {
				t.Fatalf("%d recipients reached, want %d", len(got), n)
			}
			for addr, k := range got {
				if k != 1 {
					t.Fatalf("%s got %d messages", addr, k)
				}
			}
			t.Logf("%s: %d messages queued in %v (%.0f/s); last one delivered %v after the click (%.0f/s overall), %d SMTP connection(s)",
				driver, n, queued.Round(time.Millisecond), float64(n)/queued.Seconds(), delivered.Round(time.Millisecond),
				float64(n)/delivered.Seconds(), m.srv.Connections())
		})
	}
}
