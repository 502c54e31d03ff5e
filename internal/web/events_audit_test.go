package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// TestAgendaDocumentAndRetryAreAudited: editing, moving and deleting an agenda item,
// deleting a press-kit document and retrying a message each leave an entry in the audit
// log under the organizer who did it.
func TestAgendaDocumentAndRetryAreAudited(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			org := e.login(model.RoleOrganizer)
			u, err := e.app.Store.FindUserByEmail(ctx, "organizer@example.tg")
			if err != nil {
				t.Fatal(err)
			}
			org.post("/admin/events/new", "/admin/events", eventForm("Audit"))
			ev, err := e.app.Store.FindEventBySlug(ctx, "audit")
			if err != nil {
				t.Fatal(err)
			}
			page := "/admin/events/" + itoa(ev.ID)
			for _, title := range []string{"Accueil", "Table ronde"} {
				org.post(page, page+"/agenda", url.Values{"start_time": {"09:00"}, "title": {title}})
			}
			items, _ := e.app.Store.ListAgenda(ctx, ev.ID)
			if len(items) != 2 {
				t.Fatalf("%d agenda items", len(items))
			}
			item := page + "/agenda/" + itoa(items[0].ID)
			for _, step := range []struct {
				path string
				vals url.Values
			}{
				{item, url.Values{"start_time": {"09:30"}, "title": {"Accueil des blogueurs"}}},
				{item + "/move", url.Values{"dir": {"down"}}},
				{item + "/delete", nil},
			} {
				expect(t, org.post(page, step.path, step.vals), http.StatusSeeOther)
			}
			pdf := append([]byte("%PDF-1.4\n"), make([]byte, 100)...)
			expect(t, upload(org, page, page+"/documents", "dossier.pdf", pdf), http.StatusSeeOther)
			docs, _ := e.app.Store.ListDocuments(ctx, ev.ID)
			if len(docs) != 1 {
				t.Fatalf("documents: %+v", docs)
			}
			expect(t, org.post(page, page+"/documents/"+itoa(docs[0].ID)+"/delete", nil), http.StatusSeeOther)
			msgID, err := e.app.QueueTestMail(ctx, "kafui@example.tg")
			if err != nil {
				t.Fatal(err)
			}
			msg := "/admin/mailbox/" + itoa(msgID)
			expect(t, org.post(msg, msg+"/retry", nil), http.StatusSeeOther)

			rows, _, err := e.app.Store.ListAuditEntries(ctx, store.AuditFilter{ActorID: u.ID})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range rows {
				got[r.Action] = r.Detail
			}
			want := map[string]string{"agenda.update": "Accueil des blogueurs", "agenda.move": "down",
				"agenda.delete": "Accueil des blogueurs", "document.delete": "dossier.pdf", "message.retry": ""}
			for action, detail := range want {
				if d, ok := got[action]; !ok || d != detail {
					t.Errorf("%s: logged %v with %q, want %q", action, ok, d, detail)
				}
			}
		})
	}
}
