package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// doorPeopleEvent is an event with a confirmed registration for each contact given
// (first name, last name, email), returned in that order.
func doorPeopleEvent(t *testing.T, s *store.Store, people ...[3]string) (*model.Event, []*model.Registration) {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	ev := &model.Event{Slug: fmt.Sprintf("ev-%d", time.Now().UnixNano()), Title: "Accueil", StartsAt: start,
		EndsAt: start.Add(3 * time.Hour), Timezone: "Africa/Lome", RegistrationMode: model.ModeOpen,
		Status: model.EventPublished, Lang: "fr"}
	if err := s.CreateEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	regs := make([]*model.Registration, len(people))
	for i, p := range people {
		c := &model.Contact{FirstName: p[0], LastName: p[1], Email: p[2], Lang: "fr", UnsubscribeToken: fmt.Sprintf("u-%d-%d", ev.ID, i)}
		if err := s.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		regs[i] = &model.Registration{EventID: ev.ID, ContactID: c.ID, Status: model.RegConfirmed, Source: model.SourceOnline,
			Lang: "fr", Answers: "{}", TicketCode: fmt.Sprintf("T-%d-%d", ev.ID, i), Reference: fmt.Sprintf("R%05d", i),
			ManageToken: fmt.Sprintf("m-%d-%d", ev.ID, i)}
		if err := s.CreateRegistration(ctx, regs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return ev, regs
}

// A walk-in known by a placeholder address only is in no segment of a campaign and gets
// no notice: nothing is ever queued to it.
func TestSegmentsLeaveOutWalkInPlaceholders(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			ev, regs := doorPeopleEvent(t, s, [3]string{"Akosua", "Mensah", "akosua@example.tg"},
				[3]string{"Kossi", "Sur-place", "walkin-0a1b2c3d4e5f60718293@" + store.WalkInEmailDomain},
				[3]string{"Yao", "Sur-place", "yao@example.tg"})
			want := []int64{regs[0].ContactID, regs[2].ContactID}
			for _, seg := range []model.Segment{model.SegRegistered, model.SegNoShow} {
				n, err := s.CountSegment(ctx, ev.ID, seg)
				if err != nil || n != 2 {
					t.Fatalf("%s: %d people (%v), want 2", seg, n, err)
				}
				got, err := s.SegmentRecipients(ctx, ev.ID, seg, store.RecipientFilter{})
				if err != nil || len(got) != 2 || got[0].ContactID != want[0] || got[1].ContactID != want[1] {
					t.Fatalf("%s recipients: %+v (%v)", seg, got, err)
				}
			}
			due, err := s.RegistrationsWithoutMessage(ctx, store.MissingMessageFilter{EventID: ev.ID, Kind: "event_changed",
				Statuses: []model.RegistrationStatus{model.RegConfirmed}, KeyPrefix: "change:", KeySuffix: ":x"})
			if err != nil || len(due) != 2 || due[0].ID != regs[0].ID || due[1].ID != regs[2].ID {
				t.Fatalf("notices due: %+v (%v)", due, err)
			}
		})
	}
}

// The search of an event's registrations (the door's and the organizers') ignores case
// and accents on both databases.
func TestListRegistrationsSearchFolded(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s := storetest.Open(t, driver)
			ev, regs := doorPeopleEvent(t, s, [3]string{"Kossí", "Adjo", "k.adjo@example.tg"},
				[3]string{"Élodie", "Ayélé", "elodie@example.tg"}, [3]string{"Yawa", "Dosseh", "yawa@example.tg"})
			for _, tc := range []struct {
				q    string
				want []int64
			}{
				{"Kossi", []int64{regs[0].ID}},
				{"kossí adjo", []int64{regs[0].ID}},
				{"adjo kossi", []int64{regs[0].ID}},
				{"élodie", []int64{regs[1].ID}},
				{"ELODIE", []int64{regs[1].ID}},
				{"ÉLODIE AYÉLÉ", []int64{regs[1].ID}},
				{"ayele", []int64{regs[1].ID}},
				{"yawa@example", []int64{regs[2].ID}},
				{"R00002", []int64{regs[2].ID}},
				{"kossi dosseh", nil},
				{"100%", nil},
			} {
				rows, total, err := s.ListRegistrations(ctx, store.RegistrationFilter{EventID: ev.ID, Query: tc.q})
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, r := range rows {
					got = append(got, r.ID)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) || total != int64(len(tc.want)) {
					t.Errorf("%q: %v (%d), want %v", tc.q, got, total, tc.want)
				}
			}
		})
	}
}
