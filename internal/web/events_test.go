package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func storeFilterAll() store.EventFilter { return store.EventFilter{} }

func eventForm(title string) url.Values {
	return url.Values{"title": {title}, "occasion": {"Journée mondiale des télécommunications"},
		"theme": {"Les mégadonnées pour un méga impact"}, "summary": {"Séance d’information"},
		"description": {"Le **réseau** e-Gouvernement.\n\n<script>alert(1)</script>"},
		"venue_name":  {"Ministère"}, "venue_address": {"Lomé"}, "starts_at": {"2017-05-17T09:00"}, "ends_at": {"2017-05-17T12:00"},
		"timezone": {"Africa/Lome"}, "capacity": {"30"}, "registration_mode": {"open"}, "press_contact_name": {"Afi Mensah"},
		"press_contact_email": {"presse@example.tg"}, "press_contact_phone": {"+228 22 00 00 00"}, "language": {"fr"}}
}

func TestEventCreateEditPublishAndPublicPage(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			org := e.login(model.RoleOrganizer)
			r := org.post("/admin/events/new", "/admin/events", eventForm("Les blogueurs et le réseau e-Gouvernement"))
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("create: %d %s", r.StatusCode, snippet(r.body))
			}
			ev, err := e.app.Store.FindEventBySlug(ctx, "les-blogueurs-et-le-reseau-e-gouvernement")
			if err != nil {
				t.Fatal(err)
			}
			if ev.StartsAt.UTC().Hour() != 9 || ev.Status != model.EventDraft {
				t.Fatalf("stored %v %s", ev.StartsAt, ev.Status)
			}
			// A draft is a 404 for the public.
			anon := e.client()
			expect(t, anon.get("/e/"+ev.Slug), http.StatusNotFound, "Page introuvable")
			id := itoa(ev.ID)
			// Agenda: add two items, move the second up.
			org.post("/admin/events/"+id, "/admin/events/"+id+"/agenda", url.Values{"start_time": {"09:00"}, "title": {"Accueil"}})
			org.post("/admin/events/"+id, "/admin/events/"+id+"/agenda", url.Values{"start_time": {"11:15"}, "title": {"Séance d’échanges"}})
			items, _ := e.app.Store.ListAgenda(ctx, ev.ID)
			if len(items) != 2 {
				t.Fatalf("%d agenda items", len(items))
			}
			org.post("/admin/events/"+id, "/admin/events/"+id+"/agenda/"+itoa(items[1].ID)+"/move", url.Values{"dir": {"up"}})
			items, _ = e.app.Store.ListAgenda(ctx, ev.ID)
			if items[0].Title != "Séance d’échanges" {
				t.Fatalf("move: %v", items)
			}
			// Edit, then publish.
			f := eventForm("Les blogueurs et le réseau e-Gouvernement")
			f.Set("slug", "blogueurs-2017")
			r = org.post("/admin/events/"+id+"/edit", "/admin/events/"+id, f)
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("edit: %d %s", r.StatusCode, snippet(r.body))
			}
			r = org.post("/admin/events/"+id, "/admin/events/"+id+"/status", url.Values{"status": {"published"}})
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("publish: %d", r.StatusCode)
			}
			r = anon.get("/e/blogueurs-2017")
			expect(t, r, http.StatusOK, "mercredi 17 mai 2017, 09:00 – 12:00", "Les mégadonnées pour un méga impact",
				"<strong>réseau</strong>", "Afi Mensah", "Séance d’échanges", `lang="fr"`, `property="og:title"`, "https://wa.me/?text=")
			if strings.Contains(r.body, "<script>alert(1)</script>") {
				t.Fatal("raw HTML from Markdown reached the page")
			}
			en := e.client()
			en.lang = "en"
			expect(t, en.get("/e/blogueurs-2017"), http.StatusOK, "Wednesday 17 May 2017, 09:00 – 12:00", `lang="en"`, "Programme")
			// Cancel and archive are allowed; archived → published is not.
			org.post("/admin/events/"+id, "/admin/events/"+id+"/status", url.Values{"status": {"archived"}})
			r = org.post("/admin/events/"+id, "/admin/events/"+id+"/status", url.Values{"status": {"published"}})
			expect(t, r, http.StatusConflict)
		})
	}
}

func TestEventFormBadInput(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			org := e.login(model.RoleOrganizer)
			cases := []struct {
				name   string
				change func(url.Values)
				want   string
			}{
				{"empty title", func(v url.Values) { v.Set("title", " ") }, "Ce champ est obligatoire."},
				{"oversized title", func(v url.Values) { v.Set("title", strings.Repeat("é", 201)) }, "Ce texte est trop long."},
				{"end before start", func(v url.Values) { v.Set("ends_at", "2017-05-17T08:00") }, "La fin doit être postérieure au début."},
				{"negative capacity", func(v url.Values) { v.Set("capacity", "-3") }, "Le nombre de places ne peut pas être négatif."},
				{"bad date", func(v url.Values) { v.Set("starts_at", "demain") }, "Indiquez une date et une heure valides."},
				{"bad slug", func(v url.Values) { v.Set("slug", "Pas Bon!") }, "Utilisez seulement des lettres minuscules"},
				{"bad email", func(v url.Values) { v.Set("press_contact_email", "presse@") }, "Cette adresse e-mail n’est pas valide."},
			}
			for _, c := range cases {
				f := eventForm("Valide")
				c.change(f)
				r := org.post("/admin/events/new", "/admin/events", f)
				expect(t, r, http.StatusUnprocessableEntity, c.want, `aria-invalid="true"`)
				if c.name == "end before start" && !strings.Contains(r.body, `value="Valide"`) {
					t.Fatalf("%s: values not kept", c.name)
				}
			}
			// Duplicate slug typed by hand is refused; a duplicate title gets a new slug.
			f := eventForm("Même titre")
			org.post("/admin/events/new", "/admin/events", f)
			r := org.post("/admin/events/new", "/admin/events", f)
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("second same title: %d", r.StatusCode)
			}
			if _, err := e.app.Store.FindEventBySlug(context.Background(), "meme-titre-2"); err != nil {
				t.Fatal("no -2 slug:", err)
			}
			f.Set("slug", "meme-titre")
			expect(t, org.post("/admin/events/new", "/admin/events", f), http.StatusUnprocessableEntity, "Cette adresse est déjà prise")
			events, _ := e.app.Store.ListEvents(context.Background(), storeFilterAll())
			if len(events) != 2 {
				t.Fatalf("%d events after bad input, want 2", len(events))
			}
		})
	}
}

func upload(c *client, from, path, name string, data []byte) *resp {
	c.e.t.Helper()
	tok := c.csrf(from)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", tok)
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(data)
	w.Close()
	return c.do("POST", path, &buf, w.FormDataContentType())
}

func TestDocumentUploads(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			org := e.login(model.RoleOrganizer)
			org.post("/admin/events/new", "/admin/events", eventForm("Dossier"))
			ev, _ := e.app.Store.FindEventBySlug(context.Background(), "dossier")
			id := itoa(ev.ID)
			page := "/admin/events/" + id
			pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 2000)...)
			r := upload(org, page, page+"/documents", "../../etc/Dossier de presse é.pdf", pdf)
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("upload: %d %s", r.StatusCode, snippet(r.body))
			}
			expect(t, upload(org, page, page+"/documents", "virus.pdf", []byte("MZ\x90\x00 this is an exe")), http.StatusUnprocessableEntity, "Ce type de fichier n’est pas accepté")
			expect(t, upload(org, page, page+"/documents", "page.html", []byte("<html><script>x</script></html>")), http.StatusUnprocessableEntity, "Ce type de fichier")
			big := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 10<<20)...)
			r = upload(org, page, page+"/documents", "gros.pdf", big)
			if r.StatusCode != http.StatusUnprocessableEntity && r.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("big upload: %d", r.StatusCode)
			}
			if !strings.Contains(r.body, "10 Mo") && !strings.Contains(r.body, "trop volumineux") {
				t.Fatalf("big upload message: %s", snippet(r.body))
			}
			docs, _ := e.app.Store.ListDocuments(context.Background(), ev.ID)
			if len(docs) != 1 || docs[0].Name != "Dossier de presse é.pdf" || docs[0].ContentType != "application/pdf" {
				t.Fatalf("documents: %+v", docs)
			}
			// Served as an attachment with the detected type once the event is public.
			org.post(page, page+"/status", url.Values{"status": {"published"}})
			r = e.client().get("/e/dossier/documents/" + itoa(docs[0].ID))
			expect(t, r, http.StatusOK)
			if r.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("headers: %v", r.Header)
			}
		})
	}
}

func TestHomeListsUpcomingPublished(t *testing.T) {
	e := newEnv(t, "sqlite")
	if _, err := e.app.LoadDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	again, err := e.app.LoadDemo(context.Background())
	if err != nil || !strings.Contains(again, "nothing to do") {
		t.Fatalf("second demo: %q %v", again, err)
	}
	r := e.client().get("/")
	expect(t, r, http.StatusOK, "Les services publics en ligne expliqués aux blogueurs", "Ministère des Postes")
	if strings.Contains(r.body, "à la découverte du réseau e-Gouvernement") {
		t.Fatal("a past session is listed as upcoming")
	}
	expect(t, e.client().get("/e/blogosphere-reseau-e-gouvernement-2017"), http.StatusOK, "mercredi 17 mai 2017, 09:00 – 12:00",
		"Les mégadonnées pour un méga impact", "Séance d’échanges avec les blogueurs")
	expect(t, e.client().get("/e/nope"), http.StatusNotFound, "Page introuvable")
}

func TestSettingsShownInFooter(t *testing.T) {
	e := newEnv(t, "sqlite")
	adm := e.login(model.RoleAdmin)
	r := adm.post("/admin/settings", "/admin/settings", url.Values{"name": {"Ministère X"}, "website": {"ftp://x"}, "default_lang": {"fr"}, "default_timezone": {"Africa/Lome"}})
	expect(t, r, http.StatusUnprocessableEntity, "https://")
	r = adm.post("/admin/settings", "/admin/settings", url.Values{"name": {"Ministère X"}, "address": {"Lomé"}, "website": {"https://x.example.tg"},
		"press_contact_name": {"Afi"}, "default_lang": {"fr"}, "default_timezone": {"Africa/Lome"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.StatusCode, snippet(r.body))
	}
	expect(t, e.client().get("/"), http.StatusOK, "Ministère X", "Lomé", "Contact presse : Afi")
}

func TestOperationsEndpoints(t *testing.T) {
	e := newEnv(t, "sqlite")
	c := e.client()
	expect(t, c.get("/healthz"), http.StatusOK, "ok")
	expect(t, c.get("/readyz"), http.StatusOK, `"database":"ok"`)
	c.get("/")
	expect(t, c.get("/metrics"), http.StatusOK, "relais_http_requests_total")
	r := c.get("/")
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers: %v", r.Header)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Fatal("no request id")
	}
}
