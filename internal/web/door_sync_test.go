package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// doorSyncBatch sends offline scans (code and scan time, nil for none) to the sync route.
func doorSyncBatch(link *doorCaller, base string, items ...map[string]any) *resp {
	b, _ := json.Marshal(map[string]any{"checkins": items})
	return link.call("POST", base+"/checkins/batch", string(b))
}

func doorSyncItem(code, nonce string, at *time.Time) map[string]any {
	it := map[string]any{"code": code, "nonce": nonce, "device": "Entrée #0a1b2c3d"}
	if at != nil {
		it["scanned_at"] = at.UTC().Format(time.RFC3339)
	}
	return it
}

type doorSyncResults struct {
	Results []doorResult `json:"results"`
}

// TestDoorSyncAfterLinkEnded: a door that admitted people offline and finds the network
// after its link expired may still send the scans it made while the link was valid, for
// DoorLinkSyncGrace; nothing else. A revoked link sends nothing.
func TestDoorSyncAfterLinkEnded(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := doorEvent(e, "Soirée de clôture", 0)
			base := "/api/v1/events/" + itoa(ev.ID)
			ctx := context.Background()
			before, after, none := doorPerson(e, ev, "Kafui", "Avant", model.RegConfirmed),
				doorPerson(e, ev, "Kodjo", "Après", model.RegConfirmed), doorPerson(e, ev, "Ama", "Sans-heure", model.RegConfirmed)
			dl := doorpageLink(e, ev, "Entrée", false, false)
			link := doorByLink(e, dl.Token)
			realNow := e.app.Now
			t.Cleanup(func() { e.app.Now = realNow })
			at := func(d time.Duration) { e.app.Now = func() time.Time { return dl.ExpiresAt.Add(d) } }

			at(time.Hour)
			if r := link.call("GET", base+"/roster", ""); r.StatusCode != 401 || r.Header.Get("X-Door-Link") != "expired" {
				t.Fatalf("roster by an expired link: %d %q", r.StatusCode, r.Header.Get("X-Door-Link"))
			}
			if r := link.call("POST", base+"/checkins", doorScan(before.TicketCode, doorNonce(), "")); r.StatusCode != 401 {
				t.Fatalf("live scan by an expired link: %d", r.StatusCode)
			}
			valid, late := dl.ExpiresAt.Add(-2*time.Hour), dl.ExpiresAt.Add(30*time.Minute)
			nonce := doorNonce()
			res := doorDecode[doorSyncResults](t, doorSyncBatch(link, base, doorSyncItem(before.TicketCode, nonce, &valid),
				doorSyncItem(after.TicketCode, doorNonce(), &late), doorSyncItem(none.TicketCode, doorNonce(), nil)), 200).Results
			if len(res) != 3 || res[0].Result != "ok" || !res[0].CheckedInAt.Equal(valid) || res[0].Registration != nil ||
				res[1].Result != "link_ended" || res[1].Registration != nil || res[2].Result != "link_ended" {
				t.Fatalf("sync after expiry: %+v", res)
			}
			if r := doorpageCheckedIn(t, e, before.ID); !r.CheckedInAt.Equal(valid) {
				t.Fatalf("admitted at %v, want the scan time %v", r.CheckedInAt, valid)
			}
			for _, p := range []*model.Registration{after, none} {
				if r, _ := e.app.Store.FindRegistration(ctx, p.ID); r.CheckedInAt != nil {
					t.Fatalf("%s admitted by a scan made after the expiry", p.TicketCode)
				}
			}
			if log, _ := e.app.Store.ListCheckIns(ctx, ev.ID, false, 100); len(log) != 1 {
				t.Fatalf("%d rows in the log, want the one admission", len(log))
			}
			// The retry of a sync is answered as the first time.
			again := doorDecode[doorSyncResults](t, doorSyncBatch(link, base, doorSyncItem(before.TicketCode, nonce, &valid)), 200).Results
			if again[0].Result != "ok" || !again[0].CheckedInAt.Equal(valid) {
				t.Fatalf("sync retried: %+v", again[0])
			}

			// Past the grace, the link sends nothing.
			at(app.DoorLinkSyncGrace + time.Minute)
			if r := doorSyncBatch(link, base, doorSyncItem(after.TicketCode, doorNonce(), &valid)); r.StatusCode != 401 ||
				r.Header.Get("X-Door-Link") != "expired" {
				t.Fatalf("sync past the grace: %d %s", r.StatusCode, r.body)
			}

			// A revoked link sends nothing, before its expiry or after.
			e.app.Now = realNow
			revoked := doorpageLink(e, ev, "Entrée perdue", false, false)
			if err := e.app.RevokeDoorLink(ctx, app.Actor{Name: "test"}, ev.ID, revoked.ID); err != nil {
				t.Fatal(err)
			}
			scanned := time.Now().Add(-time.Minute)
			for _, d := range []time.Duration{0, time.Hour} {
				e.app.Now = func() time.Time { return revoked.ExpiresAt.Add(-time.Hour).Add(d) }
				r := doorSyncBatch(doorByLink(e, revoked.Token), base, doorSyncItem(after.TicketCode, doorNonce(), &scanned))
				if r.StatusCode != 401 || r.Header.Get("X-Door-Link") != "revoked" {
					t.Fatalf("sync by a revoked link (+%v): %d %s", d, r.StatusCode, r.body)
				}
			}
			if r, _ := e.app.Store.FindRegistration(ctx, after.ID); r.CheckedInAt != nil {
				t.Fatal("admitted by a revoked link")
			}
		})
	}
}

// TestDoorSyncRefusedAdmission: an offline admission that the server refuses at sync
// (the registration was cancelled or waitlisted meanwhile) is a conflict, for the door
// and in the organizer's list of conflicts, and so is its retry.
func TestDoorSyncRefusedAdmission(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := doorEvent(e, "Atelier", 0)
			base := "/api/v1/events/" + itoa(ev.ID)
			ctx := context.Background()
			ok := doorPerson(e, ev, "Yawa", "Admise", model.RegConfirmed)
			cancelled := doorPerson(e, ev, "Afi", "Annulée", model.RegCancelled)
			waitlisted := doorPerson(e, ev, "Sena", "Attente", model.RegWaitlisted)
			link := doorByLink(e, doorpageLink(e, ev, "Entrée", false, false).Token)
			scanned := time.Now().Add(-10 * time.Minute)
			nonce := doorNonce()
			items := []map[string]any{doorSyncItem(ok.TicketCode, doorNonce(), &scanned),
				doorSyncItem(cancelled.TicketCode, nonce, &scanned), doorSyncItem(waitlisted.TicketCode, doorNonce(), &scanned)}
			res := doorDecode[doorSyncResults](t, doorSyncBatch(link, base, items...), 200).Results
			if res[0].Result != "ok" || res[0].Conflict ||
				res[1].Result != "cancelled" || !res[1].Conflict || res[1].Registration.FirstName != "Afi" ||
				res[2].Result != "waitlisted" || !res[2].Conflict {
				t.Fatalf("sync: %+v", res)
			}
			conflicts, err := e.app.Store.ListCheckIns(ctx, ev.ID, true, 100)
			if err != nil || len(conflicts) != 2 {
				t.Fatalf("%d conflicts (%v), want 2", len(conflicts), err)
			}
			for _, c := range conflicts {
				if c.Answer != "cancelled" && c.Answer != "waitlisted" {
					t.Fatalf("conflict answered %q", c.Answer)
				}
			}
			again := doorDecode[doorSyncResults](t, doorSyncBatch(link, base, items[1]), 200).Results
			if again[0].Result != "cancelled" || !again[0].Conflict {
				t.Fatalf("retry: %+v", again[0])
			}
			// A live scan refused is no conflict: the door did not let the person in.
			live := doorDecode[doorResult](t, link.call("POST", base+"/checkins", doorScan(cancelled.TicketCode, doorNonce(), "")), 200)
			if live.Result != "cancelled" || live.Conflict {
				t.Fatalf("live scan: %+v", live)
			}
			staff := e.login(model.RoleOrganizer)
			expect(t, staff.get("/admin/events/"+itoa(ev.ID)+"/checkins"), http.StatusOK, "Afi Annulée", "Sena Attente", "Annulée")
		})
	}
}
