package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// Each change of date or venue is notified, even back to a version notified before:
// moved A → B, B → A, then A → B again, a registrant hears of all three.
func TestChangeNoticeForEachChange(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			actor := app.Actor{Name: "Afi"}
			ev := campEvent(t, a, clk.Now().Add(10*24*time.Hour))
			campRegister(t, a, ev, campContact(t, a, "conf", "fr"), model.RegConfirmed, false, clk.Now())
			a1, b := *ev, *ev
			b.StartsAt, b.EndsAt, b.VenueName = ev.StartsAt.Add(24*time.Hour), ev.EndsAt.Add(24*time.Hour), "Maison des médias"
			for i, to := range []model.Event{b, a1, b} {
				cur, err := a.Store.FindEventByID(ctx, ev.ID)
				if err != nil {
					t.Fatal(err)
				}
				next := *cur
				next.StartsAt, next.EndsAt, next.VenueName = to.StartsAt, to.EndsAt, to.VenueName
				if n, err := a.SaveEventAndNotify(ctx, actor, &next, true); err != nil || n != 1 {
					t.Fatalf("move %d: %d notices (%v), want 1", i+1, n, err)
				}
			}
			msgs, _, err := a.Store.ListMessages(ctx, store.MessageFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			keys := map[string]bool{}
			for _, m := range msgs {
				if m.Kind == "event_changed" {
					if !strings.HasPrefix(m.IdempotencyKey, "change:") || keys[m.IdempotencyKey] {
						t.Fatalf("key %q", m.IdempotencyKey)
					}
					keys[m.IdempotencyKey] = true
				}
			}
			if len(keys) != 3 {
				t.Fatalf("%d change notices, want 3", len(keys))
			}
		})
	}
}
