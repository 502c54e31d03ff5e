package app_test

import (
	"context"
	"testing"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// TestNewPasswordRevokesAPITokens: an administrator who sets a new password for an
// account (a lost or stolen one) also cuts the API tokens made with it; a change of name
// leaves them working.
func TestNewPasswordRevokesAPITokens(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			ctx := context.Background()
			admin := app.Actor{Name: "admin"}
			in := app.UserInput{Email: "afi@example.tg", Name: "Afi", Role: model.RoleOrganizer, Lang: "fr", Password: "une phrase de passe longue"}
			u, err := a.CreateUser(ctx, admin, in)
			if err != nil {
				t.Fatal(err)
			}
			tok, _, err := a.CreateAPIToken(ctx, admin, u.ID, "script")
			if err != nil {
				t.Fatal(err)
			}
			in.Password, in.Name = "", "Afi Mensah"
			if _, err := a.UpdateUser(ctx, admin, u.ID, in); err != nil {
				t.Fatal(err)
			}
			if _, err := a.UserForAPIToken(ctx, tok); err != nil {
				t.Fatalf("a new name revoked the token: %v", err)
			}
			in.Password = "une autre phrase de passe"
			if _, err := a.UpdateUser(ctx, admin, u.ID, in); err != nil {
				t.Fatal(err)
			}
			if _, err := a.UserForAPIToken(ctx, tok); err == nil {
				t.Fatal("the token still works after a new password")
			}
		})
	}
}
