package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// The check-in API's fast path: door links and events kept in memory for a moment,
// admissions of concurrent scans written together on SQLite, no session for a door
// token. Its answers must stay those of the rules (door_test.go).

func TestCheckinFast(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			f := doorSetup(e, 0)
			org := e.login(model.RoleOrganizer)
			api := doorByToken(e, e.token(model.RoleOrganizer))
			t.Run("door link revoked here", func(t *testing.T) { checkinFastRevokedHere(t, e, f, org) })
			t.Run("door link revoked elsewhere", func(t *testing.T) { checkinFastRevokedElsewhere(t, e, f, org) })
			t.Run("api token revoked", func(t *testing.T) { checkinFastTokenRevoked(t, e, f, org) })
			t.Run("concurrent doors and retries", func(t *testing.T) { checkinFastConcurrent(t, e, f, api) })
			t.Run("retry after undo", func(t *testing.T) { checkinFastRetryAfterUndo(t, e, f, api) })
			t.Run("event changed here", func(t *testing.T) { checkinFastEventChanged(t, e, f, api) })
		})
	}
}

// checkinFastScan scans a ticket and decodes the answer.
func checkinFastScan(t *testing.T, d *doorCaller, f *doorFixture, code, nonce, device string) doorResult {
	t.Helper()
	return doorDecode[doorResult](t, d.call("POST", f.base+"/checkins", doorScan(code, nonce, device)), http.StatusOK)
}

// A link revoked on this instance is refused at its next request, though it was just
// used (and kept in memory).
func checkinFastRevokedHere(t *testing.T, e *env, f *doorFixture, org *client) {
	tok := doorCreateLink(t, org, f.ev, "Porte du jardin", false, false)
	link := doorByLink(e, tok)
	reg := doorPerson(e, f.ev, "Kossiwa", "Amegah", model.RegConfirmed)
	if res := checkinFastScan(t, link, f, reg.TicketCode, doorNonce(), ""); res.Result != "ok" || *res.By != "Porte du jardin" {
		t.Fatalf("check-in by link: %+v", res)
	}
	if r := link.call("GET", f.base+"/stats", ""); r.StatusCode != 200 {
		t.Fatalf("stats by link: %d", r.StatusCode)
	}
	if r := link.call("POST", f.base+"/checkins", doorScan(reg.TicketCode, doorNonce(), "")); r.Header.Get("Set-Cookie") != "" {
		t.Fatalf("a door link's request got a session cookie: %q", r.Header.Get("Set-Cookie"))
	}
	page := "/admin/events/" + itoa(f.ev.ID) + "/checkins"
	r := org.post(page, "/admin/events/"+itoa(f.ev.ID)+"/door-links/"+itoa(doorLinkID(t, e, f.ev, tok))+"/revoke", nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	for _, rq := range []struct{ method, path, body string }{
		{"POST", f.base + "/checkins", doorScan(reg.TicketCode, doorNonce(), "")},
		{"GET", f.base + "/stats", ""},
	} {
		r := link.call(rq.method, rq.path, rq.body)
		if r.StatusCode != http.StatusUnauthorized || r.Header.Get("X-Door-Link") != "revoked" {
			t.Fatalf("%s %s right after the revocation: %d %q %s", rq.method, rq.path, r.StatusCode, r.Header.Get("X-Door-Link"), r.body)
		}
	}
}

// A link revoked by another instance (straight in the database here) stops working
// here within a couple of seconds; until then this instance may still accept it.
func checkinFastRevokedElsewhere(t *testing.T, e *env, f *doorFixture, org *client) {
	tok := doorCreateLink(t, org, f.ev, "Porte de service", false, false)
	link := doorByLink(e, tok)
	if r := link.call("GET", f.base+"/stats", ""); r.StatusCode != 200 {
		t.Fatalf("stats by link: %d", r.StatusCode)
	}
	if err := e.app.Store.RevokeDoorLink(context.Background(), f.ev.ID, doorLinkID(t, e, f.ev, tok), time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if r := waitRefused(t, link, f.base+"/stats"); r.Header.Get("X-Door-Link") != "revoked" {
		t.Fatalf("refused with X-Door-Link %q", r.Header.Get("X-Door-Link"))
	}
}

// liveToken makes an API token for u and checks that it reads the door's stats.
func liveToken(t *testing.T, e *env, f *doorFixture, u *model.User, name string) (*doorCaller, *model.APIToken) {
	t.Helper()
	tok, apiTok, err := e.app.CreateAPIToken(context.Background(), app.Actor{Name: "test"}, u.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	d := doorByToken(e, tok)
	if r := d.call("GET", f.base+"/stats", ""); r.StatusCode != 200 {
		t.Fatalf("stats by token: %d %s", r.StatusCode, r.body)
	}
	return d, apiTok
}

// waitRefused calls path until it answers 401, which it must do within a generous bound
// (only "eventually" is checked), answering 200 until then; it returns the 401.
func waitRefused(t *testing.T, d *doorCaller, path string) *resp {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r := d.call("GET", path, "")
		if r.StatusCode == http.StatusUnauthorized {
			return r
		}
		if r.StatusCode != 200 || time.Now().After(deadline) {
			t.Fatalf("revoked elsewhere, still answered %d", r.StatusCode)
		}
	}
}

// An API token is kept briefly, like a door link: revoked on this instance, or its user
// disabled, it is refused at once; revoked elsewhere, within a couple of seconds; its
// last use is still recorded.
func checkinFastTokenRevoked(t *testing.T, e *env, f *doorFixture, org *client) {
	ctx := context.Background()
	u := e.user(model.RoleDoor, "checkin-fast-door@example.tg")
	tok, apiTok, err := e.app.CreateAPIToken(ctx, app.Actor{Name: "test"}, u.ID, "lecteur")
	if err != nil {
		t.Fatal(err)
	}
	d := doorByToken(e, tok)
	reg := doorPerson(e, f.ev, "Yao", "Dzidzienyo", model.RegConfirmed)
	r := d.call("POST", f.base+"/checkins", doorScan(reg.TicketCode, doorNonce(), "Lecteur 1"))
	if res := doorDecode[doorResult](t, r, 200); res.Result != "ok" || res.Registration == nil || res.Registration.FirstName != "Yao" {
		t.Fatalf("check-in by token: %+v", res)
	}
	if r.Header.Get("Set-Cookie") != "" {
		t.Fatalf("an API token's request got a session cookie: %q", r.Header.Get("Set-Cookie"))
	}
	tokens, err := e.app.Store.ListAPITokens(ctx, u.ID)
	if err != nil || len(tokens) != 1 || tokens[0].LastUsedAt == nil {
		t.Fatalf("last use not recorded: %+v (%v)", tokens, err)
	}
	if err := e.app.RevokeAPIToken(ctx, app.Actor{Name: "test"}, u.ID, apiTok.ID); err != nil {
		t.Fatal(err)
	}
	if r := d.call("POST", f.base+"/checkins", doorScan(reg.TicketCode, doorNonce(), "")); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d %s", r.StatusCode, r.body)
	}
	// Revoked by another instance (straight in the database here): refused here within
	// a couple of seconds; until then this instance may still accept it.
	d3, apiTok3 := liveToken(t, e, f, u, "lecteur 3")
	if err := e.app.Store.RevokeAPIToken(ctx, u.ID, apiTok3.ID, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, d3, f.base+"/stats")
	u2 := e.user(model.RoleDoor, "checkin-fast-door2@example.tg")
	d2, _ := liveToken(t, e, f, u2, "lecteur 2")
	if err := e.app.SetUserDisabled(ctx, app.Actor{Name: "test"}, u2.ID, true); err != nil {
		t.Fatal(err)
	}
	if r := d2.call("GET", f.base+"/stats", ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("user disabled: %d", r.StatusCode)
	}
}

// Many doors scan many tickets at once, and retry some scans with the same nonce while
// the first call is still running: each ticket is admitted once, every answer names
// that admission, a retried nonce gets its first answer, the log holds one row a nonce.
func checkinFastConcurrent(t *testing.T, e *env, f *doorFixture, d *doorCaller) {
	const people, doors, retries = 12, 3, 2
	regs := make([]*model.Registration, people)
	for i := range regs {
		regs[i] = doorPerson(e, f.ev, "Foule", fmt.Sprintf("N%02d", i), model.RegConfirmed)
	}
	type call struct {
		reg        int
		nonce, dev string
		res        doorResult
		err        error
	}
	var calls []*call
	for i := range regs {
		for k := range doors {
			nonce := doorNonce()
			for range retries {
				calls = append(calls, &call{reg: i, nonce: nonce, dev: fmt.Sprintf("Porte %d", k)})
			}
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := d.try("POST", f.base+"/checkins", "application/json", strings.NewReader(doorScan(regs[c.reg].TicketCode, c.nonce, c.dev)))
			if err == nil && r.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d: %s", r.StatusCode, r.body)
			}
			if err == nil {
				err = json.Unmarshal([]byte(r.body), &c.res)
			}
			c.err = err
		}()
	}
	close(start)
	wg.Wait()
	byNonce := map[string]doorResult{}
	okNonces := map[int]map[string]bool{}
	for _, c := range calls {
		if c.err != nil {
			t.Fatal(c.err)
		}
		if c.res.Registration == nil || c.res.Registration.ID != regs[c.reg].ID || c.res.CheckedInAt == nil || c.res.By == nil {
			t.Fatalf("answer %+v", c.res)
		}
		if first, seen := byNonce[c.nonce]; seen {
			if first.Result != c.res.Result || !first.CheckedInAt.Equal(*c.res.CheckedInAt) || *first.By != *c.res.By {
				t.Fatalf("nonce %s answered %+v, then %+v", c.nonce, first, c.res)
			}
		}
		byNonce[c.nonce] = c.res
		switch c.res.Result {
		case "ok":
			if okNonces[c.reg] == nil {
				okNonces[c.reg] = map[string]bool{}
			}
			okNonces[c.reg][c.nonce] = true
		case "already_checked_in":
		default:
			t.Fatalf("result %q", c.res.Result)
		}
	}
	for i, reg := range regs {
		if len(okNonces[i]) != 1 {
			t.Fatalf("%s admitted by %d scans, want 1", reg.TicketCode, len(okNonces[i]))
		}
		stored, err := e.app.Store.FindRegistration(context.Background(), reg.ID)
		if err != nil || stored.CheckedInAt == nil {
			t.Fatalf("stored %+v (%v)", stored, err)
		}
		for _, c := range calls {
			if c.reg == i && (!c.res.CheckedInAt.Equal(*stored.CheckedInAt) || *c.res.By != stored.CheckedInDevice) {
				t.Fatalf("answer %+v does not name the stored admission %v %s", c.res, stored.CheckedInAt, stored.CheckedInDevice)
			}
		}
		if n := doorLogRows(t, e, f.ev.ID, func(ci store.CheckInRow) bool { return ci.RegistrationID != nil && *ci.RegistrationID == reg.ID }); n != doors {
			t.Fatalf("%d log rows for %s, want %d (one a nonce)", n, reg.TicketCode, doors)
		}
	}
}

// A scan retried after its admission was undone gets its first answer and admits
// nobody again: the nonce's row is checked before the registration is touched.
func checkinFastRetryAfterUndo(t *testing.T, e *env, f *doorFixture, d *doorCaller) {
	reg := doorPerson(e, f.ev, "Enyonam", "Attipoe", model.RegConfirmed)
	nonce := doorNonce()
	first := checkinFastScan(t, d, f, reg.TicketCode, nonce, "Porte A")
	if first.Result != "ok" {
		t.Fatalf("first scan: %+v", first)
	}
	if r := d.call("DELETE", f.base+"/checkins/"+itoa(reg.ID), ""); r.StatusCode != 200 {
		t.Fatalf("undo: %d %s", r.StatusCode, r.body)
	}
	again := checkinFastScan(t, d, f, reg.TicketCode, nonce, "Porte A")
	if again.Result != "ok" || !again.CheckedInAt.Equal(*first.CheckedInAt) || *again.By != "Porte A" {
		t.Fatalf("retry after undo: %+v, first %+v", again, first)
	}
	if stored, err := e.app.Store.FindRegistration(context.Background(), reg.ID); err != nil || stored.CheckedInAt != nil {
		t.Fatalf("the retry admitted again: %+v (%v)", stored, err)
	}
	if n := doorLogRows(t, e, f.ev.ID, func(ci store.CheckInRow) bool { return ci.Nonce == nonce }); n != 1 {
		t.Fatalf("%d log rows for the nonce", n)
	}
	// A new scan admits the person again.
	if res := checkinFastScan(t, d, f, reg.TicketCode, doorNonce(), "Porte B"); res.Result != "ok" || *res.By != "Porte B" {
		t.Fatalf("new scan: %+v", res)
	}
}

// The check-in API keeps the event it read for a second, but a change made on this
// instance counts at its next request.
func checkinFastEventChanged(t *testing.T, e *env, f *doorFixture, d *doorCaller) {
	type stats struct{ Capacity int }
	before := doorDecode[stats](t, d.call("GET", f.base+"/stats", ""), http.StatusOK)
	ev, err := e.app.Store.FindEventByID(context.Background(), f.ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	ev.Capacity = before.Capacity + 25
	if err := e.app.SaveEvent(context.Background(), app.Actor{Name: "test"}, ev); err != nil {
		t.Fatal(err)
	}
	if after := doorDecode[stats](t, d.call("GET", f.base+"/stats", ""), http.StatusOK); after.Capacity != ev.Capacity {
		t.Fatalf("capacity right after the change: %d, want %d", after.Capacity, ev.Capacity)
	}
}
