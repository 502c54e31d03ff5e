package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// channelsOf lists a contact's channels as "platform:handle:followers".
func channelsOf(c *model.Contact) string {
	var out []string
	for _, ch := range c.Channels {
		out = append(out, fmt.Sprintf("%s:%s:%d", ch.Platform, ch.Handle, ch.Followers))
	}
	return fmt.Sprint(out)
}

// The ticket holder's edit replaces their details, emptied ones included; channels the
// form does not show (the blog, a second account on a platform) are kept.
func TestUpdateRegistrantReplacesTheDetails(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 0, model.ModeOpen)
			// form is what the person typed at registration, and what the edit form shows.
			form := func() app.RegistrationInput {
				in := person(1)
				in.Phone, in.Outlet, in.BlogURL, in.City, in.Audience = "90 12 34 56", "Le blog", "kafui.tg", "Lomé", "12 000"
				in.Channels = []model.ContactChannel{{Platform: "facebook", Handle: "kafui.page"}, {Platform: "x", Handle: "@kafui"}}
				return in
			}
			res, err := a.Register(ctx, ev.ID, form())
			if err != nil {
				t.Fatal(err)
			}
			r := res.Registration
			// The directory knows more than the form shows.
			c, err := a.Store.FindContact(ctx, r.ContactID)
			if err != nil {
				t.Fatal(err)
			}
			c.Channels = append([]model.ContactChannel{{Platform: "facebook", Handle: "kafui.perso", Followers: 300},
				{Platform: "blog", Handle: "kafui.tg", URL: "https://kafui.tg"}}, c.Channels...)
			c.Channels[2].Followers = 5000 // kafui.page
			c.Notes = "Rencontré au salon"
			if err := a.Store.UpdateContact(ctx, c); err != nil {
				t.Fatal(err)
			}

			for _, step := range []struct {
				name     string
				edit     func(*app.RegistrationInput)
				want     func(*model.Contact) bool
				channels string
			}{
				{"nothing changed", func(in *app.RegistrationInput) {}, func(c *model.Contact) bool {
					return c.Phone == "+22890123456" && c.Outlet == "Le blog" && c.BlogURL == "https://kafui.tg" && c.City == "Lomé" && c.Audience == 12000
				}, "[blog:kafui.tg:0 facebook:kafui.perso:300 facebook:kafui.page:5000 x:@kafui:0]"},
				{"fields and a platform emptied, one added", func(in *app.RegistrationInput) {
					in.Phone, in.Outlet, in.BlogURL, in.City, in.Audience = "", "", "", "", ""
					in.Channels = []model.ContactChannel{{Platform: "facebook", Handle: "kafui.page"}, {Platform: "tiktok", Handle: "@kafui.tt"}}
				}, func(c *model.Contact) bool {
					return c.Phone == "" && c.Outlet == "" && c.BlogURL == "" && c.City == "" && c.Audience == 0
				}, "[blog:kafui.tg:0 facebook:kafui.perso:300 facebook:kafui.page:5000 tiktok:@kafui.tt:0]"},
				{"the handle shown changed", func(in *app.RegistrationInput) {
					in.Channels = []model.ContactChannel{{Platform: "facebook", Handle: "kafui.officiel"}}
				}, func(c *model.Contact) bool { return c.Phone == "+22890123456" && c.City == "Lomé" },
					"[blog:kafui.tg:0 facebook:kafui.perso:300 facebook:kafui.officiel:5000]"},
			} {
				in := form()
				step.edit(&in)
				if err := a.UpdateRegistrant(ctx, r, in); err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				got, err := a.Store.FindContact(ctx, r.ContactID)
				if err != nil {
					t.Fatal(err)
				}
				if !step.want(got) || channelsOf(got) != step.channels || got.Notes != "Rencontré au salon" || got.Email != "blogueur1@example.tg" {
					t.Fatalf("%s: %+v\nchannels %s, want %s", step.name, got, channelsOf(got), step.channels)
				}
			}

			// The name stays required; nothing is written then.
			in := form()
			in.LastName, in.City = " ", "Kara"
			if err := a.UpdateRegistrant(ctx, r, in); model.ErrorCode(err) != model.EInvalid {
				t.Fatalf("without a last name: %v", err)
			}
			if got, _ := a.Store.FindContact(ctx, r.ContactID); got.LastName != "1" || got.City != "Lomé" {
				t.Fatalf("a refused edit was written: %+v", got)
			}
		})
	}
}

// Each change of an event (its updated_at) gives its calendar file a higher SEQUENCE
// under the same UID, which calendars need to move the entry they hold.
func TestEventICSSequenceFollowsTheEventsChanges(t *testing.T) {
	cfg := config.Defaults()
	cfg.BaseURL = "https://relais.example.tg"
	a := app.New(nil, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Date(2026, 12, 17, 9, 0, 0, 0, time.UTC)
	saved := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	ev := &model.Event{ID: 7, Slug: "fibre", Title: "Fibre optique", StartsAt: start, EndsAt: start.Add(3 * time.Hour), UpdatedAt: saved}
	first, err := a.EventICS(ev)
	if err != nil {
		t.Fatal(err)
	}
	moved := *ev
	moved.StartsAt, moved.EndsAt, moved.UpdatedAt = start.Add(24*time.Hour), start.Add(27*time.Hour), saved.Add(time.Second)
	later, err := a.EventICS(&moved)
	if err != nil {
		t.Fatal(err)
	}
	if n1, n2 := atoi(t, icsField(t, first, "SEQUENCE")), atoi(t, icsField(t, later, "SEQUENCE")); n2 != n1+1 {
		t.Errorf("SEQUENCE %d then %d", n1, n2)
	}
	if icsField(t, first, "UID") != icsField(t, later, "UID") {
		t.Error("the changed event has another UID")
	}
	if d1, d2 := icsField(t, first, "DTSTAMP"), icsField(t, later, "DTSTAMP"); d1 != "20261127T100000Z" || d2 != "20261127T100001Z" {
		t.Errorf("DTSTAMP %s then %s", d1, d2)
	}
}

// icsField returns the value of a property of a calendar file's single event.
func icsField(t *testing.T, data []byte, name string) string {
	t.Helper()
	for _, line := range strings.Split(string(data), "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	t.Fatalf("no %s in\n%s", name, data)
	return ""
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
