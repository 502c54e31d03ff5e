package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// campFastCampaignMessage is a campaign's message to contact i, with a pointer or two set.
func campFastCampaignMessage(i int) *model.Message {
	m := testMessage(fmt.Sprintf("camp:7:%d", i))
	ev, contact, campaign := int64(3), int64(i), int64(7)
	m.Kind, m.EventID, m.ContactID, m.CampaignID = "campaign", &ev, &contact, &campaign
	m.ToEmail, m.Headers = fmt.Sprintf("r%d@example.org", i), "List-Unsubscribe: <https://relais.example.org/u/x>\n"
	return m
}

// TestEnqueueMessagesQueuesEachKeyOnce queues hundreds of messages at once, some queued
// before and one given twice: each key is stored once, every message learns its stored
// id, and only the new ones get their attachments.
func TestEnqueueMessagesQueuesEachKeyOnce(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			clk := withClock(s)
			before := campFastCampaignMessage(5)
			if _, err := s.EnqueueMessage(ctx, before); err != nil {
				t.Fatal(err)
			}
			if err := s.CancelMessage(ctx, before.ID); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Minute)
			var msgs []*model.Message
			for i := range 250 {
				m := campFastCampaignMessage(i)
				m.Attachments = []model.Attachment{{Filename: "dossier.pdf", ContentType: "application/pdf", Data: []byte("%PDF" + fmt.Sprint(i))}}
				msgs = append(msgs, m)
			}
			again := campFastCampaignMessage(42) // the same key twice in one call
			msgs = append(msgs, again)
			created, err := s.EnqueueMessages(ctx, msgs)
			if err != nil || created != 249 {
				t.Fatalf("created %d, %v; want 249 (250 keys, one queued before)", created, err)
			}
			if msgs[5].ID != before.ID || msgs[5].Status != model.MessageCancelled {
				t.Fatalf("the message queued before: id %d status %s, want %d cancelled", msgs[5].ID, msgs[5].Status, before.ID)
			}
			if again.ID != msgs[42].ID || again.ID == 0 {
				t.Fatalf("a key given twice: ids %d and %d", msgs[42].ID, again.ID)
			}
			counts, err := s.CountCampaignMessages(ctx, 7)
			if err != nil || counts[model.MessageQueued] != 249 || counts[model.MessageCancelled] != 1 {
				t.Fatalf("stored: %v %v", counts, err)
			}
			got, err := s.FindMessage(ctx, msgs[100].ID)
			if err != nil {
				t.Fatal(err)
			}
			want := msgs[100]
			if got.IdempotencyKey != want.IdempotencyKey || got.ToEmail != want.ToEmail || got.HTMLBody != want.HTMLBody ||
				got.Headers != want.Headers || *got.ContactID != 100 || *got.CampaignID != 7 || *got.EventID != 3 ||
				got.Status != model.MessageQueued || got.Attempts != 0 || got.SentAt != nil || got.ClaimedUntil != nil ||
				!got.NextAttemptAt.Equal(clk.Now()) || !got.CreatedAt.Equal(clk.Now()) {
				t.Fatalf("stored message: %+v", got)
			}
			if len(got.Attachments) != 1 || string(got.Attachments[0].Data) != "%PDF100" {
				t.Fatalf("attachments: %+v", got.Attachments)
			}
			if old, _ := s.FindMessage(ctx, before.ID); len(old.Attachments) != 0 {
				t.Fatalf("the message queued before got attachments")
			}
			if driver == "postgres" {
				// Bodies large enough to be compressed are, with LZ4 where the server has it,
				// and the connection (the pool's only one) keeps its default.
				s.SQLDB().SetMaxOpenConns(1)
				big := campFastCampaignMessage(1000)
				big.HTMLBody = strings.Repeat("<p>Bonjour Ama, merci pour votre participation.</p>\n", 200)
				if _, err := s.EnqueueMessages(ctx, []*model.Message{big}); err != nil {
					t.Fatal(err)
				}
				var lz4, method string
				s.SQLDB().QueryRowContext(ctx, `SELECT CASE WHEN 'lz4' = ANY(enumvals) THEN 'lz4' ELSE 'pglz' END FROM pg_settings
	WHERE name = 'default_toast_compression'`).Scan(&lz4)
				if err := s.SQLDB().QueryRowContext(ctx, "SELECT pg_column_compression(html_body) FROM message_bodies WHERE message_id = $1", big.ID).
					Scan(&method); err != nil || method != lz4 {
					t.Fatalf("body compressed with %q (%v), want %q", method, err, lz4)
				}
				var setting string
				s.SQLDB().QueryRowContext(ctx, "SHOW default_toast_compression").Scan(&setting)
				if setting != "pglz" {
					t.Fatalf("the setting outlived its transaction: %s", setting)
				}
			}
			if _, err := s.EnqueueMessages(ctx, []*model.Message{testMessage("")}); model.ErrorCode(err) != model.EInvalid {
				t.Fatalf("a message without a key: %v", err)
			}
		})
	}
}

// TestClaimLeavesAttachmentBytesForTheSend claims messages in their order of due time:
// without their bodies, attachments named but empty; LoadMessageContent reads the rest.
func TestClaimLeavesAttachmentBytesForTheSend(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			clk := withClock(s)
			var msgs []*model.Message
			for i := range 6 {
				m := campFastCampaignMessage(i)
				m.NextAttemptAt = clk.Now().Add(-time.Duration(i%3) * time.Minute)
				if i == 4 {
					m.Attachments = []model.Attachment{{Filename: "a.pdf", ContentType: "application/pdf", Data: []byte("%PDF-a")},
						{Filename: "logo.png", ContentType: "image/png", ContentID: "logo", Inline: true, Data: []byte{1, 2, 3}}}
				}
				msgs = append(msgs, m)
			}
			if _, err := s.EnqueueMessages(ctx, msgs); err != nil {
				t.Fatal(err)
			}
			got, err := s.ClaimMessages(ctx, 10, time.Minute)
			if err != nil || len(got) != 6 {
				t.Fatalf("claimed %d, %v", len(got), err)
			}
			for i := 1; i < len(got); i++ {
				a, b := got[i-1], got[i]
				if a.NextAttemptAt.After(b.NextAttemptAt) || a.NextAttemptAt.Equal(b.NextAttemptAt) && a.ID > b.ID {
					t.Fatalf("claimed out of order: %d (%v) before %d (%v)", a.ID, a.NextAttemptAt, b.ID, b.NextAttemptAt)
				}
			}
			for i := range got {
				m := &got[i]
				if m.Status != model.MessageSending || m.Attempts != 1 || m.HTMLBody != "" || m.TextBody != "" || m.ClaimedUntil == nil {
					t.Fatalf("claimed message: %+v", m)
				}
				if m.ID != msgs[4].ID {
					if err := s.LoadMessageContent(ctx, m); err != nil {
						t.Fatal(err)
					}
					var sent *model.Message
					for _, q := range msgs {
						if q.ID == m.ID {
							sent = q
						}
					}
					if m.HTMLBody != sent.HTMLBody || m.TextBody != sent.TextBody || m.HTMLBody == "" {
						t.Fatalf("loaded bodies of %d: %q %q, want %q %q", m.ID, m.HTMLBody, m.TextBody, sent.HTMLBody, sent.TextBody)
					}
					if len(m.Attachments) != 0 {
						t.Fatalf("message %d has attachments %+v", m.ID, m.Attachments)
					}
					continue
				}
				if len(m.Attachments) != 2 || m.Attachments[0].Filename != "a.pdf" || m.Attachments[1].ContentID != "logo" ||
					m.Attachments[0].Data != nil || m.Attachments[1].Data != nil {
					t.Fatalf("claimed attachments: %+v", m.Attachments)
				}
				if err := s.LoadMessageContent(ctx, m); err != nil {
					t.Fatal(err)
				}
				if string(m.Attachments[0].Data) != "%PDF-a" || !m.Attachments[1].Inline || len(m.Attachments[1].Data) != 3 || m.HTMLBody != msgs[4].HTMLBody {
					t.Fatalf("loaded attachments: %+v", m.Attachments)
				}
			}
		})
	}
}

// TestSentMarkerMarksAndLeavesTheSessionAsItWas marks messages sent through a marker:
// on PostgreSQL its connection commits without waiting for the disk, and gives the
// connection back to the pool with the setting undone (a pool of one connection shows
// it).
func TestSentMarkerMarksAndLeavesTheSessionAsItWas(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			withClock(s)
			msgs := queuedAndClaimed(t, s, 3)
			if driver == "postgres" {
				s.SQLDB().SetMaxOpenConns(1)
			}
			marker := s.SentMarker()
			at := time.Date(2017, 5, 17, 10, 0, 0, 0, time.UTC)
			for _, m := range msgs[:2] {
				if err := marker.MarkSent(ctx, m.ID, at); err != nil {
					t.Fatal(err)
				}
			}
			if err := marker.MarkSent(ctx, 999999, at); model.ErrorCode(err) != model.ENotFound {
				t.Fatalf("marking a message that is not there: %v", err)
			}
			if err := marker.Close(); err != nil {
				t.Fatal(err)
			}
			for i, m := range msgs {
				got, err := s.FindMessage(ctx, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				sent := i < 2
				if sent != (got.Status == model.MessageSent) || sent != (got.SentAt != nil && got.SentAt.Equal(at)) ||
					sent != (got.ClaimedUntil == nil) {
					t.Fatalf("message %d: %s sent_at %v claimed_until %v", i, got.Status, got.SentAt, got.ClaimedUntil)
				}
			}
			if driver == "postgres" {
				var setting string
				if err := s.SQLDB().QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&setting); err != nil || setting != "on" {
					t.Fatalf("the pool's connection kept synchronous_commit = %q (%v)", setting, err)
				}
			}
			var _ *store.SentMarker = marker
		})
	}
}

// TestSentMarkerSharedByConnections marks messages from several goroutines at once, as
// a worker's SMTP connections do through one marker: every mark is recorded, and once
// the marker is closed no database connection is left taken from the pool.
func TestSentMarkerSharedByConnections(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			withClock(s)
			msgs := queuedAndClaimed(t, s, 16)
			for round := range 4 {
				marker := s.SentMarker()
				start := make(chan struct{})
				var wg sync.WaitGroup
				for _, m := range msgs[round*4 : round*4+4] {
					wg.Go(func() {
						<-start
						if err := marker.MarkSent(ctx, m.ID, s.Now()); err != nil {
							t.Error(err)
						}
					})
				}
				close(start)
				wg.Wait()
				// Reads go over a connection of their own (PostgreSQL), given back too.
				if err := marker.LoadContent(ctx, msgs[round*4]); err != nil {
					t.Fatal(err)
				}
				if err := marker.Close(); err != nil {
					t.Fatal(err)
				}
				if inUse := connectionsInUse(s); inUse != 0 {
					t.Fatalf("round %d: %d database connections still taken after the marker was closed", round, inUse)
				}
			}
			for _, m := range msgs {
				if got, err := s.FindMessage(ctx, m.ID); err != nil || got.Status != model.MessageSent {
					t.Fatalf("message %d: %v %v", m.ID, got.Status, err)
				}
			}
		})
	}
}

// TestSentMarkerLoadsWhatIsSent reads a claimed message's bodies and attachments through
// the batch's marker, as the worker does, and finds what was queued.
func TestSentMarkerLoadsWhatIsSent(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			withClock(s)
			with := campFastCampaignMessage(1)
			with.Attachments = []model.Attachment{{Filename: "billet-qr.png", ContentType: "image/png", ContentID: "qr", Inline: true, Data: []byte{0x89, 'P', 'N', 'G'}},
				{Filename: "seance.ics", ContentType: "text/calendar", Data: []byte("BEGIN:VCALENDAR")}}
			without := campFastCampaignMessage(2)
			with.HTMLBody, with.TextBody = "<p>Avec pièces jointes</p>", "Avec pièces jointes"
			without.HTMLBody, without.TextBody = "<p>Sans</p>", "Sans"
			if _, err := s.EnqueueMessages(ctx, []*model.Message{with, without}); err != nil {
				t.Fatal(err)
			}
			claimed, err := s.ClaimMessages(ctx, 10, time.Minute)
			if err != nil || len(claimed) != 2 {
				t.Fatalf("claimed %d, %v", len(claimed), err)
			}
			marker := s.SentMarker()
			defer marker.Close()
			for i := range claimed {
				m := &claimed[i]
				if err := marker.LoadContent(ctx, m); err != nil {
					t.Fatal(err)
				}
				want := without
				if m.ID == with.ID {
					want = with
				}
				if m.HTMLBody != want.HTMLBody || m.TextBody != want.TextBody || len(m.Attachments) != len(want.Attachments) {
					t.Fatalf("message %d: %q %q, %d attachments; want %q %q, %d", m.ID, m.HTMLBody, m.TextBody, len(m.Attachments),
						want.HTMLBody, want.TextBody, len(want.Attachments))
				}
				for j, a := range m.Attachments {
					w := want.Attachments[j]
					if a.Filename != w.Filename || a.ContentID != w.ContentID || a.Inline != w.Inline || string(a.Data) != string(w.Data) {
						t.Fatalf("attachment %d: %+v, want %+v", j, a, w)
					}
				}
			}
			// Small attachments are read for several messages at once; a message with a
			// large one is left to LoadAttachments.
			big := campFastCampaignMessage(3)
			big.Attachments = []model.Attachment{{Filename: "qr.png", ContentType: "image/png", Data: []byte("petit")},
				{Filename: "dossier.pdf", ContentType: "application/pdf", Data: make([]byte, 100<<10)}}
			kit := campFastCampaignMessage(4) // many small files, large in all
			for i := range 5 {
				kit.Attachments = append(kit.Attachments, model.Attachment{Filename: fmt.Sprintf("fiche-%d.pdf", i),
					ContentType: "application/pdf", Data: make([]byte, 20<<10)})
			}
			if _, err := s.EnqueueMessages(ctx, []*model.Message{big, kit}); err != nil {
				t.Fatal(err)
			}
			fresh, err := s.ClaimMessages(ctx, 10, time.Minute)
			if err != nil || len(fresh) != 2 {
				t.Fatalf("claimed %d, %v", len(fresh), err)
			}
			small := claimed[0]
			if small.ID != with.ID {
				small = claimed[1]
			}
			small.Attachments = []model.Attachment{{Filename: "billet-qr.png"}, {Filename: "seance.ics"}} // as claimed: no bytes
			if err := marker.LoadSmallAttachments(ctx, []*model.Message{&small, &fresh[0], &fresh[1]}); err != nil {
				t.Fatal(err)
			}
			if len(small.Attachments) != 2 || string(small.Attachments[1].Data) != "BEGIN:VCALENDAR" ||
				fresh[0].Attachments[0].Data != nil || fresh[1].Attachments[0].Data != nil {
				t.Fatalf("small attachments read: %+v; the large ones' messages: %+v %+v", small.Attachments, fresh[0].Attachments, fresh[1].Attachments)
			}
			if err := marker.LoadAttachments(ctx, &fresh[0]); err != nil || len(fresh[0].Attachments[1].Data) != 100<<10 {
				t.Fatalf("large attachment: %v", err)
			}

			// The worker reads the bodies of several messages at once: each gets its own.
			again, err := s.ClaimMessages(ctx, 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			for i := range claimed {
				claimed[i].HTMLBody, claimed[i].TextBody = "stale", "stale"
			}
			if bad, err := marker.LoadBodies(ctx, []*model.Message{&claimed[1], &claimed[0]}); err != nil || len(bad) != 0 || len(again) != 0 {
				t.Fatal(bad, err, len(again))
			}
			for _, m := range claimed {
				want := without
				if m.ID == with.ID {
					want = with
				}
				if m.HTMLBody != want.HTMLBody || m.TextBody != want.TextBody {
					t.Fatalf("message %d read with another: %q %q, want %q %q", m.ID, m.HTMLBody, m.TextBody, want.HTMLBody, want.TextBody)
				}
			}
		})
	}
}

// queuedAndClaimed queues n campaign messages and claims them, as a worker would
// before sending them.
func queuedAndClaimed(t *testing.T, s *store.Store, n int) []*model.Message {
	t.Helper()
	ctx := context.Background()
	var msgs []*model.Message
	for i := range n {
		msgs = append(msgs, campFastCampaignMessage(i))
	}
	if _, err := s.EnqueueMessages(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if claimed, err := s.ClaimMessages(ctx, n, time.Minute); err != nil || len(claimed) != n {
		t.Fatalf("claimed %d of %d: %v", len(claimed), n, err)
	}
	return msgs
}

// connectionsInUse is how many connections of the write pool are taken, once those
// SQLite's statement cache takes for a moment (it prepares the statements first seen in
// a transaction once the transaction is over) are given back: a leaked one stays taken.
func connectionsInUse(s *store.Store) int {
	deadline := time.Now().Add(2 * time.Second)
	for {
		n := s.SQLDB().Stats().InUse
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// On PostgreSQL the worker reads messages and attachments by their indexes, whatever the
// statistics (indexOnly): the marker's read connection says so, and neither its setting
// nor the claim's transaction's reaches another use of the pool (two connections, both
// seen).
func TestWorkerReadsLeaveNoSettingBehind(t *testing.T) {
	ctx := context.Background()
	if !slices.Contains(storetest.Drivers(t), "postgres") {
		t.Skip("PostgreSQL only")
	}
	s := storetest.Open(t, "postgres")
	withClock(s)
	var msgs []*model.Message
	for i := range 3 {
		m := campFastCampaignMessage(i)
		m.Attachments = []model.Attachment{{Filename: "billet.png", ContentType: "image/png", Data: []byte{1, 2, byte(i)}}}
		msgs = append(msgs, m)
	}
	if _, err := s.EnqueueMessages(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	var parallelDefault string
	if err := s.SQLDB().QueryRowContext(ctx, "SELECT current_setting('max_parallel_workers_per_gather')").Scan(&parallelDefault); err != nil {
		t.Fatal(err)
	}
	s.SQLDB().SetMaxOpenConns(2)
	claimed, err := s.ClaimMessages(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claimed %d: %v", len(claimed), err)
	}
	marker := s.SentMarker()
	batch := make([]*model.Message, len(claimed))
	for i := range claimed {
		batch[i] = &claimed[i]
	}
	if _, err := marker.LoadBodies(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := marker.LoadSmallAttachments(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if v, err := marker.ReadSetting(ctx, "enable_seqscan"); err != nil || v != "off" {
		t.Fatalf("the marker reads with enable_seqscan = %q (%v), want off", v, err)
	}
	if v, err := marker.ReadSetting(ctx, "max_parallel_workers_per_gather"); err != nil || v != "0" {
		t.Fatalf("the marker reads with max_parallel_workers_per_gather = %q (%v), want 0", v, err)
	}
	for _, m := range batch {
		if len(m.Attachments) != 1 || len(m.Attachments[0].Data) != 3 {
			t.Fatalf("message %d: attachments %+v", m.ID, m.Attachments)
		}
		if err := marker.MarkSent(ctx, m.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := marker.Close(); err != nil {
		t.Fatal(err)
	}
	var conns []*sql.Conn
	for range 2 {
		c, err := s.SQLDB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		var seqscan, syncCommit, parallel string
		if err := c.QueryRowContext(ctx, "SELECT current_setting('enable_seqscan'), current_setting('synchronous_commit'), current_setting('max_parallel_workers_per_gather')").Scan(&seqscan, &syncCommit, &parallel); err != nil {
			t.Fatal(err)
		}
		if seqscan != "on" || syncCommit != "on" || parallel != parallelDefault {
			t.Fatalf("pool connection %d kept enable_seqscan = %s, synchronous_commit = %s, max_parallel_workers_per_gather = %s", i, seqscan, syncCommit, parallel)
		}
	}
}
