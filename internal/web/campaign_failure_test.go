package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// TestPressKitOverLimitWarnsAndShowsTheRefusal: the upload that takes the press kit past
// the limit is kept but its message names the scheduled campaign that will not go out;
// the campaign's page and the list say so; once refused, its page says why.
func TestPressKitOverLimitWarnsAndShowsTheRefusal(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			org := e.login(model.RoleOrganizer)
			ev := e.publishedEvent(0, model.ModeOpen)
			e.campPeople(ev, 1, [2]string{"Kafui", "fr"})
			actor := app.Actor{Name: "test"}
			big := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 9<<20+512<<10)...)
			if _, err := e.app.AddDocument(ctx, actor, ev.ID, "photos.pdf", big, 20<<20); err != nil {
				t.Fatal(err)
			}
			camp, err := e.app.CreateCampaign(ctx, actor, ev.ID, app.CampaignInput{Segment: model.SegAttended,
				Subject: "Merci Kafui", Body: "Le dossier est joint.", AttachPressKit: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.app.ScheduleCampaign(ctx, actor, camp.ID, time.Now().Add(48*time.Hour)); err != nil {
				t.Fatal(err)
			}
			evPage := "/admin/events/" + itoa(ev.ID)
			page := evPage + "/campaigns/" + itoa(camp.ID)
			expect(t, org.get(page), http.StatusOK, "Programmée")
			if r := org.get(page); strings.Contains(r.body, "ne partira pas") {
				t.Fatal("warned under the limit")
			}
			small := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 1<<20)...)
			r := upload(org, evPage, evPage+"/documents", "programme.pdf", small)
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("upload: %d %s", r.StatusCode, snippet(r.body))
			}
			expect(t, org.get(evPage), http.StatusOK, "dépasse maintenant 10 Mo", "la relance programmée « Merci Kafui »", "ne partira pas")
			if docs, _ := e.app.Store.ListDocuments(ctx, ev.ID); len(docs) != 2 {
				t.Fatalf("the upload was not kept: %d documents", len(docs))
			}
			expect(t, org.get(page), http.StatusOK, "Cette relance ne partira pas à l’heure prévue.", "Le dossier de presse dépasse 10 Mo")
			expect(t, org.get(evPage+"/campaigns"), http.StatusOK, "⚠ bloquée")
			// Its time comes (as the scheduler does it): back to draft, and the page says why.
			if ok, err := e.app.Store.ClaimCampaign(ctx, camp.ID, []model.CampaignStatus{model.CampaignScheduled}, time.Now().Add(time.Minute)); err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			if err := e.app.Store.RefuseDueCampaign(ctx, camp.ID, model.CampaignFailurePressKit, time.Now()); err != nil {
				t.Fatal(err)
			}
			expect(t, org.get(page), http.StatusOK, "Brouillon", "Relance non envoyée le", "Le dossier de presse dépasse 10 Mo", "revenue en brouillon")
			expect(t, org.get(evPage+"/campaigns"), http.StatusOK, "⚠ non envoyée")
			// A second upload with no campaign scheduled: the usual message.
			if r := upload(org, evPage, evPage+"/documents", "plan.pdf", small[:2048]); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("upload: %d", r.StatusCode)
			}
			expect(t, org.get(evPage), http.StatusOK, "Le document est ajouté au dossier de presse.")
		})
	}
}

// TestCancelledSessionBlocksItsScheduledCampaigns: once the session is cancelled, its
// scheduled follow-up says it will not go out, on its page and in the list.
func TestCancelledSessionBlocksItsScheduledCampaigns(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	org := e.login(model.RoleOrganizer)
	ev := e.publishedEvent(0, model.ModeOpen)
	e.campPeople(ev, 1, [2]string{"Kafui", "fr"})
	actor := app.Actor{Name: "test"}
	camp, err := e.app.CreateCampaign(ctx, actor, ev.ID, app.CampaignInput{Segment: model.SegRegistered,
		Subject: "Rappel", Body: "À demain."})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.app.ScheduleCampaign(ctx, actor, camp.ID, time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	list := "/admin/events/" + itoa(ev.ID) + "/campaigns"
	if r := org.get(list); strings.Contains(r.body, "⚠ bloquée") {
		t.Fatal("blocked before the cancellation")
	}
	if _, err := e.app.SetEventStatus(ctx, actor, ev.ID, model.EventCancelled); err != nil {
		t.Fatal(err)
	}
	expect(t, org.get(list+"/"+itoa(camp.ID)), http.StatusOK, "Cette relance ne partira pas à l’heure prévue.",
		"La session a été annulée : une relance programmée ne part pas d’elle-même.")
	expect(t, org.get(list), http.StatusOK, "⚠ bloquée")
}
