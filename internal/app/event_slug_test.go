package app_test

import (
	"context"
	"testing"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// TestPublishedEventKeepsItsAddress: a draft's slug follows what the organizer types;
// once the session is published, links to /e/{slug} are out there, and the slug stays,
// whether another is typed (refused, on its field) or the title changes with the field
// left empty.
func TestPublishedEventKeepsItsAddress(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, _ := regApp(t, driver)
			orga := app.Actor{Name: "orga"}
			ev := regEvent(t, a, 0, model.ModeOpen)
			if _, err := a.SetEventStatus(ctx, orga, ev.ID, model.EventDraft); err != nil {
				t.Fatal(err)
			}
			ev, _ = a.Store.FindEventByID(ctx, ev.ID)
			ev.Slug = "la-fibre"
			if err := a.SaveEvent(ctx, orga, ev); err != nil || ev.Slug != "la-fibre" {
				t.Fatalf("draft: slug %q, %v", ev.Slug, err)
			}
			if _, err := a.SetEventStatus(ctx, orga, ev.ID, model.EventPublished); err != nil {
				t.Fatal(err)
			}
			ev, _ = a.Store.FindEventByID(ctx, ev.ID)
			ev.Slug = "autre-adresse"
			err := a.SaveEvent(ctx, orga, ev)
			if model.ErrorCode(err) != model.EInvalid {
				t.Fatalf("a new slug for a published session: %v", err)
			}
			ev.Slug, ev.Title = "", "Un tout autre titre"
			if err := a.SaveEvent(ctx, orga, ev); err != nil {
				t.Fatal(err)
			}
			if got, err := a.Store.FindEventBySlug(ctx, "la-fibre"); err != nil || got.Title != "Un tout autre titre" {
				t.Fatalf("the address moved: %v", err)
			}
		})
	}
}
