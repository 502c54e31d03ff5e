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

// campPDF is a PDF of about mb megabytes.
func campPDF(mb float64) []byte {
	return append([]byte("%PDF-1.4\n"), make([]byte, int(mb*(1<<20)))...)
}

// TestScheduledCampaignRefusedForAGrownPressKitSaysWhy: a scheduled campaign attaching
// the press kit, which grows past the limit before its time, is announced as blocked
// (the upload is kept), then at its time goes back to draft unsent with the reason on
// it and in the audit log, once; scheduling it again clears the reason.
func TestScheduledCampaignRefusedForAGrownPressKitSaysWhy(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			actor := app.Actor{Name: "Afi"}
			ev := campEvent(t, a, clk.Now().Add(-24*time.Hour))
			ama := campContact(t, a, "ama", "fr")
			campRegister(t, a, ev, ama, model.RegConfirmed, true, ev.StartsAt)
			if _, err := a.AddDocument(ctx, actor, ev.ID, "dossier.pdf", campPDF(6), 20<<20); err != nil {
				t.Fatal(err)
			}
			camp, err := a.CreateCampaign(ctx, actor, ev.ID, app.CampaignInput{Segment: model.SegAttended,
				Subject: "Merci {first_name}", Body: "Le dossier de presse est joint.", AttachPressKit: true})
			if err != nil {
				t.Fatal(err)
			}
			other, err := a.CreateCampaign(ctx, actor, ev.ID, app.CampaignInput{Segment: model.SegAttended,
				Subject: "Sans pièce jointe", Body: "Bonjour."})
			if err != nil {
				t.Fatal(err)
			}
			due := clk.Now().Add(time.Hour)
			for _, id := range []int64{camp.ID, other.ID} {
				if err := a.ScheduleCampaign(ctx, actor, id, due); err != nil {
					t.Fatal(err)
				}
			}
			if over, err := a.ScheduledCampaignsOverPressKit(ctx, ev.ID); err != nil || len(over) != 0 {
				t.Fatalf("under the limit: %v %v", over, err)
			}
			// The press kit grows past 10 MB: kept, but the campaign is announced blocked.
			if _, err := a.AddDocument(ctx, actor, ev.ID, "photos.pdf", campPDF(5), 20<<20); err != nil {
				t.Fatal(err)
			}
			over, err := a.ScheduledCampaignsOverPressKit(ctx, ev.ID)
			if err != nil || len(over) != 1 || over[0].ID != camp.ID {
				t.Fatalf("over the limit: %+v %v", over, err)
			}
			c, _ := a.Store.FindCampaign(ctx, camp.ID)
			if p, err := a.ScheduledCampaignProblem(ctx, c); err != nil || p != model.CampaignFailurePressKit {
				t.Fatalf("problem before the time: %q %v", p, err)
			}
			// At its time: back to draft, unsent, with the reason; the other one goes.
			clk.Add(2 * time.Hour)
			for range 2 {
				if err := a.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			c, _ = a.Store.FindCampaign(ctx, camp.ID)
			if c.Status != model.CampaignDraft || c.ScheduledAt != nil || c.LastError != model.CampaignFailurePressKit ||
				c.LastErrorAt == nil || !c.LastErrorAt.Equal(clk.Now()) {
				t.Fatalf("refused campaign: %+v", c)
			}
			if n, err := a.Store.CountCampaignMessages(ctx, camp.ID); err != nil || len(n) != 0 {
				t.Fatalf("messages of the refused campaign: %v %v", n, err)
			}
			if o, _ := a.Store.FindCampaign(ctx, other.ID); o.Status != model.CampaignSent || o.LastError != "" {
				t.Fatalf("the other campaign: %+v", o)
			}
			rows, _, err := a.Store.ListAuditEntries(ctx, store.AuditFilter{EventID: ev.ID, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var refused []string
			for _, r := range rows {
				if r.Action == "campaign.refused" {
					if r.ObjectID != camp.ID || r.ActorName != "scheduler" {
						t.Errorf("audit entry %+v", r.AuditEntry)
					}
					refused = append(refused, r.Detail)
				}
			}
			if len(refused) != 1 || !strings.Contains(refused[0], "press kit 11.0 MB, over the 10 MB limit") ||
				!strings.Contains(refused[0], "was due "+due.Format(time.RFC3339)) {
				t.Fatalf("audit of the refusal: %q", refused)
			}
			// No longer scheduled: nothing to warn about; scheduling again is refused
			// until the press kit shrinks, then clears the reason.
			if p, err := a.ScheduledCampaignProblem(ctx, c); err != nil || p != "" {
				t.Fatalf("problem of a draft: %q %v", p, err)
			}
			if err := a.ScheduleCampaign(ctx, actor, camp.ID, clk.Now().Add(time.Hour)); model.ErrorCode(err) != model.EInvalid {
				t.Fatalf("schedule over the limit: %v", err)
			}
			docs, _ := a.Store.ListDocuments(ctx, ev.ID)
			for _, d := range docs {
				if d.Name == "photos.pdf" {
					if err := a.Store.DeleteDocument(ctx, ev.ID, d.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := a.ScheduleCampaign(ctx, actor, camp.ID, clk.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if c, _ = a.Store.FindCampaign(ctx, camp.ID); c.Status != model.CampaignScheduled || c.LastError != "" || c.LastErrorAt != nil {
				t.Fatalf("scheduled again: %+v", c)
			}
		})
	}
}

// TestScheduledCampaignOfACancelledSessionDoesNotGoOut: a follow-up scheduled for a
// session cancelled before its time is announced blocked, then goes back to draft
// unsent with the reason; sent by hand, it goes; for a session brought back, a
// campaign scheduled again goes at its time.
func TestScheduledCampaignOfACancelledSessionDoesNotGoOut(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, clk := campApp(t, driver)
			ctx := context.Background()
			actor := app.Actor{Name: "Afi"}
			ev := campEvent(t, a, clk.Now().Add(48*time.Hour))
			ama := campContact(t, a, "ama", "fr")
			campRegister(t, a, ev, ama, model.RegConfirmed, false, time.Time{})
			camp, err := a.CreateCampaign(ctx, actor, ev.ID, app.CampaignInput{Segment: model.SegRegistered,
				Subject: "Rappel {first_name}", Body: "À demain."})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.ScheduleCampaign(ctx, actor, camp.ID, clk.Now().Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := a.SetEventStatus(ctx, actor, ev.ID, model.EventCancelled); err != nil {
				t.Fatal(err)
			}
			c, _ := a.Store.FindCampaign(ctx, camp.ID)
			if p, err := a.ScheduledCampaignProblem(ctx, c); err != nil || p != model.CampaignFailureEventCancelled {
				t.Fatalf("problem before the time: %q %v", p, err)
			}
			clk.Add(25 * time.Hour)
			for range 2 {
				if err := a.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			c, _ = a.Store.FindCampaign(ctx, camp.ID)
			if c.Status != model.CampaignDraft || c.LastError != model.CampaignFailureEventCancelled {
				t.Fatalf("campaign of a cancelled session: %+v", c)
			}
			if n, err := a.Store.CountCampaignMessages(ctx, camp.ID); err != nil || len(n) != 0 {
				t.Fatalf("messages: %v %v", n, err)
			}
			// The organizer may still write to them by hand.
			if _, err := a.SendCampaign(ctx, actor, camp.ID); err != nil {
				t.Fatal(err)
			}
			if c, _ = a.Store.FindCampaign(ctx, camp.ID); c.Status != model.CampaignSent || c.LastError != "" {
				t.Fatalf("sent by hand: %+v", c)
			}
			// Brought back to draft then published: a new scheduled campaign goes.
			if _, err := a.SetEventStatus(ctx, actor, ev.ID, model.EventDraft); err != nil {
				t.Fatal(err)
			}
			if _, err := a.SetEventStatus(ctx, actor, ev.ID, model.EventPublished); err != nil {
				t.Fatal(err)
			}
			again, err := a.CreateCampaign(ctx, actor, ev.ID, app.CampaignInput{Segment: model.SegRegistered,
				Subject: "La session est maintenue", Body: "Bonjour."})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.ScheduleCampaign(ctx, actor, again.ID, clk.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			clk.Add(2 * time.Hour)
			for range 2 {
				if err := a.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if c, _ = a.Store.FindCampaign(ctx, again.ID); c.Status != model.CampaignSent {
				t.Fatalf("campaign of the session brought back: %+v", c)
			}
		})
	}
}
