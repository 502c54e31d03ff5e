package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// dirContact adds a contact through the application, as the form does.
func dirContact(e *env, first, last, email string, f func(*app.ContactForm)) *model.Contact {
	e.t.Helper()
	in := app.ContactForm{FirstName: first, LastName: last, Email: email}
	if f != nil {
		f(&in)
	}
	c, err := e.app.CreateContact(context.Background(), app.Actor{Name: "test"}, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// dirEvent creates a published session three weeks ahead, with one question.
func dirEvent(e *env, title string) (*model.Event, *model.Question) {
	e.t.Helper()
	ctx := context.Background()
	start := time.Now().UTC().Add(21 * 24 * time.Hour).Truncate(time.Hour)
	ev := &model.Event{Title: title, StartsAt: start, EndsAt: start.Add(3 * time.Hour), Capacity: 50,
		RegistrationMode: model.ModeOpen, Status: model.EventPublished, Timezone: "Africa/Lome", Lang: "fr"}
	if err := e.app.SaveEvent(ctx, app.Actor{Name: "test"}, ev); err != nil {
		e.t.Fatal(err)
	}
	q := &model.Question{EventID: ev.ID, Label: "Votre sujet préféré", Kind: model.QText}
	if err := e.app.Store.AddQuestion(ctx, q); err != nil {
		e.t.Fatal(err)
	}
	return ev, q
}

// dirRegister registers a contact's address at the event (an email is queued), and
// checks them in when checkIn.
func dirRegister(e *env, ev *model.Event, q *model.Question, c *model.Contact, checkIn bool) *model.Registration {
	e.t.Helper()
	ctx := context.Background()
	res, err := e.app.AddRegistration(ctx, app.Actor{Name: "test"}, ev.ID, app.RegistrationInput{
		ContactInput: app.ContactInput{FirstName: c.FirstName, LastName: c.LastName, Email: c.Email},
		Answers:      map[int64][]string{q.ID: {"La fibre optique"}}, Lang: "fr"})
	if err != nil {
		e.t.Fatal(err)
	}
	r := res.Registration
	if checkIn {
		now := time.Now().UTC()
		r.CheckedInAt = &now
		if err := e.app.Store.SaveRegistration(ctx, r); err != nil {
			e.t.Fatal(err)
		}
	}
	return r
}

// dirInvite records an invitation straight in the database.
func dirInvite(e *env, ev *model.Event, c *model.Contact) {
	e.t.Helper()
	now := time.Now().UTC()
	inv := &model.Invitation{EventID: ev.ID, ContactID: c.ID, Token: app.NewToken(), Status: "sent", SentAt: &now}
	if err := e.app.Store.CreateInvitation(context.Background(), inv); err != nil {
		e.t.Fatal(err)
	}
}

var dirRowRe = regexp.MustCompile(`<a href="/admin/contacts/(\d+)">([^<]*)</a>`)

// dirNames lists the names of a directory page, in order.
func dirNames(t *testing.T, r *resp) []string {
	t.Helper()
	expect(t, r, http.StatusOK)
	var out []string
	for _, m := range dirRowRe.FindAllStringSubmatch(r.body, -1) {
		out = append(out, m[2])
	}
	return out
}

func dirSameNames(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

// dirUpload posts a multipart form with a file, with the CSRF token of the page at from.
func dirUpload(c *client, from, path, filename string, data []byte, fields url.Values) *resp {
	c.e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if from != "" {
		w.WriteField("_csrf", c.csrf(from))
	}
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	fw, _ := w.CreateFormFile("file", filename)
	fw.Write(data)
	w.Close()
	return c.do("POST", path, &body, w.FormDataContentType())
}

// dirAPIRaw sends a body of any type to the API with a token.
func dirAPIRaw(c *client, method, path, token, ctype string, body []byte) *resp {
	c.e.t.Helper()
	req, _ := http.NewRequest(method, c.e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer r.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(r.Body)
	return &resp{r, b.String()}
}

// dirFixture is a small directory with a history: Kafui attended a session, Edem was
// invited and never came, Ayélé unsubscribed, the others were never invited.
type dirFixture struct {
	ev                               *model.Event
	q                                *model.Question
	kafui, edem, ayele, abla, fofana *model.Contact
	reg                              *model.Registration
}

func dirSetup(e *env) *dirFixture {
	e.t.Helper()
	f := &dirFixture{}
	f.ev, f.q = dirEvent(e, "Les services publics en ligne")
	f.kafui = dirContact(e, "Kafui", "Adjo", "kafui@blog.example.org", func(in *app.ContactForm) {
		in.Outlet, in.City, in.Audience, in.Tags = "Le blog de Kafui", "Lomé", "12000", []string{"tech, Lomé"}
		in.Channels = []app.ChannelInput{{Platform: "facebook", Handle: "@kafui_adjo", Followers: "12000"}}
	})
	f.edem = dirContact(e, "Edem", "Kossi", "edem@blog.example.org", func(in *app.ContactForm) {
		in.Outlet, in.City, in.Audience, in.Tags, in.Lang = "TechTogo", "Kpalimé", "8500", []string{"tech"}, "en"
		in.Channels = []app.ChannelInput{{Platform: "x", Handle: "@edem"}}
	})
	f.ayele = dirContact(e, "Ayélé", "Sodji", "ayele@blog.example.org", func(in *app.ContactForm) {
		in.Outlet, in.City, in.Audience, in.Tags = "Ayélé Santé", "lomé", "11200", []string{"société"}
		in.Channels = []app.ChannelInput{{Platform: "instagram", Handle: "ayele.sante"}}
	})
	f.abla = dirContact(e, "Abla", "Lawson", "abla@blog.example.org", func(in *app.ContactForm) {
		in.Outlet, in.City, in.Audience = "Abla Lifestyle", "Lomé", "31000"
		in.Channels = []app.ChannelInput{{Platform: "instagram", Handle: "@abla"}}
	})
	f.fofana = dirContact(e, "", "", "fofana@media.example.org", nil)
	f.reg = dirRegister(e, f.ev, f.q, f.kafui, true)
	dirInvite(e, f.ev, f.edem)
	ctx := context.Background()
	if _, err := e.app.Store.MarkContactUnsubscribed(ctx, f.ayele.ID, time.Now().UTC()); err != nil {
		e.t.Fatal(err)
	}
	return f
}

func TestDirectoryListSearchAndFilters(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			dirSetup(e)
			org := e.login(model.RoleOrganizer)
			all := []string{"Kafui Adjo", "Edem Kossi", "Abla Lawson", "Ayélé Sodji", "fofana@media.example.org"}
			r := org.get("/admin/contacts")
			dirSameNames(t, "by name", dirNames(t, r), all...)
			expect(t, r, http.StatusOK, "5 contacts", `name="contact_id"`, `formaction="/admin/invitations"`,
				`name="event_id"`, `name="note"`, "Les services publics en ligne", `name="bulk_tag"`)
			for _, c := range []struct {
				query string
				want  []string
			}{
				{"q=ayele", []string{"Ayélé Sodji"}},                                     // accents do not count
				{"q=KAFUI+adjo", []string{"Kafui Adjo"}},                                 // every word, any case
				{"q=techtogo", []string{"Edem Kossi"}},                                   // outlet
				{"q=kafui_adjo", []string{"Kafui Adjo"}},                                 // handle, "_" as written
				{"q=media.example", []string{"fofana@media.example.org"}},                // email
				{"tag=tech", []string{"Kafui Adjo", "Edem Kossi"}},                       // tag
				{"tag=TECH", []string{"Kafui Adjo", "Edem Kossi"}},                       // tag without case
				{"city=LOM%C3%89", []string{"Kafui Adjo", "Abla Lawson", "Ayélé Sodji"}}, // city without case
				{"city=lom%C3%A9", []string{"Kafui Adjo", "Abla Lawson", "Ayélé Sodji"}},
				{"platform=instagram", []string{"Abla Lawson", "Ayélé Sodji"}}, // platform
				{"language=en", []string{"Edem Kossi"}},
				{"history=attended", []string{"Kafui Adjo"}},
				{"history=invited_no_show", []string{"Edem Kossi"}},
				{"history=never_invited", []string{"Kafui Adjo", "Abla Lawson", "Ayélé Sodji", "fofana@media.example.org"}},
				{"history=unsubscribed", []string{"Ayélé Sodji"}},
				{"sort=audience", []string{"Abla Lawson", "Kafui Adjo", "Ayélé Sodji", "Edem Kossi", "fofana@media.example.org"}},
				{"sort=created", []string{"fofana@media.example.org", "Abla Lawson", "Ayélé Sodji", "Edem Kossi", "Kafui Adjo"}},
				{"tag=tech&history=attended&platform=facebook", []string{"Kafui Adjo"}},
				{"q=nobody", nil},
			} {
				dirSameNames(t, c.query, dirNames(t, org.get("/admin/contacts?"+c.query)), c.want...)
			}
			// Another role may not see the directory.
			door := e.login(model.RoleDoor)
			if r := door.get("/admin/contacts"); r.StatusCode != http.StatusForbidden {
				t.Fatalf("door: %d", r.StatusCode)
			}
		})
	}
}

func TestDirectoryCreateEditAndBulkTag(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			f := dirSetup(e)
			org := e.login(model.RoleOrganizer)
			form := url.Values{"first_name": {"Sena"}, "last_name": {"Ahiadzro"}, "email": {"pas une adresse"},
				"phone": {"90 12"}, "language": {"fr"}, "tags": {"vidéo, Lomé"},
				"channel_platform": {"tiktok", "youtube", "x"}, "channel_handle": {"@sena", "https://youtube.com/@sena", ""},
				"channel_followers": {"52k", "1 200", ""}}
			r := org.post("/admin/contacts/new", "/admin/contacts", form)
			expect(t, r, http.StatusUnprocessableEntity, "Cette adresse e-mail n’est pas valide", "Ce numéro de téléphone n’est pas valide", `value="Sena"`)
			form.Set("email", " KAFUI@blog.example.org ")
			form.Set("phone", "90 12 34 56")
			r = org.post("/admin/contacts/new", "/admin/contacts", form)
			expect(t, r, http.StatusUnprocessableEntity, "Un contact de l’annuaire a déjà cette adresse")
			form.Set("email", "Sena@Blog.Example.org")
			r = org.post("/admin/contacts/new", "/admin/contacts", form)
			expect(t, r, http.StatusSeeOther)
			sena, err := e.app.Store.FindContactByEmail(context.Background(), "sena@blog.example.org")
			if err != nil {
				t.Fatal(err)
			}
			sena, _ = e.app.Store.FindContact(context.Background(), sena.ID)
			if sena.Phone != "+22890123456" || strings.Join(sena.Tags, ",") != "Lomé,vidéo" || len(sena.Channels) != 2 ||
				sena.Channels[0].Followers != 52000 || sena.Channels[1].URL != "https://youtube.com/@sena" || sena.Channels[1].Followers != 1200 {
				t.Fatalf("created: %+v", sena)
			}
			page := fmt.Sprintf("/admin/contacts/%d", sena.ID)
			expect(t, org.get(page), http.StatusOK, "Sena Ahiadzro", "228 90 12 34 56", "@sena", "vidéo")
			expect(t, org.get(page+"/edit"), http.StatusOK, `value="Lomé, vidéo"`, `value="@sena"`, `value="52000"`)

			// Edit: change the email to another contact's is refused; notes and tags change.
			edit := url.Values{"first_name": {"Sena"}, "last_name": {"Ahiadzro"}, "email": {"edem@blog.example.org"},
				"tags": {"vidéo"}, "notes": {"Rencontrée au salon\r\ndu numérique"}, "channel_platform": {"tiktok"},
				"channel_handle": {"@sena"}, "channel_followers": {""}}
			expect(t, org.post(page+"/edit", page, edit), http.StatusUnprocessableEntity, "Un contact de l’annuaire a déjà cette adresse")
			edit.Set("email", "sena@blog.example.org")
			expect(t, org.post(page+"/edit", page, edit), http.StatusSeeOther)
			sena, _ = e.app.Store.FindContact(context.Background(), sena.ID)
			if sena.Notes != "Rencontrée au salon\ndu numérique" || strings.Join(sena.Tags, ",") != "vidéo" || len(sena.Channels) != 1 {
				t.Fatalf("edited: %+v", sena)
			}

			// Bulk: tag Abla and Edem "influenceur", then take "tech" off Edem (and Abla, who has none).
			bulk := url.Values{"contact_id": {fmt.Sprint(f.abla.ID), fmt.Sprint(f.edem.ID)}, "bulk_tag": {" influenceur "},
				"action": {"tag_add"}, "back": {"/admin/contacts?sort=created"}}
			r = org.post("/admin/contacts", "/admin/contacts/bulk", bulk)
			expect(t, r, http.StatusSeeOther)
			if loc := r.Header.Get("Location"); loc != "/admin/contacts?sort=created" {
				t.Fatalf("back to %q", loc)
			}
			expect(t, org.get("/admin/contacts?sort=created"), http.StatusOK, "Étiquette « influenceur » ajoutée à 2 contacts.")
			dirSameNames(t, "tagged", dirNames(t, org.get("/admin/contacts?tag=influenceur")), "Edem Kossi", "Abla Lawson")
			bulk.Set("bulk_tag", "tech")
			bulk.Set("action", "tag_remove")
			expect(t, org.post("/admin/contacts", "/admin/contacts/bulk", bulk), http.StatusSeeOther)
			expect(t, org.get("/admin/contacts"), http.StatusOK, "Étiquette « tech » retirée de 1 contact.")
			dirSameNames(t, "untagged", dirNames(t, org.get("/admin/contacts?tag=tech")), "Kafui Adjo")
			bulk.Del("contact_id")
			expect(t, org.post("/admin/contacts", "/admin/contacts/bulk", bulk), http.StatusSeeOther)
			expect(t, org.get("/admin/contacts"), http.StatusOK, "Cochez au moins un contact.")
		})
	}
}

func TestContactHistoryExportAndErase(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			f := dirSetup(e)
			ctx := context.Background()
			org := e.login(model.RoleOrganizer)
			page := fmt.Sprintf("/admin/contacts/%d", f.kafui.ID)
			expect(t, org.get(page), http.StatusOK, "Les services publics en ligne", "Confirmée", "1 session suivie",
				"Aucune invitation", "/admin/mailbox/")
			edemPage := fmt.Sprintf("/admin/contacts/%d", f.edem.ID)
			expect(t, org.get(edemPage), http.StatusOK, "Les services publics en ligne", "Envoyée", "Aucune inscription")

			// The JSON export holds the fields, the registration with its answer, the emails.
			r := org.get(page + "/export.json")
			expect(t, r, http.StatusOK)
			if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
				t.Fatalf("disposition %q", cd)
			}
			var exp struct {
				Contact struct {
					Email    string   `json:"email"`
					Tags     []string `json:"tags"`
					Channels []struct {
						Platform, Handle string
					} `json:"channels"`
				} `json:"contact"`
				Registrations []struct {
					ID     int64  `json:"id"`
					Status string `json:"status"`
					Event  struct {
						Title string `json:"title"`
					} `json:"event"`
					CheckedInAt *time.Time `json:"checked_in_at"`
					Answers     []struct {
						Question string `json:"question"`
						Answer   string `json:"answer"`
					} `json:"answers"`
				} `json:"registrations"`
				Invitations []any `json:"invitations"`
				Messages    []struct {
					Kind    string `json:"kind"`
					ToEmail string `json:"to_email"`
				} `json:"messages"`
			}
			if err := json.Unmarshal([]byte(r.body), &exp); err != nil {
				t.Fatalf("%v\n%s", err, r.body)
			}
			if exp.Contact.Email != "kafui@blog.example.org" || len(exp.Contact.Tags) != 2 || len(exp.Contact.Channels) != 1 ||
				len(exp.Registrations) != 1 || exp.Registrations[0].ID != f.reg.ID || exp.Registrations[0].Event.Title != "Les services publics en ligne" ||
				exp.Registrations[0].CheckedInAt == nil || len(exp.Registrations[0].Answers) != 1 ||
				exp.Registrations[0].Answers[0].Question != "Votre sujet préféré" || exp.Registrations[0].Answers[0].Answer != "La fibre optique" ||
				exp.Invitations == nil || len(exp.Messages) == 0 || exp.Messages[0].ToEmail != "kafui@blog.example.org" {
				t.Fatalf("export: %+v\n%s", exp, r.body)
			}

			// Erasing asks for a confirmation, then anonymises; the registration still counts.
			before, err := e.app.Store.CountRegistrations(ctx, f.ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			expect(t, org.get(page+"/erase"), http.StatusOK, "Effacer les données de Kafui Adjo")
			expect(t, org.post(page+"/erase", page+"/erase", nil), http.StatusUnprocessableEntity, "Cochez cette case pour confirmer.")
			if c, _ := e.app.Store.FindContact(ctx, f.kafui.ID); c.ErasedAt != nil {
				t.Fatal("erased without confirmation")
			}
			expect(t, org.post(page+"/erase", page+"/erase", url.Values{"confirm": {"yes"}}), http.StatusSeeOther)
			c, err := e.app.Store.FindContact(ctx, f.kafui.ID)
			if err != nil {
				t.Fatal(err)
			}
			if c.ErasedAt == nil || c.Name() != "Contact effacé" || c.Email != fmt.Sprintf("erased-%d@erased.invalid", c.ID) ||
				c.Phone != "" || c.Outlet != "" || c.BlogURL != "" || c.Notes != "" || c.City != "" || c.Audience != 0 ||
				len(c.Channels) != 0 || len(c.Tags) != 0 || c.UnsubscribedAt == nil {
				t.Fatalf("erased: %+v", c)
			}
			after, _ := e.app.Store.CountRegistrations(ctx, f.ev.ID)
			if fmt.Sprint(before) != fmt.Sprint(after) || after[model.RegConfirmed] != 1 {
				t.Fatalf("registrations before %v after %v", before, after)
			}
			reg, _ := e.app.Store.FindRegistration(ctx, f.reg.ID)
			if reg.CheckedInAt == nil || reg.Answers != "{}" {
				t.Fatalf("registration after erasure: %+v", reg)
			}
			msgs, _ := e.app.Store.ListMessagesForContact(ctx, c.ID, 0)
			for _, m := range msgs {
				full, _ := e.app.Store.FindMessage(ctx, m.ID)
				if full.ToEmail != c.Email || strings.Contains(full.TextBody+full.HTMLBody, "Kafui") || len(full.Attachments) != 0 ||
					full.Status == model.MessageQueued {
					t.Fatalf("message kept personal data: %+v", full)
				}
			}
			expect(t, org.get(page), http.StatusOK, "Contact effacé", "Les données personnelles de ce contact ont été effacées")
			if names := dirNames(t, org.get("/admin/contacts")); len(names) != 4 {
				t.Fatalf("an erased contact is listed: %v", names)
			}
			audit, _ := e.app.Store.ListAudit(ctx, 0, 50)
			seen := map[string]bool{}
			for _, a := range audit {
				if a.ObjectType == "contact" && a.ObjectID == f.kafui.ID {
					seen[a.Action] = true
				}
			}
			if !seen["contact.export"] || !seen["contact.erase"] {
				t.Fatalf("audit: %v", seen)
			}
		})
	}
}

func TestDirectoryCSVExportImportsBack(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			dirSetup(e)
			dirContact(e, "=HYPERLINK(\"x\")", "Piège", "piege@example.tg", func(in *app.ContactForm) {
				in.Outlet, in.Phone, in.Tags = "@cmd", "+228 90 00 00 01", []string{"tech"}
			})
			org := e.login(model.RoleOrganizer)
			r := org.get("/admin/contacts.csv?tag=tech")
			expect(t, r, http.StatusOK, "\ufeffPrénom;Nom;E-mail;Téléphone;", "'=HYPERLINK", ";'@cmd;", "'+228 90 00 00 01")
			if strings.Contains(r.body, "abla@") || !strings.Contains(r.body, "edem@blog.example.org") || !strings.HasSuffix(r.body, "\r\n") {
				t.Fatalf("filtered export:\n%s", r.body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
				t.Fatalf("type %q", ct)
			}
			comma := org.get("/admin/contacts.csv?sep=comma")
			expect(t, comma, http.StatusOK, "\ufeffPrénom,Nom,E-mail,")

			// The whole export, imported back, is all known: nothing new, nothing rejected.
			export := org.get("/admin/contacts.csv").body
			before := dirNames(t, org.get("/admin/contacts"))
			tok := e.token(model.RoleOrganizer)
			r = dirAPIRaw(org, "POST", "/api/v1/contacts/import", tok, "text/csv", []byte(export))
			expect(t, r, http.StatusOK, `"imported":0`, `"merged":6`, `"rejected":[]`)
			dirSameNames(t, "after re-import", dirNames(t, org.get("/admin/contacts")), before...)
		})
	}
}

func TestDirectoryImportPages(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			f := dirSetup(e)
			org := e.login(model.RoleOrganizer)
			// A picture is refused before anything is kept.
			r := dirUpload(org, "/admin/contacts/import", "/admin/contacts/import", "photo.png",
				[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), nil)
			expect(t, r, http.StatusUnprocessableEntity, "Ce fichier n’est pas un fichier CSV")
			r = dirUpload(org, "/admin/contacts/import", "/admin/contacts/import", "vide.csv", nil, nil)
			expect(t, r, http.StatusUnprocessableEntity, "Le fichier est vide")
			big := bytes.Repeat([]byte("x;y;z@example.tg\n"), app.MaxImportBytes/17+1)
			r = dirUpload(org, "/admin/contacts/import", "/admin/contacts/import", "gros.csv", big, nil)
			expect(t, r, http.StatusRequestEntityTooLarge, "Le fichier dépasse 5 Mo")

			file := "Nom complet;Adresse;Ville;Abonnés\n" +
				"ADJO Kafui;KAFUI@blog.example.org;Kara;\n" + // 2: known, in other capitals
				"Dédé Amouzou;dede@blog.example.org;Lomé;22 000\n" + // 3
				"Sans Adresse;;Lomé;\n" + // 4
				"Dédé A.;Dede@Blog.example.org;;\n" // 5: repeats line 3
			r = dirUpload(org, "/admin/contacts/import", "/admin/contacts/import", "liste.csv", []byte(file), nil)
			expect(t, r, http.StatusSeeOther)
			preview := r.Header.Get("Location")
			if !strings.HasPrefix(preview, "/admin/contacts/import/") {
				t.Fatalf("preview at %q", preview)
			}
			r = org.get(preview)
			// "Adresse" is not recognised: the organizer maps it to the email.
			expect(t, r, http.StatusOK, "liste.csv", "4 lignes de données", "ADJO Kafui", `name="map_1"`,
				`<option value="name" selected>`, `<option value="city" selected>`, `<option value="audience" selected>`)
			vals := url.Values{"map_0": {"name"}, "map_1": {""}, "map_2": {"city"}, "map_3": {"audience"}, "duplicates": {"skip"}}
			r = org.post(preview, preview, vals)
			expect(t, r, http.StatusUnprocessableEntity, "Indiquez la colonne qui contient l’adresse e-mail")
			vals.Set("map_1", "email")
			r = org.post(preview, preview, vals)
			expect(t, r, http.StatusOK, "Résultat de l’import", "<strong>1</strong> nouveaux contacts",
				"<strong>1</strong> lignes ignorées", "Adresse e-mail manquante", "Doublon de la ligne 3")
			if !regexp.MustCompile(`<td class="num">4</td><td>Adresse e-mail manquante`).MatchString(r.body) ||
				!regexp.MustCompile(`<td class="num">5</td><td>Doublon de la ligne 3`).MatchString(r.body) {
				t.Fatalf("report lines:\n%s", r.body)
			}
			kafui, _ := e.app.Store.FindContact(context.Background(), f.kafui.ID)
			if kafui.City != "Lomé" {
				t.Fatalf("a skipped contact changed: %+v", kafui)
			}
			dede, err := e.app.Store.FindContactByEmail(context.Background(), "dede@blog.example.org")
			if err != nil || dede.FirstName != "Dédé" || dede.LastName != "Amouzou" || dede.Audience != 22000 {
				t.Fatalf("imported: %+v %v", dede, err)
			}
			// The file was imported once: confirming again finds nothing.
			r = org.post("/admin/contacts/import", preview, vals)
			expect(t, r, http.StatusSeeOther)
			expect(t, org.get("/admin/contacts/import"), http.StatusOK, "Ce fichier a déjà été importé")
			// Another organizer cannot use someone else's upload.
			r = dirUpload(org, "/admin/contacts/import", "/admin/contacts/import", "liste.csv", []byte(file), nil)
			other := e.client()
			e.user(model.RoleOrganizer, "autre@example.tg")
			expect(t, other.post("/login", "/login", url.Values{"email": {"autre@example.tg"}, "password": {"correct horse battery"}}), http.StatusSeeOther)
			expect(t, other.get(r.Header.Get("Location")), http.StatusSeeOther)
		})
	}
}

func TestAPIContacts(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			f := dirSetup(e)
			c := e.client()
			org, door := e.token(model.RoleOrganizer), e.token(model.RoleDoor)
			if r := c.api("GET", "/api/v1/contacts", door, ""); r.StatusCode != http.StatusForbidden {
				t.Fatalf("door: %d", r.StatusCode)
			}
			body := `{"first_name":"Selom","last_name":"Klutse","email":" Selom@Blog.Example.org","phone":"+228 93 00 00 01",
				"city":"Lomé","language":"en","audience":7300,"tags":["tech","vidéo"],
				"channels":[{"platform":"x","handle":"@selom","followers":7300},{"platform":"youtube","url":"youtube.com/@selom"}]}`
			r := c.api("POST", "/api/v1/contacts", org, body)
			if r.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d %s", r.StatusCode, r.body)
			}
			var ct map[string]any
			json.Unmarshal([]byte(r.body), &ct)
			if ct["email"] != "selom@blog.example.org" || ct["phone"] != "+22893000001" || ct["language"] != "en" ||
				fmt.Sprint(ct["tags"]) != "[tech vidéo]" || len(ct["channels"].([]any)) != 2 || ct["unsubscribed_at"] != nil || ct["created_at"] == nil {
				t.Fatalf("created: %s", r.body)
			}
			id := int64(ct["id"].(float64))
			if r := c.api("POST", "/api/v1/contacts", org, `{"email":"SELOM@blog.example.org"}`); r.StatusCode != http.StatusConflict || errorCode(t, r) != "conflict" {
				t.Fatalf("duplicate: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", "/api/v1/contacts", org, `{"email":"nope","phone":"12"}`); r.StatusCode != 422 ||
				!strings.Contains(r.body, `"email"`) || !strings.Contains(r.body, `"phone"`) {
				t.Fatalf("invalid: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", "/api/v1/contacts", org, `{"email":"a@example.tg","tags":["a,b"]}`); r.StatusCode != 422 {
				t.Fatalf("tag with a comma: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("POST", "/api/v1/contacts", org, `{"email":"a@example.tg","nope":1}`); r.StatusCode != 400 {
				t.Fatalf("unknown field: %d", r.StatusCode)
			}
			path := fmt.Sprintf("/api/v1/contacts/%d", id)
			r = c.api("PATCH", path, org, `{"city":"Kara","tags":["tech"]}`)
			if r.StatusCode != 200 || !strings.Contains(r.body, `"city":"Kara"`) || !strings.Contains(r.body, `"tags":["tech"]`) ||
				!strings.Contains(r.body, `"first_name":"Selom"`) || !strings.Contains(r.body, `"handle":"@selom"`) {
				t.Fatalf("patch: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("PATCH", path, org, `{"email":"kafui@blog.example.org"}`); r.StatusCode != http.StatusConflict {
				t.Fatalf("patch to a taken email: %d", r.StatusCode)
			}
			if r := c.api("GET", "/api/v1/contacts/999999", org, ""); r.StatusCode != 404 {
				t.Fatalf("missing: %d", r.StatusCode)
			}
			var list struct {
				Contacts []struct {
					ID    int64    `json:"id"`
					Email string   `json:"email"`
					Tags  []string `json:"tags"`
				} `json:"contacts"`
				Page, PerPage, Total int `json:"-"`
			}
			r = c.api("GET", "/api/v1/contacts?tag=tech&per_page=1&page=2", org, "")
			json.Unmarshal([]byte(r.body), &list)
			if r.StatusCode != 200 || !strings.Contains(r.body, `"total":3`) || !strings.Contains(r.body, `"page":2`) ||
				!strings.Contains(r.body, `"per_page":1`) || len(list.Contacts) != 1 || list.Contacts[0].Email != "selom@blog.example.org" {
				t.Fatalf("list: %s", r.body)
			}
			r = c.api("GET", "/api/v1/contacts?history=invited_no_show", org, "")
			if !strings.Contains(r.body, `"total":1`) || !strings.Contains(r.body, "edem@blog.example.org") {
				t.Fatalf("history: %s", r.body)
			}
			r = c.api("GET", "/api/v1/contacts?q=selom&city=kara&language=en&platform=youtube", org, "")
			if !strings.Contains(r.body, `"total":1`) {
				t.Fatalf("filters: %s", r.body)
			}
			// DELETE erases; the registration of Kafui keeps counting.
			if r := c.api("DELETE", fmt.Sprintf("/api/v1/contacts/%d", f.kafui.ID), org, ""); r.StatusCode != http.StatusNoContent {
				t.Fatalf("delete: %d %s", r.StatusCode, r.body)
			}
			r = c.api("GET", fmt.Sprintf("/api/v1/contacts/%d", f.kafui.ID), org, "")
			if !strings.Contains(r.body, `"first_name":"Contact effacé"`) || !strings.Contains(r.body, `"erased_at":"`) {
				t.Fatalf("erased: %s", r.body)
			}
			if n, _ := e.app.Store.CountConfirmed(context.Background(), f.ev.ID); n != 1 {
				t.Fatalf("confirmed after erasure: %d", n)
			}
			if r := c.api("PATCH", fmt.Sprintf("/api/v1/contacts/%d", f.kafui.ID), org, `{"city":"Lomé"}`); r.StatusCode != http.StatusConflict {
				t.Fatalf("patch an erased contact: %d", r.StatusCode)
			}
		})
	}
}

func TestAPIContactsImport(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			dirSetup(e)
			c := e.client()
			org := e.token(model.RoleOrganizer)
			file := "\uFEFFFirst name,Last name,Email,Instagram,Tags\r\n" +
				"Kafui,Adjo,KAFUI@blog.example.org,@kafui.insta,influenceur\r\n" + // 2
				"Nadou,Bawa,nadou@blog.example.org,@nadou,\"beauté, vidéo\"\r\n" + // 3
				"Bad,Mail,nadou@,,\r\n" + // 4
				"\r\n" + // 5
				"Nadou,,NADOU@blog.example.org,,société\r\n" // 6
			r := dirAPIRaw(c, "POST", "/api/v1/contacts/import?duplicates=skip", org, "text/csv; charset=utf-8", []byte(file))
			var rep struct {
				Imported, Merged, Skipped int
				Rejected                  []struct {
					Line      int    `json:"line"`
					Reason    string `json:"reason"`
					FirstLine int    `json:"first_line"`
					Message   string `json:"message"`
				}
			}
			if err := json.Unmarshal([]byte(r.body), &rep); err != nil || r.StatusCode != 200 {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			if rep.Imported != 1 || rep.Merged != 0 || rep.Skipped != 1 || len(rep.Rejected) != 2 ||
				rep.Rejected[0].Line != 4 || rep.Rejected[0].Reason != "bad_email" || rep.Rejected[0].Message == "" ||
				rep.Rejected[1].Line != 6 || rep.Rejected[1].Reason != "duplicate_in_file" || rep.Rejected[1].FirstLine != 3 {
				t.Fatalf("skip: %s", r.body)
			}
			// The same file as a multipart upload, merging.
			var body bytes.Buffer
			w := multipart.NewWriter(&body)
			fw, _ := w.CreateFormFile("file", "contacts.csv")
			fw.Write([]byte(file))
			w.Close()
			r = dirAPIRaw(c, "POST", "/api/v1/contacts/import", org, w.FormDataContentType(), body.Bytes())
			expect(t, r, http.StatusOK, `"imported":0`, `"merged":3`, `"skipped":0`, `"line":4`)
			nadou, _ := e.app.Store.FindContactByEmail(context.Background(), "nadou@blog.example.org")
			nadou, _ = e.app.Store.FindContact(context.Background(), nadou.ID)
			kafui, _ := e.app.Store.FindContactByEmail(context.Background(), "kafui@blog.example.org")
			kafui, _ = e.app.Store.FindContact(context.Background(), kafui.ID)
			if strings.Join(nadou.Tags, ",") != "beauté,société,vidéo" || len(kafui.Channels) != 2 || len(kafui.Tags) != 3 {
				t.Fatalf("merged: %+v %+v", nadou, kafui)
			}
			if r := dirAPIRaw(c, "POST", "/api/v1/contacts/import?duplicates=maybe", org, "text/csv", []byte(file)); r.StatusCode != 400 {
				t.Fatalf("bad mode: %d", r.StatusCode)
			}
			r = dirAPIRaw(c, "POST", "/api/v1/contacts/import", org, "text/csv", []byte("\x89PNG\r\n\x1a\n\x00\x00"))
			if r.StatusCode != 422 || errorCode(t, r) != "invalid" {
				t.Fatalf("binary: %d %s", r.StatusCode, r.body)
			}
			r = dirAPIRaw(c, "POST", "/api/v1/contacts/import", org, "text/csv", []byte("Nom;Ville\nAdjo;Lomé\n"))
			if r.StatusCode != 422 || !strings.Contains(r.body, "e-mail") {
				t.Fatalf("no email column: %d %s", r.StatusCode, r.body)
			}
			big := bytes.Repeat([]byte("x;y;z@example.tg\n"), app.MaxImportBytes/17+1)
			if r := dirAPIRaw(c, "POST", "/api/v1/contacts/import", org, "text/csv", big); r.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("too large: %d", r.StatusCode)
			}
			if r := dirAPIRaw(c, "POST", "/api/v1/contacts/import", e.token(model.RoleDoor), "text/csv", []byte(file)); r.StatusCode != 403 {
				t.Fatalf("door: %d", r.StatusCode)
			}
		})
	}
}

// The directory at 20,000 contacts: 10,000 imported from one CSV file, 10,000 more by a
// batched insert; the list page, a search and filters answer (times are logged, not asserted).
func TestDirectoryAt20000Contacts(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 20,000 contacts")
	}
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			var csvFile strings.Builder
			csvFile.WriteString("Prénom;Nom;E-mail;Téléphone;Média;Ville;Facebook;Abonnés;Étiquettes\r\n")
			cities := []string{"Lomé", "Kara", "Sokodé", "Kpalimé", "Atakpamé"}
			for i := 0; i < 10000; i++ {
				fmt.Fprintf(&csvFile, "Prénom%d;Nom%d;blogueur%d@example.tg;+228 90 %02d %02d %02d;Blog %d;%s;@blog%d;%d;%s\r\n",
					i, i, i, i/10000%100, i/100%100, i%100, i, cities[i%5], i, i*7%100000, []string{"tech", "société", "vidéo"}[i%3])
			}
			f, err := app.ParseContactsCSV([]byte(csvFile.String()))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			rep, err := e.app.ImportContacts(ctx, app.Actor{Name: "test"}, f, app.GuessMapping(f.Header), app.DuplicatesMerge)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: imported 10,000 rows from CSV (%d KB) in %v", driver, csvFile.Len()>>10, time.Since(start).Round(time.Millisecond))
			if rep.Imported != 10000 || len(rep.Rejected) != 0 {
				t.Fatalf("import: %d imported, rejected %v", rep.Imported, rep.Rejected[:min(5, len(rep.Rejected))])
			}
			// The next 10,000 straight through the store, in one batched transaction.
			var more []*model.Contact
			for i := 10000; i < 20000; i++ {
				more = append(more, &model.Contact{Email: fmt.Sprintf("blogueur%d@example.tg", i), FirstName: fmt.Sprintf("Prénom%d", i),
					LastName: fmt.Sprintf("Nom%d", i), City: cities[i%5], Audience: i % 5000, Lang: "fr", UnsubscribeToken: app.NewToken(),
					Tags: []string{"lot2"}, Channels: []model.ContactChannel{{Platform: "instagram", Handle: fmt.Sprintf("@insta%d", i)}}})
			}
			start = time.Now()
			if err := e.app.Store.Tx(ctx, func(tx *store.Store) error { return tx.ImportContacts(ctx, more, nil) }); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: seeded 10,000 more contacts in %v", driver, time.Since(start).Round(time.Millisecond))
			// As autovacuum would soon after such a batch (the import above does it itself).
			if err := e.app.Store.AnalyzeDirectory(ctx); err != nil {
				t.Fatal(err)
			}
			org := e.login(model.RoleOrganizer)
			org.get("/admin/contacts") // warm up
			for _, q := range []string{"", "?page=200", "?q=blogueur1999", "?q=lome&sort=audience", "?tag=tech&platform=facebook",
				"?history=never_invited&city=Kara", "?sort=created&page=150"} {
				start = time.Now()
				r := org.get("/admin/contacts" + q)
				took := time.Since(start)
				expect(t, r, http.StatusOK)
				t.Logf("%s: GET /admin/contacts%s → %s in %v", driver, q, regexp.MustCompile(`\d[\d\x{202f} ]* contacts?`).FindString(r.body),
					took.Round(time.Millisecond))
			}
			if names := dirNames(t, org.get("/admin/contacts?q=blogueur19999")); len(names) != 1 {
				t.Fatalf("search at 20,000: %v", names)
			}
			start = time.Now()
			r := org.get("/admin/contacts.csv")
			t.Logf("%s: CSV export of 20,000 contacts (%d KB) in %v", driver, len(r.body)>>10, time.Since(start).Round(time.Millisecond))
		})
	}
}

// The directory's invitation form posts, without JavaScript, to /admin/invitations
// (the invitations' handler) and comes back to the list.
func TestDirectoryInvitesTheTickedContacts(t *testing.T) {
	e := newEnv(t, "sqlite")
	f := dirSetup(e)
	org := e.login(model.RoleOrganizer)
	list := org.get("/admin/contacts?tag=tech")
	expect(t, list, http.StatusOK, `formaction="/admin/invitations"`, fmt.Sprintf(`<option value="%d">`, f.ev.ID))
	r := org.post("/admin/contacts?tag=tech", "/admin/invitations", url.Values{
		"contact_id": {fmt.Sprint(f.abla.ID)}, "event_id": {fmt.Sprint(f.ev.ID)}, "tag": {""},
		"note": {"Au plaisir de vous voir"}, "back": {"/admin/contacts?tag=tech"}, "bulk_tag": {""}})
	expect(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/admin/contacts?tag=tech" {
		t.Fatalf("back to %q", loc)
	}
	page := org.get(fmt.Sprintf("/admin/contacts/%d", f.abla.ID))
	expect(t, page, http.StatusOK, "Les services publics en ligne")
	if strings.Contains(page.body, "Aucune invitation") {
		t.Fatalf("no invitation on the contact page:\n%s", snippet(page.body))
	}
	dirSameNames(t, "invited, never came", dirNames(t, org.get("/admin/contacts?history=invited_no_show")), "Edem Kossi", "Abla Lawson")
}
