package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// registerAll registers person(from) … person(to-1) one after the other.
func registerAll(t *testing.T, a *app.App, ev *model.Event, from, to int) []*model.Registration {
	t.Helper()
	var regs []*model.Registration
	for i := from; i < to; i++ {
		res, err := a.Register(context.Background(), ev.ID, person(i))
		if err != nil {
			t.Fatal(err)
		}
		regs = append(regs, res.Registration)
	}
	return regs
}

// setCapacity saves the event as the organizer's form does, with a new capacity.
func setCapacity(t *testing.T, a *app.App, id int64, capacity int) {
	t.Helper()
	ev, err := a.Store.FindEventByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ev.Capacity = capacity
	if err := a.SaveEvent(context.Background(), app.Actor{Name: "orga"}, ev); err != nil {
		t.Fatal(err)
	}
}

// wantStatuses checks the status of person(i) for each i, and that those promoted got
// exactly one "place libérée" email and the others none.
func wantStatuses(t *testing.T, a *app.App, regs []*model.Registration, want string, promoted map[int]bool) {
	t.Helper()
	letter := map[model.RegistrationStatus]string{model.RegConfirmed: "c", model.RegWaitlisted: "w", model.RegCancelled: "x"}
	var got strings.Builder
	for _, r := range regs {
		st := mustReg(t, a, r.ID).Status
		if letter[st] == "" {
			t.Fatalf("unexpected status %s", st)
		}
		got.WriteString(letter[st])
	}
	if got.String() != want {
		t.Fatalf("statuses %s, want %s (c confirmed, w waitlisted, x cancelled)", got.String(), want)
	}
	for i := range regs {
		to := fmt.Sprintf("blogueur%d@example.tg", i)
		if n, want := countMessages(t, a, "registration_promoted", to), map[bool]int{true: 1}[promoted[i]]; n != want {
			t.Fatalf("%s got %d promotion emails, want %d", to, n, want)
		}
	}
}

// Raising the capacity, or removing it, gives the new seats to the waitlist in order
// before any newcomer; lowering it or editing anything else promotes nobody.
func TestRaisingCapacityPromotesTheWaitlist(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 2, model.ModeOpen)
			regs := registerAll(t, a, ev, 0, 6)
			wantStatuses(t, a, regs, "ccwwww", nil)

			ev.Title = "Un autre titre"
			if err := a.SaveEvent(context.Background(), app.Actor{Name: "orga"}, ev); err != nil {
				t.Fatal(err)
			}
			setCapacity(t, a, ev.ID, 1) // two confirmed remain, over the new capacity
			wantStatuses(t, a, regs, "ccwwww", nil)

			setCapacity(t, a, ev.ID, 3) // one seat free, not two: the count is of confirmed people
			wantStatuses(t, a, regs, "cccwww", map[int]bool{2: true})

			regs = append(regs, registerAll(t, a, ev, 6, 7)...)
			wantStatuses(t, a, regs, "cccwwww", map[int]bool{2: true})

			setCapacity(t, a, ev.ID, 0) // unlimited
			wantStatuses(t, a, regs, "ccccccc", map[int]bool{2: true, 3: true, 4: true, 5: true, 6: true})
		})
	}
}

// A seat freed at an event that will not take place, or is over, goes to nobody: the
// promotion email would hand out a ticket for it. A draft (unpublished for editing)
// still promotes, whether a ticket is cancelled or the capacity raised.
func TestNoPromotionForAnEventThatWillNotTakePlace(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		for _, state := range []string{"cancelled", "archived", "past", "draft"} {
			for _, how := range []string{"cancel", "raise"} {
				t.Run(driver+"/"+state+"/"+how, func(t *testing.T) {
					ctx := context.Background()
					a, now := regApp(t, driver)
					ev := regEvent(t, a, 1, model.ModeOpen)
					regs := registerAll(t, a, ev, 0, 2)
					switch state {
					case "past":
						*now = ev.EndsAt.Add(time.Hour)
					default:
						if _, err := a.SetEventStatus(ctx, app.Actor{Name: "orga"}, ev.ID, model.EventStatus(state)); err != nil {
							t.Fatal(err)
						}
					}
					want, promoted := "cw", map[int]bool(nil)
					if how == "cancel" {
						if _, err := a.CancelRegistration(ctx, app.Actor{Name: "holder"}, regs[0].ID); err != nil {
							t.Fatal(err)
						}
						want = "xw"
					} else {
						setCapacity(t, a, ev.ID, 2)
					}
					if state == "draft" {
						want, promoted = want[:1]+"c", map[int]bool{1: true}
					}
					wantStatuses(t, a, regs, want, promoted)
				})
			}
		}
	}
}

// An event cancelled, then brought back to draft: the seats freed while it was
// cancelled go to the waitlist, in order, when it comes back.
func TestEventBackFromCancellationPromotes(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 1, model.ModeOpen)
			regs := registerAll(t, a, ev, 0, 3)
			orga := app.Actor{Name: "orga"}
			if _, err := a.SetEventStatus(ctx, orga, ev.ID, model.EventCancelled); err != nil {
				t.Fatal(err)
			}
			if _, err := a.CancelRegistration(ctx, app.Actor{Name: "holder"}, regs[0].ID); err != nil {
				t.Fatal(err)
			}
			setCapacity(t, a, ev.ID, 2)
			wantStatuses(t, a, regs, "xww", nil)
			if _, err := a.SetEventStatus(ctx, orga, ev.ID, model.EventDraft); err != nil {
				t.Fatal(err)
			}
			wantStatuses(t, a, regs, "xcc", map[int]bool{1: true, 2: true})
		})
	}
}

// Registrations racing with a rise of the capacity: whatever the order, the people who
// waited before get the new seats, and the capacity holds.
func TestRaisingCapacityWhileRegistering(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 5, model.ModeOpen)
			regs := registerAll(t, a, ev, 0, 10)
			var wg sync.WaitGroup
			errs := make(chan error, 31)
			for i := 10; i < 40; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					if _, err := a.Register(ctx, ev.ID, person(i)); err != nil {
						errs <- err
					}
				}(i)
				if i == 20 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						e, err := a.Store.FindEventByID(ctx, ev.ID)
						if err == nil {
							e.Capacity = 10
							err = a.SaveEvent(ctx, app.Actor{Name: "orga"}, e)
						}
						if err != nil {
							errs <- err
						}
					}()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			counts, err := a.Store.CountRegistrations(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if counts[model.RegConfirmed] != 10 || counts[model.RegWaitlisted] != 30 {
				t.Fatalf("counts %v, want 10 confirmed and 30 waitlisted", counts)
			}
			wantStatuses(t, a, regs, "cccccccccc", map[int]bool{5: true, 6: true, 7: true, 8: true, 9: true})
		})
	}
}

// Editing one's details on the ticket page writes the answers and the language only:
// a promotion, a cancellation or a check-in that happened after the page read the
// registration stays.
func TestEditingDetailsKeepsWhatChangedMeanwhile(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			a, _ := regApp(t, driver)
			ev := regEvent(t, a, 2, model.ModeOpen)
			q := &model.Question{EventID: ev.ID, Label: "Votre thème ?", Kind: model.QText}
			if err := a.SaveQuestion(ctx, app.Actor{Name: "orga"}, q); err != nil {
				t.Fatal(err)
			}
			regs := registerAll(t, a, ev, 0, 3)
			// read is what the ticket page reads at the start of its request.
			read := func(r *model.Registration) *model.Registration {
				t.Helper()
				got, err := a.Store.FindRegistrationByToken(ctx, r.ManageToken)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			edit := func(r *model.Registration, i int, answer string) *model.Registration {
				t.Helper()
				in := person(i)
				in.FirstName, in.Lang, in.Answers = "Prénom", "en", map[int64][]string{q.ID: {answer}}
				if err := a.UpdateRegistrant(ctx, r, in); err != nil {
					t.Fatal(err)
				}
				got := mustReg(t, a, r.ID)
				if got.Lang != "en" || !strings.Contains(got.Answers, answer) {
					t.Fatalf("the edit was not saved: lang %q, answers %s", got.Lang, got.Answers)
				}
				if r.Status != got.Status || r.UpdatedAt != got.UpdatedAt {
					t.Fatalf("the caller's copy is stale: %s, stored %s", r.Status, got.Status)
				}
				return got
			}

			stale := read(regs[2]) // waitlisted
			if _, err := a.CancelRegistration(ctx, app.Actor{Name: "holder"}, regs[0].ID); err != nil {
				t.Fatal(err)
			}
			if got := edit(stale, 2, "Vidéo"); got.Status != model.RegConfirmed || got.ConfirmedAt == nil {
				t.Fatalf("the promotion was undone: %s", got.Status)
			}

			stale = read(regs[1]) // confirmed, not checked in
			res, err := a.CheckIn(ctx, app.Door{Link: &model.DoorLink{Name: "Entrée"}}, ev.ID,
				app.ScanInput{RegistrationID: regs[1].ID, Nonce: "n1", Device: "Porte A"})
			if err != nil || res.Result != app.CheckInOK {
				t.Fatalf("check-in: %+v %v", res, err)
			}
			if got := edit(stale, 1, "Podcast"); got.CheckedInAt == nil || got.CheckedInDevice != "Porte A" || got.Status != model.RegConfirmed {
				t.Fatalf("the check-in was undone: %+v", got)
			}

			stale = read(regs[2]) // confirmed
			if _, err := a.CancelRegistration(ctx, app.Actor{Name: "holder"}, regs[2].ID); err != nil {
				t.Fatal(err)
			}
			if got := edit(stale, 2, "Radio"); got.Status != model.RegCancelled || got.CancelledAt == nil {
				t.Fatalf("the cancellation was undone: %s", got.Status)
			}
		})
	}
}
