package store_test

import (
	"context"
	"testing"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// TestTagsAndCitiesWithoutCase: a tag added in another case ("éducation" on a contact
// tagged "Éducation") is not added twice, and removing it in any case removes both; a
// city written in capitals with accents is found from its own spelling (SQLite's LOWER
// folds ASCII only).
func TestTagsAndCitiesWithoutCase(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			ctx := context.Background()
			var ids []int64
			for i, city := range []string{"SOKODÉ", "Lomé"} {
				c := &model.Contact{Email: []string{"a@example.tg", "b@example.tg"}[i], FirstName: "A", City: city,
					Tags: []string{"Éducation"}, UnsubscribeToken: []string{"u1u1u1u1u1u1u1u1u1u1u1", "u2u2u2u2u2u2u2u2u2u2u2"}[i]}
				if err := s.CreateContact(ctx, c); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, c.ID)
			}
			if n, err := s.AddContactsTag(ctx, ids, "éducation"); err != nil || n != 0 {
				t.Fatalf("add in another case: %d %v", n, err)
			}
			if n, err := s.AddContactsTag(ctx, ids, "Santé"); err != nil || n != 2 {
				t.Fatalf("add: %d %v", n, err)
			}
			if n, err := s.RemoveContactsTag(ctx, ids, "ÉDUCATION"); err != nil || n != 2 {
				t.Fatalf("remove in another case: %d %v", n, err)
			}
			for _, id := range ids {
				c, err := s.FindContact(ctx, id)
				if err != nil || len(c.Tags) != 1 || c.Tags[0] != "Santé" {
					t.Fatalf("tags of %d: %+v %v", id, c.Tags, err)
				}
			}
			got, n, err := s.ListContacts(ctx, store.ContactFilter{City: "SOKODÉ"})
			if err != nil || n != 1 || got[0].City != "SOKODÉ" {
				t.Fatalf("city filter: %d %v", n, err)
			}
		})
	}
}
