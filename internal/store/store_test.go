package store_test

import (
	"context"
	"testing"
	"time"

	"relais/internal/model"
	"relais/internal/store/storetest"
)

func TestMigrateFromEmptyAndAgain(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatalf("second migrate: %v", err)
			}
		})
	}
}

func TestEventSlugUniqueAndLookups(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			start := time.Date(2017, 5, 17, 9, 0, 0, 0, time.UTC)
			e := &model.Event{Slug: "a", Title: "A", StartsAt: start, EndsAt: start.Add(3 * time.Hour),
				Timezone: "Africa/Lome", RegistrationMode: model.ModeOpen, Status: model.EventDraft, Lang: "fr"}
			if err := s.CreateEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			dup := *e
			dup.ID = 0
			if err := s.CreateEvent(ctx, &dup); model.ErrorCode(err) != model.EConflict {
				t.Fatalf("duplicate slug: got %v, want conflict", err)
			}
			got, err := s.FindEventBySlug(ctx, "a")
			if err != nil || !got.StartsAt.Equal(start) {
				t.Fatalf("find: %v %v", got, err)
			}
			if _, err := s.FindEventBySlug(ctx, "nope"); model.ErrorCode(err) != model.ENotFound {
				t.Fatalf("missing slug: %v", err)
			}
		})
	}
}

func TestRateLimitAndValues(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			for i := 1; i <= 4; i++ {
				ok, _, err := s.HitRateLimit(ctx, "k", 3, time.Minute)
				if err != nil || ok != (i <= 3) {
					t.Fatalf("hit %d: ok=%v err=%v", i, ok, err)
				}
			}
			v1, err := s.GetOrInitValue(ctx, "secret", func() (string, error) { return "one", nil })
			if err != nil {
				t.Fatal(err)
			}
			v2, _ := s.GetOrInitValue(ctx, "secret", func() (string, error) { return "two", nil })
			if v1 != "one" || v2 != "one" {
				t.Fatalf("values %q %q", v1, v2)
			}
		})
	}
}
