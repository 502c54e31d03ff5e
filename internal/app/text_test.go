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

// A crafted form with a NUL, a stray byte or a line break registers like any other on
// both databases (PostgreSQL refused the first two with a 500), and the person's
// confirmation email can be sent (a line break in the name made it unsendable).
// Found by FuzzValidateRegistration; the inputs are in its corpus.
func TestRegisterCleansControlCharacters(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, clk := campApp(t, driver)
			ev := campEvent(t, a, clk.Now().Add(48*time.Hour))
			q := &model.Question{EventID: ev.ID, Label: "Votre message", Kind: model.QLongText}
			if err := a.SaveQuestion(ctx, app.Actor{Name: "test"}, q); err != nil {
				t.Fatal(err)
			}
			res, err := a.Register(ctx, ev.ID, app.RegistrationInput{ContactInput: app.ContactInput{
				FirstName: "Ama\x00", LastName: "Mensah\xff", Email: "ama@example.tg", Outlet: "Blog\r\nBcc: x@example.org",
				BlogURL: "https://ama.example.tg/\xff", Channels: []model.ContactChannel{{Platform: "x", Handle: "@ama\x00"}}},
				Answers: map[int64][]string{q.ID: {"ligne 1\r\nligne 2\x00\x1b"}}, Consent: true, Lang: "fr"})
			if err != nil {
				t.Fatalf("code %s: %v", model.ErrorCode(err), err)
			}
			c, err := a.Store.FindContact(ctx, res.Registration.ContactID)
			if err != nil {
				t.Fatal(err)
			}
			if c.FirstName != "Ama" || c.LastName != "Mensah\uFFFD" || c.Outlet != "Blog  Bcc: x@example.org" ||
				len(c.Channels) != 1 || c.Channels[0].Handle != "@ama" {
				t.Errorf("stored %q %q %q %+v", c.FirstName, c.LastName, c.Outlet, c.Channels)
			}
			r, _ := a.Store.FindRegistration(ctx, res.Registration.ID)
			if !strings.Contains(r.Answers, `ligne 1\nligne 2`) || strings.Contains(r.Answers, `\u0000`) {
				t.Errorf("answers %s", r.Answers)
			}
			msgs, _, err := a.Store.ListMessages(ctx, store.MessageFilter{Query: "ama@example.tg", Limit: 10})
			if err != nil || len(msgs) == 0 {
				t.Fatalf("no confirmation: %v", err)
			}
			for _, m := range msgs {
				if strings.ContainsAny(m.ToName, "\r\n\x00") {
					t.Errorf("message to %q", m.ToName)
				}
			}
		})
	}
}
