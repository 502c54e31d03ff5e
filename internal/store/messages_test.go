package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

func testMessage(key string) *model.Message {
	return &model.Message{Kind: "test", IdempotencyKey: key, ToEmail: "ama@example.org", ToName: "Ama",
		FromEmail: "relais@example.org", FromName: "Relais", Subject: "Bonjour " + key,
		HTMLBody: "<p>Bonjour</p>", TextBody: "Bonjour", Lang: "fr"}
}

// clock is a settable store clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func withClock(s *store.Store) *clock {
	c := &clock{t: time.Date(2017, 5, 17, 9, 0, 0, 0, time.UTC)}
	s.Now = c.Now
	return c
}

func TestEnqueueMessageIsIdempotentAndTransactional(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			m := testMessage("reg:1")
			m.Attachments = []model.Attachment{
				{Filename: "logo.png", ContentType: "image/png", ContentID: "logo", Inline: true, Data: []byte{1, 2}},
				{Filename: "dossier de presse.pdf", ContentType: "application/pdf", Data: []byte("%PDF")},
			}
			var created bool
			err := s.Tx(ctx, func(tx *store.Store) error {
				var err error
				created, err = tx.EnqueueMessage(ctx, m)
				return err
			})
			if err != nil || !created || m.ID == 0 || m.Status != model.MessageQueued {
				t.Fatalf("first enqueue: created=%v id=%d status=%s err=%v", created, m.ID, m.Status, err)
			}
			again := testMessage("reg:1")
			again.Attachments = m.Attachments
			created, err = s.EnqueueMessage(ctx, again)
			if err != nil || created || again.ID != m.ID {
				t.Fatalf("second enqueue: created=%v id=%d (want %d) err=%v", created, again.ID, m.ID, err)
			}
			// Inside a transaction that fails, nothing is queued.
			boom := errors.New("boom")
			err = s.Tx(ctx, func(tx *store.Store) error {
				if _, err := tx.EnqueueMessage(ctx, testMessage("reg:2")); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("rolled back tx: %v", err)
			}
			list, total, err := s.ListMessages(ctx, store.MessageFilter{})
			if err != nil || total != 1 || len(list) != 1 {
				t.Fatalf("list: %d/%d %v", len(list), total, err)
			}
			if list[0].HTMLBody != "" || list[0].TextBody != "" {
				t.Fatal("list carries bodies")
			}
			got, err := s.FindMessage(ctx, m.ID)
			if err != nil || got.HTMLBody != "<p>Bonjour</p>" || len(got.Attachments) != 2 {
				t.Fatalf("find: %+v %v", got, err)
			}
			if a := got.Attachments[0]; !a.Inline || a.ContentID != "logo" || string(a.Data) != "\x01\x02" {
				t.Fatalf("inline attachment: %+v", a)
			}
			a, err := s.FindAttachment(ctx, m.ID, got.Attachments[1].ID)
			if err != nil || string(a.Data) != "%PDF" {
				t.Fatalf("attachment: %+v %v", a, err)
			}
			if _, err := s.FindAttachment(ctx, m.ID+1, a.ID); model.ErrorCode(err) != model.ENotFound {
				t.Fatalf("attachment of another message: %v", err)
			}
			if _, err := s.EnqueueMessage(ctx, testMessage("")); model.ErrorCode(err) != model.EInvalid {
				t.Fatalf("no key: %v", err)
			}
		})
	}
}

func TestClaimRetryFailLifecycle(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			clk := withClock(s)
			a, b := testMessage("a"), testMessage("b")
			b.NextAttemptAt = clk.Now().Add(time.Hour)
			for _, m := range []*model.Message{a, b} {
				if _, err := s.EnqueueMessage(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.ClaimMessages(ctx, 10, time.Minute)
			if err != nil || len(got) != 1 || got[0].ID != a.ID || got[0].Status != model.MessageSending || got[0].Attempts != 1 {
				t.Fatalf("claim: %+v %v", got, err)
			}
			if got, _ := s.ClaimMessages(ctx, 10, time.Minute); len(got) != 0 {
				t.Fatalf("claimed twice within the lease: %+v", got)
			}
			next := clk.Now().Add(30 * time.Second)
			if err := s.MarkMessageRetry(ctx, a.ID, "451 4.7.1 try later", next); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.ClaimMessages(ctx, 10, time.Minute); len(got) != 0 {
				t.Fatalf("claimed before its next attempt: %+v", got)
			}
			clk.Add(30 * time.Second)
			got, _ = s.ClaimMessages(ctx, 10, time.Minute)
			if len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "451 4.7.1 try later" {
				t.Fatalf("second claim: %+v", got)
			}
			if err := s.MarkMessageFailed(ctx, a.ID, "550 5.1.1 no such user"); err != nil {
				t.Fatal(err)
			}
			if err := s.CancelMessage(ctx, b.ID); err != nil {
				t.Fatal(err)
			}
			counts, err := s.CountMessagesByStatus(ctx, nil)
			if err != nil || counts[model.MessageFailed] != 1 || counts[model.MessageCancelled] != 1 {
				t.Fatalf("counts: %v %v", counts, err)
			}
			if err := s.RetryMessageNow(ctx, b.ID); model.ErrorCode(err) != model.EConflict {
				t.Fatalf("retry a cancelled message: %v", err)
			}
			if err := s.RetryMessageNow(ctx, 9999); model.ErrorCode(err) != model.ENotFound {
				t.Fatalf("retry a missing message: %v", err)
			}
			if err := s.RetryMessageNow(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			got, _ = s.ClaimMessages(ctx, 10, time.Minute)
			if len(got) != 1 || got[0].ID != a.ID || got[0].Attempts != 1 {
				t.Fatalf("claim after retry now: %+v", got)
			}
			sentAt := clk.Now()
			if err := s.MarkMessageSent(ctx, a.ID, sentAt); err != nil {
				t.Fatal(err)
			}
			m, _ := s.FindMessage(ctx, a.ID)
			if m.Status != model.MessageSent || m.SentAt == nil || !m.SentAt.Equal(sentAt) || m.LastError != "" || m.ClaimedUntil != nil {
				t.Fatalf("sent: %+v", m)
			}
			if err := s.CancelMessage(ctx, a.ID); model.ErrorCode(err) != model.EConflict {
				t.Fatalf("cancel a sent message: %v", err)
			}
		})
	}
}

func TestClaimTakesBackExpiredLeasesAndReleases(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			clk := withClock(s)
			m := testMessage("crash")
			if _, err := s.EnqueueMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.ClaimMessages(ctx, 1, time.Minute); len(got) != 1 {
				t.Fatal("first claim")
			}
			clk.Add(59 * time.Second)
			if got, _ := s.ClaimMessages(ctx, 1, time.Minute); len(got) != 0 {
				t.Fatal("claimed while the lease holds")
			}
			clk.Add(time.Second)
			got, _ := s.ClaimMessages(ctx, 1, time.Minute)
			if len(got) != 1 || got[0].Attempts != 2 {
				t.Fatalf("claim after the lease: %+v", got)
			}
			if err := s.ReleaseMessages(ctx, []int64{m.ID}); err != nil {
				t.Fatal(err)
			}
			got, _ = s.ClaimMessages(ctx, 1, time.Minute)
			if len(got) != 1 || got[0].Attempts != 2 {
				t.Fatalf("claim after release: %+v", got)
			}
		})
	}
}

func TestListMessagesFilters(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			clk := withClock(s)
			ev := int64(7)
			for i := range 5 {
				m := testMessage(fmt.Sprint("k", i))
				if i%2 == 0 {
					m.EventID = &ev
				}
				if i == 3 {
					m.ToEmail, m.Subject = "kossi@example.org", "Votre billet"
				}
				if _, err := s.EnqueueMessage(ctx, m); err != nil {
					t.Fatal(err)
				}
				clk.Add(time.Second)
			}
			list, total, err := s.ListMessages(ctx, store.MessageFilter{Limit: 2, Offset: 1})
			if err != nil || total != 5 || len(list) != 2 || list[0].IdempotencyKey != "k3" {
				t.Fatalf("page: %v %d %v", list, total, err)
			}
			_, total, _ = s.ListMessages(ctx, store.MessageFilter{EventID: &ev})
			if total != 3 {
				t.Fatalf("by event: %d", total)
			}
			list, total, _ = s.ListMessages(ctx, store.MessageFilter{Query: "BILLET"})
			if total != 1 || list[0].ToEmail != "kossi@example.org" {
				t.Fatalf("by query: %v", list)
			}
			_, total, _ = s.ListMessages(ctx, store.MessageFilter{Status: model.MessageSent})
			if total != 0 {
				t.Fatalf("by status: %d", total)
			}
			counts, _ := s.CountMessagesByStatus(ctx, &ev)
			if counts[model.MessageQueued] != 3 {
				t.Fatalf("counts for event: %v", counts)
			}
		})
	}
}

func TestClaimConcurrentlyNeverTwice(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			// Separate stores on one database stand for separate instances.
			url := storetest.URL(t, driver)
			var claimers []*store.Store
			for range 4 {
				c, err := store.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				claimers = append(claimers, c)
			}
			if err := claimers[0].Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			const n = 200
			for i := range n {
				if _, err := claimers[0].EnqueueMessage(ctx, testMessage(fmt.Sprint("m", i))); err != nil {
					t.Fatal(err)
				}
			}
			var (
				mu   sync.Mutex
				seen = map[int64]int{}
				wg   sync.WaitGroup
			)
			for _, c := range claimers {
				wg.Go(func() {
					for {
						got, err := c.ClaimMessages(ctx, 7, time.Minute)
						if err != nil {
							t.Error(err)
							return
						}
						if len(got) == 0 {
							return
						}
						mu.Lock()
						for _, m := range got {
							seen[m.ID]++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(seen) != n {
				t.Fatalf("claimed %d distinct messages, want %d", len(seen), n)
			}
			for id, k := range seen {
				if k != 1 {
					t.Fatalf("message %d claimed %d times", id, k)
				}
			}
		})
	}
}
