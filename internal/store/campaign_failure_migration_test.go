package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/migrations"
	"relais/internal/store/storetest"
)

// A database from before 0009 keeps its campaigns: they read with no failure, a refusal
// is kept and cleared, and the migration rolls back.
func TestCampaignFailureMigrationKeepsCampaigns(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s, err := store.Open(ctx, storetest.URL(t, driver))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			db := s.DB()
			m := gormigrate.New(db, &gormigrate.Options{TableName: "schema_migrations", IDColumnName: "id",
				IDColumnSize: 255, UseTransaction: true}, migrations.All())
			if err := m.MigrateTo("0008_ended_sessions"); err != nil {
				t.Fatal(err)
			}
			if err := m.RollbackTo("0008_ended_sessions"); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Second)
			// The events table is the same before and after 0009.
			ev := &model.Event{Slug: "avant", Title: "Avant", StartsAt: now, EndsAt: now.Add(time.Hour), Timezone: "Africa/Lome",
				Status: model.EventPublished, RegistrationMode: model.ModeOpen}
			if err := s.CreateEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
			evID := ev.ID
			if err := db.Exec(`INSERT INTO campaigns (event_id, segment, subject, body, attach_press_kit, status, scheduled_at, created_at, updated_at)
	VALUES (?, 'attended', 'Merci', 'Bonjour', true, 'scheduled', ?, ?, ?)`, evID, now.Add(time.Hour), now, now).Error; err != nil {
				t.Fatal(err)
			}
			var id int64
			if err := db.Raw("SELECT id FROM campaigns WHERE event_id = ?", evID).Scan(&id).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			c, err := s.FindCampaign(ctx, id)
			if err != nil || c.LastError != "" || c.LastErrorAt != nil || c.Status != model.CampaignScheduled || !c.AttachPressKit {
				t.Fatalf("after the migration: %+v %v", c, err)
			}
			if ok, err := s.ClaimCampaign(ctx, id, []model.CampaignStatus{model.CampaignScheduled}, now.Add(time.Minute)); err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			if err := s.RefuseDueCampaign(ctx, id, model.CampaignFailurePressKit, now); err != nil {
				t.Fatal(err)
			}
			c, _ = s.FindCampaign(ctx, id)
			if c.Status != model.CampaignDraft || c.ScheduledAt != nil || c.ClaimedUntil != nil ||
				c.LastError != model.CampaignFailurePressKit || c.LastErrorAt == nil || !c.LastErrorAt.Equal(now) {
				t.Fatalf("refused: %+v", c)
			}
			if err := s.ClearCampaignError(ctx, id); err != nil {
				t.Fatal(err)
			}
			if c, _ = s.FindCampaign(ctx, id); c.LastError != "" || c.LastErrorAt != nil {
				t.Fatalf("cleared: %+v", c)
			}
			if err := m.RollbackTo("0008_ended_sessions"); err != nil {
				t.Fatal(err)
			}
			var n int64
			if err := db.Raw("SELECT COUNT(*) FROM campaigns").Scan(&n).Error; err != nil || n != 1 {
				t.Fatalf("after rollback: %d %v", n, err)
			}
		})
	}
}
