package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"relais/internal/model"
	"relais/internal/store/storetest"
)

// The ticket holder owns their details: what they empty on "Modifier mes informations"
// is emptied, and a refused edit still shows the address the ticket belongs to.
func TestTicketEditClearsFieldsAndShowsTheEmail(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.publishedEvent(0, model.ModeOpen)
			page := "/e/" + ev.Slug
			c := e.client()
			f := regForm("kafui@example.tg")
			f.Set("channel_x", "@kafui")
			r := c.post(page, page+"/register", f)
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/t/") {
				t.Fatalf("register: %d %s", r.StatusCode, snippet(r.body))
			}
			ticketURL := r.Header.Get("Location")
			expect(t, c.get(ticketURL+"/edit"), http.StatusOK, "Adresse e-mail : kafui@example.tg", `value="Le blog de Kafui"`,
				`value="kafui.blog"`, `value="@kafui"`, `value="Lomé"`)

			// Everything but the name emptied, the X handle kept.
			edit := url.Values{"first_name": {"Kafui"}, "last_name": {"Adjo"}, "phone": {""}, "outlet": {""}, "blog_url": {""},
				"channel_facebook": {""}, "channel_x": {"@kafui"}, "audience": {""}, "city": {""}}
			r = c.post(ticketURL+"/edit", ticketURL+"/edit", edit)
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("edit: %d %s", r.StatusCode, snippet(r.body))
			}
			ct, err := e.app.Store.FindContactByEmail(ctx, "kafui@example.tg")
			if err != nil {
				t.Fatal(err)
			}
			if ct, err = e.app.Store.FindContact(ctx, ct.ID); err != nil {
				t.Fatal(err)
			}
			if ct.Phone != "" || ct.Outlet != "" || ct.BlogURL != "" || ct.City != "" || ct.Audience != 0 ||
				len(ct.Channels) != 1 || ct.Channels[0].Platform != "x" || ct.Channels[0].Handle != "@kafui" {
				t.Fatalf("the emptied fields were kept: %+v", ct)
			}
			expectNot(t, c.get(ticketURL+"/edit"), "Le blog de Kafui", "kafui.blog", "Lomé", "12000")

			// A refused edit: 422, the typed values and the ticket's address.
			edit.Set("first_name", "")
			edit.Set("city", "Kara")
			r = c.post(ticketURL+"/edit", ticketURL+"/edit", edit)
			expect(t, r, http.StatusUnprocessableEntity, "Adresse e-mail : kafui@example.tg", "Ce champ est obligatoire.", `value="Kara"`)
			if again, _ := e.app.Store.FindContact(ctx, ct.ID); again.City != "" || again.FirstName != "Kafui" {
				t.Fatalf("a refused edit was saved: %+v", again)
			}
		})
	}
}
