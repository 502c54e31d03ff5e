package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// TestQueuedRemindersDoNotOutliveTheirReason: a reminder still in the outbox (the SMTP
// server away, a backlog) does not go after the registration is cancelled, after the
// session is cancelled, nor with the old time after the session moved: the scheduler
// queues it again with the new one.
func TestQueuedRemindersDoNotOutliveTheirReason(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			orga := app.Actor{Name: "orga"}
			start := time.Date(2026, 12, 10, 10, 0, 0, 0, time.UTC)
			queued := func(ev *model.Event) []string {
				t.Helper()
				msgs, _, err := a.Store.ListMessages(ctx, store.MessageFilter{Status: model.MessageQueued, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, m := range msgs {
					if m.Kind == "event_reminder" && m.EventID != nil && *m.EventID == ev.ID {
						out = append(out, m.ToEmail)
					}
				}
				slices.Sort(out)
				return out
			}
			ev := campEvent(t, a, start)
			kafui := campRegister(t, a, ev, campContact(t, a, "kafui", "fr"), model.RegConfirmed, false, clk.Now())
			campRegister(t, a, ev, campContact(t, a, "edem", "fr"), model.RegConfirmed, false, clk.Now())
			clk.Set(start.Add(-24*time.Hour + time.Minute))
			if err := a.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if got := queued(ev); !slices.Equal(got, []string{"edem@example.tg", "kafui@example.tg"}) {
				t.Fatalf("queued the day before: %q", got)
			}
			if _, err := a.CancelRegistration(ctx, orga, kafui.ID); err != nil {
				t.Fatal(err)
			}
			if got := queued(ev); !slices.Equal(got, []string{"edem@example.tg"}) {
				t.Fatalf("after a cancellation: %q", got)
			}
			// Moved by two hours: the queued reminder (10:00) gives way to one for 12:00.
			ev, _ = a.Store.FindEventByID(ctx, ev.ID)
			ev.StartsAt, ev.EndsAt = ev.StartsAt.Add(2*time.Hour), ev.EndsAt.Add(2*time.Hour)
			if err := a.SaveEvent(ctx, orga, ev); err != nil {
				t.Fatal(err)
			}
			if got := queued(ev); len(got) != 0 {
				t.Fatalf("after the move, the old reminder is still queued: %q", got)
			}
			clk.Set(ev.StartsAt.Add(-24*time.Hour + time.Minute))
			if err := a.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if got := queued(ev); !slices.Equal(got, []string{"edem@example.tg"}) {
				t.Fatalf("the reminder for the new time: %q", got)
			}
			if _, err := a.SetEventStatus(ctx, orga, ev.ID, model.EventCancelled); err != nil {
				t.Fatal(err)
			}
			if got := queued(ev); len(got) != 0 {
				t.Fatalf("after the session's cancellation: %q", got)
			}
		})
	}
}
