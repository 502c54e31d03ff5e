package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
	"relais/internal/ticket"
)

// Check-in at the door, through the real router, on every database.

// doorCaller sends JSON API requests with fixed headers (a door link, an API token, or
// a session's CSRF token). It is safe for concurrent use and never calls t.Fatal.
type doorCaller struct {
	e   *env
	hc  *http.Client
	hdr map[string]string
}

func doorByToken(e *env, tok string) *doorCaller {
	return &doorCaller{e: e, hc: doorHTTPClient(), hdr: map[string]string{"Authorization": "Bearer " + tok}}
}

func doorByLink(e *env, tok string) *doorCaller {
	return &doorCaller{e: e, hc: doorHTTPClient(), hdr: map[string]string{"X-Door-Token": tok}}
}

// doorBySession calls the API as a signed-in client, with the CSRF header.
func doorBySession(c *client) *doorCaller {
	return &doorCaller{e: c.e, hc: c.http, hdr: map[string]string{"X-CSRF-Token": c.csrf("/admin/account")}}
}

func doorHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func (d *doorCaller) try(method, path, ctype string, body io.Reader) (*resp, error) {
	req, err := http.NewRequest(method, d.e.srv.URL+path, body)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept-Language", "fr")
	for k, v := range d.hdr {
		req.Header.Set(k, v)
	}
	r, err := d.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return &resp{r, string(b)}, err
}

func (d *doorCaller) call(method, path, body string) *resp {
	d.e.t.Helper()
	var rd io.Reader
	ctype := ""
	if body != "" {
		rd, ctype = strings.NewReader(body), "application/json"
	}
	r, err := d.try(method, path, ctype, rd)
	if err != nil {
		d.e.t.Fatal(err)
	}
	return r
}

// doorResult is a check-in answer.
type doorResult struct {
	Result       string `json:"result"`
	Registration *struct {
		ID          int64      `json:"id"`
		FirstName   string     `json:"first_name"`
		LastName    string     `json:"last_name"`
		Outlet      string     `json:"outlet"`
		Status      string     `json:"status"`
		Reference   string     `json:"reference"`
		CheckedInAt *time.Time `json:"checked_in_at"`
	} `json:"registration"`
	CheckedInAt *time.Time `json:"checked_in_at"`
	By          *string    `json:"by"`
	Conflict    bool       `json:"conflict"`
}

func doorDecode[T any](t *testing.T, r *resp, status int) T {
	t.Helper()
	var v T
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, snippet(r.body))
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("%s %s: %v: %s", r.Request.Method, r.Request.URL.Path, err, snippet(r.body))
	}
	return v
}

func doorScan(ident, nonce, device string) string {
	b, _ := json.Marshal(map[string]any{"code": ident, "nonce": nonce, "device": device})
	return string(b)
}

var doorNonces struct {
	sync.Mutex
	n int
}

func doorNonce() string {
	doorNonces.Lock()
	defer doorNonces.Unlock()
	doorNonces.n++
	return fmt.Sprintf("nonce-%d-%d", time.Now().UnixNano(), doorNonces.n)
}

// doorFixture is an event with people in every state, and another event.
type doorFixture struct {
	ev, other *model.Event
	people    map[string]*model.Registration // by first name
	base      string                         // /api/v1/events/{id}
}

func doorEvent(e *env, title string, capacity int) *model.Event {
	e.t.Helper()
	start := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Minute)
	ev := &model.Event{Title: title, StartsAt: start, EndsAt: start.Add(3 * time.Hour), Capacity: capacity,
		RegistrationMode: model.ModeOpen, Status: model.EventPublished, VenueName: "Ministère, Lomé"}
	if err := e.app.SaveEvent(context.Background(), app.Actor{Name: "test"}, ev); err != nil {
		e.t.Fatal(err)
	}
	return ev
}

// doorPerson registers someone straight in the database (no email is involved).
func doorPerson(e *env, ev *model.Event, first, last string, st model.RegistrationStatus) *model.Registration {
	e.t.Helper()
	ctx := context.Background()
	c := &model.Contact{Email: strings.ToLower(first+"."+last) + fmt.Sprintf(".%d@example.tg", ev.ID), FirstName: first, LastName: last,
		Phone: "+22890123456", Outlet: "Le blog de " + first, Lang: "fr", UnsubscribeToken: app.NewToken(),
		Channels: []model.ContactChannel{{Platform: "facebook", Handle: first, Followers: 10}, {Platform: "tiktok", Handle: first, Followers: 900}}}
	if err := e.app.Store.CreateContact(ctx, c); err != nil {
		e.t.Fatal(err)
	}
	r := &model.Registration{EventID: ev.ID, ContactID: c.ID, Status: st, Source: model.SourceOnline, Lang: "fr", Answers: "{}",
		TicketCode: ticket.NewCode(), Reference: ticket.NewReference(), ManageToken: app.NewToken()}
	if err := e.app.Store.CreateRegistration(ctx, r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func doorSetup(e *env, capacity int) *doorFixture {
	e.t.Helper()
	f := &doorFixture{ev: doorEvent(e, "Accueil des blogueurs", capacity), other: doorEvent(e, "Autre session", 0),
		people: map[string]*model.Registration{}}
	for _, p := range []struct {
		first, last string
		st          model.RegistrationStatus
	}{{"Kafui", "Adjo", model.RegConfirmed}, {"Ama", "Zounon", model.RegConfirmed}, {"Kodjo", "Mensah", model.RegConfirmed},
		{"Yawa", "Agbeko", model.RegConfirmed}, {"Afi", "Tchalla", model.RegCancelled}, {"Edem", "Kpodar", model.RegRejected},
		{"Sena", "Lawson", model.RegWaitlisted}, {"Abla", "Dogbe", model.RegPending}} {
		f.people[p.first] = doorPerson(e, f.ev, p.first, p.last, p.st)
	}
	f.people["Other"] = doorPerson(e, f.other, "Komi", "Ailleurs", model.RegConfirmed)
	f.base = "/api/v1/events/" + itoa(f.ev.ID)
	return f
}

func TestDoorCheckIn(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			f := doorSetup(e, 0)
			// Signing in costs an argon2id hash: one organizer and one door client serve
			// every subtest.
			org := doorByToken(e, e.token(model.RoleOrganizer))
			staff := &doorStaff{org: e.login(model.RoleOrganizer), door: e.login(model.RoleDoor)}
			t.Run("results", func(t *testing.T) { doorTestResults(t, e, f, org) })
			t.Run("concurrent scans", func(t *testing.T) { doorTestConcurrent(t, e, f, org) })
			t.Run("replayed nonce", func(t *testing.T) { doorTestReplay(t, e, f, org) })
			t.Run("offline conflict", func(t *testing.T) { doorTestOfflineConflict(t, e, f, org, staff) })
			t.Run("undo", func(t *testing.T) { doorTestUndo(t, e, f, org) })
			t.Run("roster search stats", func(t *testing.T) { doorTestRosterSearchStats(t, e, f, org) })
			t.Run("door links", func(t *testing.T) { doorTestLinks(t, e, f, staff) })
			t.Run("walk-ins", func(t *testing.T) { doorTestWalkIns(t, e, org, staff) })
			t.Run("photo decode", func(t *testing.T) { doorTestDecode(t, f, org) })
			t.Run("printing", func(t *testing.T) { doorTestPrinting(t, e, staff) })
		})
	}
}

// doorStaff are signed-in browsers: an organizer and a door-role user.
type doorStaff struct{ org, door *client }

func doorTestResults(t *testing.T, e *env, f *doorFixture, org *doorCaller) {
	p := f.people
	var first doorResult
	for _, tc := range []struct {
		name, body, result string
		regName            string // first name in the answer; "" for none
	}{
		{"ok by code", doorScan(p["Kafui"].TicketCode, doorNonce(), "Entrée principale #1"), "ok", "Kafui"},
		{"already by another device", doorScan(p["Kafui"].TicketCode, doorNonce(), "Entrée VIP #2"), "already_checked_in", "Kafui"},
		{"code typed in lower case", doorScan(strings.ToLower(p["Kafui"].TicketCode), doorNonce(), "x"), "already_checked_in", "Kafui"},
		{"unknown code", doorScan(ticket.NewCode(), doorNonce(), "x"), "unknown_code", ""},
		{"not a code", doorScan("https://example.org/", doorNonce(), "x"), "unknown_code", ""},
		{"other event", doorScan(p["Other"].TicketCode, doorNonce(), "x"), "other_event", ""},
		{"cancelled", doorScan(p["Afi"].TicketCode, doorNonce(), "x"), "cancelled", "Afi"},
		{"rejected answers cancelled", doorScan(p["Edem"].TicketCode, doorNonce(), "x"), "cancelled", "Edem"},
		{"waitlisted", doorScan(p["Sena"].TicketCode, doorNonce(), "x"), "waitlisted", "Sena"},
		{"pending", doorScan(p["Abla"].TicketCode, doorNonce(), "x"), "pending", "Abla"},
		{"reference", fmt.Sprintf(`{"reference":%q,"nonce":%q,"device":"x"}`,
			strings.ToLower(ticket.FormatReference(p["Ama"].Reference)), doorNonce()), "ok", "Ama"},
		{"reference in the code field", doorScan(p["Ama"].Reference, doorNonce(), "x"), "already_checked_in", "Ama"},
		{"registration id", fmt.Sprintf(`{"registration_id":%d,"nonce":%q}`, p["Kodjo"].ID, doorNonce()), "ok", "Kodjo"},
		{"registration id of another event", fmt.Sprintf(`{"registration_id":%d,"nonce":%q}`, p["Other"].ID, doorNonce()), "unknown_code", ""},
		{"unknown reference", fmt.Sprintf(`{"reference":"AAA-AAA","nonce":%q}`, doorNonce()), "unknown_code", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := doorDecode[doorResult](t, org.call("POST", f.base+"/checkins", tc.body), http.StatusOK)
			if res.Result != tc.result {
				t.Fatalf("result %q, want %q (%+v)", res.Result, tc.result, res)
			}
			switch {
			case tc.regName == "" && res.Registration != nil:
				t.Fatalf("registration shown: %+v", res.Registration)
			case tc.regName != "" && (res.Registration == nil || res.Registration.FirstName != tc.regName):
				t.Fatalf("registration %+v, want %s", res.Registration, tc.regName)
			}
			switch tc.name {
			case "ok by code":
				first = res
				if res.CheckedInAt == nil || res.By == nil || *res.By != "Entrée principale #1" || res.Registration.Outlet != "Le blog de Kafui" ||
					res.Registration.CheckedInAt == nil || len(res.Registration.Reference) != 7 || res.Registration.Reference[3] != '-' {
					t.Fatalf("ok: %+v", res)
				}
			case "already by another device":
				if res.CheckedInAt == nil || !res.CheckedInAt.Equal(*first.CheckedInAt) || res.By == nil || *res.By != "Entrée principale #1" || res.Conflict {
					t.Fatalf("already: first time and device expected, got %+v", res)
				}
			case "rejected answers cancelled":
				if res.Registration.Status != "rejected" {
					t.Fatalf("status %q", res.Registration.Status)
				}
			}
		})
	}
	// Bad requests.
	for body, field := range map[string]string{
		`{"code":"x"}`:    "nonce",
		`{"nonce":"abc"}`: "code",
		doorScan("x", strings.Repeat("n", 101), "x"): "nonce",
		doorScan("x", "n", strings.Repeat("d", 101)): "device",
	} {
		r := org.call("POST", f.base+"/checkins", body)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, `"`+field+`"`) {
			t.Fatalf("%s: %d %s", body, r.StatusCode, r.body)
		}
	}
	if r := org.call("POST", f.base+"/checkins", `{"nonce":"a","code":"x","extra":1}`); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", r.StatusCode)
	}
	if r := org.call("POST", "/api/v1/events/999999/checkins", doorScan("x", doorNonce(), "")); r.StatusCode != http.StatusNotFound || errorCode(t, r) != "not_found" {
		t.Fatalf("no such event: %d %s", r.StatusCode, r.body)
	}
}

func doorTestConcurrent(t *testing.T, e *env, f *doorFixture, org *doorCaller) {
	reg := f.people["Yawa"]
	const n = 50
	results := make([]doorResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := org.try("POST", f.base+"/checkins", "application/json",
				strings.NewReader(doorScan(reg.TicketCode, doorNonce(), fmt.Sprintf("Porte %d", i))))
			if err == nil && r.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d: %s", r.StatusCode, r.body)
			}
			if err == nil {
				err = json.Unmarshal([]byte(r.body), &results[i])
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	var ok, already int
	var winner doorResult
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch r.Result {
		case "ok":
			ok++
			winner = r
		case "already_checked_in":
			already++
		}
	}
	if ok != 1 || already != n-1 {
		t.Fatalf("%d ok and %d already_checked_in, want 1 and %d", ok, already, n-1)
	}
	for _, r := range results {
		if !r.CheckedInAt.Equal(*winner.CheckedInAt) || *r.By != *winner.By {
			t.Fatalf("answer %+v does not name the first admission %+v", r, winner)
		}
	}
	stored, err := e.app.Store.FindRegistration(context.Background(), reg.ID)
	if err != nil || stored.CheckedInAt == nil || !stored.CheckedInAt.Equal(*winner.CheckedInAt) || stored.CheckedInDevice != *winner.By {
		t.Fatalf("stored admission %+v, winner %+v (%v)", stored, winner, err)
	}
	if n := doorLogRows(t, e, f.ev.ID, func(ci store.CheckInRow) bool { return ci.RegistrationID != nil && *ci.RegistrationID == reg.ID }); n != 50 {
		t.Fatalf("%d log rows, want 50", n)
	}
}

func doorLogRows(t *testing.T, e *env, eventID int64, keep func(store.CheckInRow) bool) int {
	t.Helper()
	rows, err := e.app.Store.ListCheckIns(context.Background(), eventID, false, 100000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if keep(r) {
			n++
		}
	}
	return n
}

func doorTestReplay(t *testing.T, e *env, f *doorFixture, org *doorCaller) {
	reg := doorPerson(e, f.ev, "Dela", "Amouzou", model.RegConfirmed)
	nonce := doorNonce()
	body := doorScan(reg.TicketCode, nonce, "Porte A")
	first := org.call("POST", f.base+"/checkins", body)
	second := org.call("POST", f.base+"/checkins", body)
	a, b := doorDecode[doorResult](t, first, 200), doorDecode[doorResult](t, second, 200)
	if a.Result != "ok" || b.Result != "ok" || !a.CheckedInAt.Equal(*b.CheckedInAt) || *a.By != *b.By {
		t.Fatalf("replay: %s then %s", first.body, second.body)
	}
	// Even from another door and after other scans, the nonce answers the same.
	org.call("POST", f.base+"/checkins", doorScan(reg.TicketCode, doorNonce(), "Porte B"))
	third := doorDecode[doorResult](t, org.call("POST", f.base+"/checkins", doorScan(reg.TicketCode, nonce, "Porte C")), 200)
	if third.Result != "ok" || !third.CheckedInAt.Equal(*a.CheckedInAt) {
		t.Fatalf("late replay: %+v", third)
	}
	if n := doorLogRows(t, e, f.ev.ID, func(ci store.CheckInRow) bool { return ci.Nonce == nonce }); n != 1 {
		t.Fatalf("%d log rows for the nonce", n)
	}
	// The nonce of this event's scan cannot be reused elsewhere.
	r := org.call("POST", "/api/v1/events/"+itoa(f.other.ID)+"/checkins", doorScan(f.people["Other"].TicketCode, nonce, "x"))
	if r.StatusCode != http.StatusConflict {
		t.Fatalf("nonce reused for another event: %d %s", r.StatusCode, r.body)
	}
}

func doorTestOfflineConflict(t *testing.T, e *env, f *doorFixture, org *doorCaller, staff *doorStaff) {
	reg := doorPerson(e, f.ev, "Mawuli", "Akakpo", model.RegConfirmed)
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	item := func(nonce, device string, at time.Time) map[string]any {
		return map[string]any{"code": reg.TicketCode, "nonce": nonce, "device": device, "scanned_at": at.Format(time.RFC3339)}
	}
	batch := func(items ...map[string]any) []doorResult {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"checkins": items})
		return doorDecode[struct {
			Results []doorResult `json:"results"`
		}](t, org.call("POST", f.base+"/checkins/batch", string(b)), 200).Results
	}
	// Door A scanned at base+5min, door B at base; A syncs first.
	nonceA, nonceB := doorNonce(), doorNonce()
	other := doorPerson(e, f.ev, "Eyram", "Folly", model.RegConfirmed)
	resA := batch(item(nonceA, "Porte A", base.Add(5*time.Minute)),
		map[string]any{"code": other.TicketCode, "nonce": doorNonce(), "device": "Porte A", "scanned_at": base.Format(time.RFC3339)},
		map[string]any{"code": "nope", "nonce": doorNonce(), "device": "Porte A", "scanned_at": base.Format(time.RFC3339)})
	if len(resA) != 3 || resA[0].Result != "ok" || resA[0].Conflict || !resA[0].CheckedInAt.Equal(base.Add(5*time.Minute)) ||
		resA[1].Result != "ok" || resA[1].Registration.FirstName != "Eyram" || resA[2].Result != "unknown_code" {
		t.Fatalf("first sync: %+v", resA)
	}
	resB := batch(item(nonceB, "Porte B", base))
	if resB[0].Result != "ok" || !resB[0].Conflict || !resB[0].CheckedInAt.Equal(base) || *resB[0].By != "Porte B" {
		t.Fatalf("earlier scan synced later: %+v", resB[0])
	}
	stored, _ := e.app.Store.FindRegistration(context.Background(), reg.ID)
	if !stored.CheckedInAt.Equal(base) || stored.CheckedInDevice != "Porte B" {
		t.Fatalf("stored: %v %s", stored.CheckedInAt, stored.CheckedInDevice)
	}
	// A retries its sync: its scan now answers already_checked_in, flagged.
	again := batch(item(nonceA, "Porte A", base.Add(5*time.Minute)))
	if again[0].Result != "already_checked_in" || !again[0].Conflict || !again[0].CheckedInAt.Equal(base) || *again[0].By != "Porte B" {
		t.Fatalf("loser's retry: %+v", again[0])
	}
	// A third door's later offline scan is flagged too; the same door's is not.
	late := batch(item(doorNonce(), "Porte C", base.Add(9*time.Minute)), item(doorNonce(), "Porte B", base.Add(9*time.Minute)))
	if late[0].Result != "already_checked_in" || !late[0].Conflict || late[1].Result != "already_checked_in" || late[1].Conflict {
		t.Fatalf("later scans: %+v", late)
	}
	conflicts, err := e.app.Store.ListCheckIns(context.Background(), f.ev.ID, true, 100)
	if err != nil || len(conflicts) != 3 {
		t.Fatalf("%d conflicts in the log (%v), want 3", len(conflicts), err)
	}
	// The organizer sees them.
	expect(t, staff.org.get("/admin/events/"+itoa(f.ev.ID)+"/checkins"), http.StatusOK, "Conflits", "Mawuli Akakpo", "Porte A", "Porte B")
	// Invalid items refuse the batch, naming the item.
	b, _ := json.Marshal(map[string]any{"checkins": []map[string]any{item(doorNonce(), "x", base), {"code": "x"}}})
	if r := org.call("POST", f.base+"/checkins/batch", string(b)); r.StatusCode != 422 || !strings.Contains(r.body, "checkins.1.nonce") {
		t.Fatalf("invalid item: %d %s", r.StatusCode, r.body)
	}
	items := make([]map[string]any, 501)
	for i := range items {
		items[i] = item(fmt.Sprintf("big-%d", i), "x", base)
	}
	b, _ = json.Marshal(map[string]any{"checkins": items})
	if r := org.call("POST", f.base+"/checkins/batch", string(b)); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("501 items: %d %s", r.StatusCode, snippet(r.body))
	}
}

func doorTestUndo(t *testing.T, e *env, f *doorFixture, org *doorCaller) {
	reg := doorPerson(e, f.ev, "Selom", "Gbadoe", model.RegConfirmed)
	path := f.base + "/checkins/" + itoa(reg.ID)
	if r := org.call("DELETE", path, ""); r.StatusCode != http.StatusConflict {
		t.Fatalf("undo before admission: %d %s", r.StatusCode, r.body)
	}
	doorDecode[doorResult](t, org.call("POST", f.base+"/checkins", doorScan(reg.TicketCode, doorNonce(), "Porte A")), 200)
	nonce := doorNonce()
	undone := doorDecode[struct {
		ID          int64      `json:"id"`
		CheckedInAt *time.Time `json:"checked_in_at"`
	}](t, org.call("DELETE", path+"?nonce="+nonce+"&device=Porte+A", ""), 200)
	if undone.ID != reg.ID || undone.CheckedInAt != nil {
		t.Fatalf("undo: %+v", undone)
	}
	// The same undo retried is fine; a new one finds nothing to undo.
	if r := org.call("DELETE", path+"?nonce="+nonce, ""); r.StatusCode != 200 {
		t.Fatalf("undo retried: %d %s", r.StatusCode, r.body)
	}
	if r := org.call("DELETE", path, ""); r.StatusCode != http.StatusConflict || errorCode(t, r) != "conflict" {
		t.Fatalf("undo twice: %d %s", r.StatusCode, r.body)
	}
	res := doorDecode[doorResult](t, org.call("POST", f.base+"/checkins", doorScan(reg.TicketCode, doorNonce(), "Porte B")), 200)
	if res.Result != "ok" || *res.By != "Porte B" {
		t.Fatalf("re-admit: %+v", res)
	}
	if n := doorLogRows(t, e, f.ev.ID, func(ci store.CheckInRow) bool {
		return ci.RegistrationID != nil && *ci.RegistrationID == reg.ID && ci.Action == "undo"
	}); n != 1 {
		t.Fatalf("%d undo rows", n)
	}
	audit, _ := e.app.Store.ListAudit(context.Background(), f.ev.ID, 50)
	found := false
	for _, a := range audit {
		found = found || (a.Action == "checkin.undo" && a.ObjectID == reg.ID)
	}
	if !found {
		t.Fatal("undo not audited")
	}
	if r := org.call("DELETE", "/api/v1/events/"+itoa(f.other.ID)+"/checkins/"+itoa(reg.ID), ""); r.StatusCode != http.StatusNotFound {
		t.Fatalf("undo through another event: %d", r.StatusCode)
	}
}

type doorRoster struct {
	ServerTime    string `json:"server_time"`
	Full          bool   `json:"full"`
	Registrations []struct {
		ID          int64      `json:"id"`
		Code        string     `json:"code"`
		Reference   string     `json:"reference"`
		FirstName   string     `json:"first_name"`
		LastName    string     `json:"last_name"`
		Outlet      string     `json:"outlet"`
		Platform    string     `json:"platform"`
		Status      string     `json:"status"`
		CheckedInAt *time.Time `json:"checked_in_at"`
	} `json:"registrations"`
}

func doorTestRosterSearchStats(t *testing.T, e *env, f *doorFixture, org *doorCaller) {
	full := doorDecode[doorRoster](t, org.call("GET", f.base+"/roster", ""), 200)
	statuses := map[string]int{}
	for _, r := range full.Registrations {
		statuses[r.Status]++
		if r.FirstName == "Kafui" && (r.Code != f.people["Kafui"].TicketCode || r.Platform != "tiktok" || r.CheckedInAt == nil || len(r.Reference) != 7) {
			t.Fatalf("roster entry: %+v", r)
		}
		if r.FirstName == "Komi" {
			t.Fatal("another event's registration in the roster")
		}
	}
	if !full.Full || statuses["confirmed"] < 4 || statuses["cancelled"] != 1 || statuses["rejected"] != 1 || statuses["waitlisted"] != 1 || statuses["pending"] != 1 {
		t.Fatalf("roster: full=%v %v", full.Full, statuses)
	}
	// A delta: what changed since the last server time (the store clock runs an hour
	// ahead, so that the rows written before are out of the delta's slack).
	realNow := e.app.Store.Now
	e.app.Store.Now = func() time.Time { return realNow().Add(time.Hour) }
	defer func() { e.app.Store.Now = realNow }()
	first := doorDecode[doorRoster](t, org.call("GET", f.base+"/roster", ""), 200)
	reg := f.people["Kafui"]
	org.call("DELETE", f.base+"/checkins/"+itoa(reg.ID), "")
	delta := doorDecode[doorRoster](t, org.call("GET", f.base+"/roster?since="+url.QueryEscape(first.ServerTime), ""), 200)
	if delta.Full || len(delta.Registrations) != 1 || delta.Registrations[0].ID != reg.ID || delta.Registrations[0].CheckedInAt != nil {
		t.Fatalf("delta: %+v", delta)
	}
	if r := org.call("GET", f.base+"/roster?since=yesterday", ""); r.StatusCode != 422 {
		t.Fatalf("bad since: %d", r.StatusCode)
	}
	e.app.Store.Now = realNow

	// Search: name, email, phone, reference.
	type results struct {
		Results []struct {
			ID        int64  `json:"id"`
			FirstName string `json:"first_name"`
			Platform  string `json:"platform"`
			Code      string `json:"code"`
		} `json:"results"`
	}
	for q, want := range map[string]string{"zounon": "Ama", "kodjo.mensah": "Kodjo", ticket.FormatReference(f.people["Sena"].Reference): "Sena",
		strings.ToLower(f.people["Abla"].Reference): "Abla"} {
		res := doorDecode[results](t, org.call("GET", f.base+"/search?q="+url.QueryEscape(q), ""), 200)
		if len(res.Results) != 1 || res.Results[0].FirstName != want || res.Results[0].Platform != "tiktok" || res.Results[0].Code == "" {
			t.Fatalf("search %q: %+v", q, res)
		}
	}
	if res := doorDecode[results](t, org.call("GET", f.base+"/search?q=90123456", ""), 200); len(res.Results) < 8 || len(res.Results) > 20 {
		t.Fatalf("search by phone: %d results", len(res.Results))
	}
	if res := doorDecode[results](t, org.call("GET", f.base+"/search?q=k", ""), 200); len(res.Results) != 0 {
		t.Fatalf("one letter: %+v", res)
	}
	if res := doorDecode[results](t, org.call("GET", f.base+"/search?q=ailleurs", ""), 200); len(res.Results) != 0 {
		t.Fatalf("another event's person found: %+v", res)
	}

	// Stats.
	st := doorDecode[struct {
		Admitted int64 `json:"admitted"`
		Expected int64 `json:"expected"`
		Capacity int64 `json:"capacity"`
		ThisDoor int64 `json:"this_door"`
		Doors    []struct {
			Name     string `json:"name"`
			Admitted int64  `json:"admitted"`
		} `json:"doors"`
	}](t, org.call("GET", f.base+"/stats?device="+url.QueryEscape("Porte B"), ""), 200)
	regs, _, _ := e.app.Store.ListRegistrations(context.Background(), store.RegistrationFilter{EventID: f.ev.ID})
	var admitted, confirmed, byB int64
	for _, r := range regs {
		if r.CheckedInAt != nil {
			admitted++
			if r.CheckedInDevice == "Porte B" {
				byB++
			}
		}
		if r.Status == model.RegConfirmed {
			confirmed++
		}
	}
	if st.Admitted != admitted || st.Expected != confirmed || st.ThisDoor != byB || byB == 0 || len(st.Doors) != 1 || st.Doors[0].Admitted != admitted {
		t.Fatalf("stats %+v; want admitted %d, expected %d, this door %d", st, admitted, confirmed, byB)
	}
}

// doorCreateLink makes a door link through the organizer's page and returns its token.
func doorCreateLink(t *testing.T, c *client, ev *model.Event, name string, search, walkIns bool) string {
	t.Helper()
	page := "/admin/events/" + itoa(ev.ID) + "/checkins"
	vals := url.Values{"name": {name}}
	if search {
		vals.Set("allow_search", "yes")
	}
	if walkIns {
		vals.Set("allow_walk_ins", "yes")
	}
	r := c.post(page, "/admin/events/"+itoa(ev.ID)+"/door-links", vals)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create door link: %d %s", r.StatusCode, snippet(r.body))
	}
	body := c.get(page).body
	m := regexp.MustCompile(`<td>` + regexp.QuoteMeta(name) + `</td>(?s:.*?)/door/l/([A-Za-z0-9_-]{32})`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("door link %q not listed", name)
	}
	return m[1]
}

func doorTestLinks(t *testing.T, e *env, f *doorFixture, staff *doorStaff) {
	orgC := staff.org
	page := "/admin/events/" + itoa(f.ev.ID) + "/checkins"
	// A bad form re-renders with the error.
	r := orgC.post(page, "/admin/events/"+itoa(f.ev.ID)+"/door-links", url.Values{"name": {""}, "expires_at": {"2001-01-01T10:00"}})
	expect(t, r, http.StatusUnprocessableEntity, "Ce champ est obligatoire.", "Choisissez une date à venir.")
	tok := doorCreateLink(t, orgC, f.ev, "Entrée principale", false, false)
	link := doorByLink(e, tok)
	reg := doorPerson(e, f.ev, "Fafa", "Kouma", model.RegConfirmed)
	res := doorDecode[doorResult](t, link.call("POST", f.base+"/checkins", doorScan(reg.TicketCode, doorNonce(), "")), 200)
	if res.Result != "ok" || *res.By != "Entrée principale" {
		t.Fatalf("door link check-in: %+v", res)
	}
	doorDecode[doorRoster](t, link.call("GET", f.base+"/roster", ""), 200)
	st := link.call("GET", f.base+"/stats", "")
	if st.StatusCode != 200 || !strings.Contains(st.body, `"this_door":1`) {
		t.Fatalf("door link stats: %s", st.body)
	}
	// Nothing else: not another event (404), not the rest of the API, not the pages.
	otherBase := "/api/v1/events/" + itoa(f.other.ID)
	for _, rq := range []struct{ method, path, body string }{
		{"POST", otherBase + "/checkins", doorScan(f.people["Other"].TicketCode, doorNonce(), "")},
		{"POST", otherBase + "/checkins/batch", `{"checkins":[]}`},
		{"DELETE", otherBase + "/checkins/" + itoa(f.people["Other"].ID), ""},
		{"GET", otherBase + "/roster", ""},
		{"GET", otherBase + "/stats", ""},
		{"GET", otherBase + "/search?q=komi", ""},
		{"POST", otherBase + "/walkins", `{"first_name":"A","last_name":"B","nonce":"n"}`},
	} {
		if r := link.call(rq.method, rq.path, rq.body); r.StatusCode != http.StatusNotFound || errorCode(t, r) != "not_found" {
			t.Fatalf("%s %s with another event's link: %d %s", rq.method, rq.path, r.StatusCode, r.body)
		}
	}
	for _, rq := range []struct{ method, path, body string }{
		{"GET", "/api/v1/events", ""}, {"GET", "/api/v1/events/" + itoa(f.ev.ID), ""},
		{"GET", "/api/v1/events/" + itoa(f.ev.ID) + "/registrations", ""},
		{"PATCH", "/api/v1/events/" + itoa(f.ev.ID), `{"title":"x"}`},
		{"GET", "/admin", ""}, {"GET", "/admin/events/" + itoa(f.ev.ID), ""}, {"GET", page, ""},
		{"GET", "/admin/events/" + itoa(f.ev.ID) + "/attendance-sheet", ""},
	} {
		if r := link.call(rq.method, rq.path, rq.body); r.StatusCode != http.StatusUnauthorized && r.StatusCode != http.StatusForbidden {
			t.Fatalf("%s %s with a door link: %d", rq.method, rq.path, r.StatusCode)
		}
	}
	// Rights: no search, no walk-ins on this link.
	if r := link.call("GET", f.base+"/search?q=fafa", ""); r.StatusCode != http.StatusForbidden {
		t.Fatalf("search without the right: %d", r.StatusCode)
	}
	if r := link.call("POST", f.base+"/walkins", `{"first_name":"A","last_name":"B","nonce":"`+doorNonce()+`"}`); r.StatusCode != http.StatusForbidden {
		t.Fatalf("walk-in without the right: %d", r.StatusCode)
	}
	// Two credentials at once are refused; a made-up token is a 401.
	both := &doorCaller{e: e, hc: doorHTTPClient(), hdr: map[string]string{"X-Door-Token": tok, "Authorization": "Bearer x"}}
	if r := both.call("GET", f.base+"/stats", ""); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("two credentials: %d", r.StatusCode)
	}
	if r := doorByLink(e, app.NewToken()).call("GET", f.base+"/stats", ""); r.StatusCode != 401 || r.Header.Get("X-Door-Link") != "unknown" {
		t.Fatalf("made-up token: %d %q", r.StatusCode, r.Header.Get("X-Door-Link"))
	}
	// The QR code on the page opens the link.
	qr := orgC.get(doorQRPath(t, orgC, f.ev, tok))
	if qr.StatusCode != 200 || qr.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %d", qr.StatusCode)
	}
	text, err := ticket.DecodeQR(strings.NewReader(qr.body))
	if err != nil || !strings.HasSuffix(text, "/door/l/"+tok) {
		t.Fatalf("qr says %q (%v)", text, err)
	}
	// Revoked: refused at once, with the reason for the page to wipe its data.
	linkID := doorLinkID(t, e, f.ev, tok)
	r = orgC.post(page, "/admin/events/"+itoa(f.ev.ID)+"/door-links/"+itoa(linkID)+"/revoke", nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	r = link.call("POST", f.base+"/checkins", doorScan(reg.TicketCode, doorNonce(), ""))
	if r.StatusCode != 401 || errorCode(t, r) != "unauthorized" || r.Header.Get("X-Door-Link") != "revoked" || !strings.Contains(r.body, "Effacez les données") {
		t.Fatalf("revoked link: %d %s %q", r.StatusCode, r.body, r.Header.Get("X-Door-Link"))
	}
	expect(t, orgC.get(page), http.StatusOK, "Révoqué")
	// Expired: the app's clock moves past the expiry (end of event + 6 h by default).
	tok2 := doorCreateLink(t, orgC, f.ev, "Entrée VIP", true, true)
	link2 := doorByLink(e, tok2)
	if r := link2.call("GET", f.base+"/search?q=fafa", ""); r.StatusCode != 200 || !strings.Contains(r.body, "Fafa") {
		t.Fatalf("search with the right: %d %s", r.StatusCode, r.body)
	}
	realNow := e.app.Now
	e.app.Now = func() time.Time { return f.ev.EndsAt.Add(app.DoorLinkGrace + time.Minute) }
	r = link2.call("GET", f.base+"/roster", "")
	e.app.Now = realNow
	if r.StatusCode != 401 || r.Header.Get("X-Door-Link") != "expired" {
		t.Fatalf("expired link: %d %s", r.StatusCode, r.body)
	}
	if r := link2.call("GET", f.base+"/roster", ""); r.StatusCode != 200 {
		t.Fatalf("link before its expiry: %d", r.StatusCode)
	}
	// Door-role staff check in every event with their session (and the CSRF header).
	doorC := staff.door
	expect(t, doorC.get("/admin"), http.StatusOK, "/door/events/"+itoa(f.ev.ID))
	if r := doorC.api("POST", otherBase+"/checkins", "", doorScan(f.people["Other"].TicketCode, doorNonce(), "")); r.StatusCode != http.StatusForbidden {
		t.Fatalf("session without CSRF header: %d", r.StatusCode)
	}
	sess := doorBySession(doorC)
	res = doorDecode[doorResult](t, sess.call("POST", otherBase+"/checkins", doorScan(f.people["Other"].TicketCode, doorNonce(), "")), 200)
	if res.Result != "ok" || *res.By != "Test door" {
		t.Fatalf("door staff: %+v", res)
	}
	if r := sess.call("GET", page, ""); r.StatusCode != http.StatusForbidden {
		t.Fatalf("door staff on the organizer page: %d", r.StatusCode)
	}
	if r := e.client().api("GET", f.base+"/roster", "", ""); r.StatusCode != 401 {
		t.Fatalf("anonymous roster: %d", r.StatusCode)
	}
}

func doorQRPath(t *testing.T, c *client, ev *model.Event, tok string) string {
	t.Helper()
	return "/admin/events/" + itoa(ev.ID) + "/door-links/" + itoa(doorLinkID(t, c.e, ev, tok)) + "/qr.png"
}

func doorLinkID(t *testing.T, e *env, ev *model.Event, tok string) int64 {
	t.Helper()
	links, err := e.app.Store.ListDoorLinks(context.Background(), ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Token == tok {
			return l.ID
		}
	}
	t.Fatalf("no door link %s", tok)
	return 0
}

func doorTestWalkIns(t *testing.T, e *env, org *doorCaller, staff *doorStaff) {
	ev := doorEvent(e, "Session complète", 2)
	base := "/api/v1/events/" + itoa(ev.ID)
	doorPerson(e, ev, "Déjà", "Inscrite", model.RegConfirmed)
	doorC := doorBySession(staff.door)
	walkIn := func(first, email string, override bool) string {
		b, _ := json.Marshal(map[string]any{"first_name": first, "last_name": "Sur-place", "email": email, "phone": "90 00 00 01",
			"outlet": "Radio Lomé", "nonce": doorNonce(), "device": "Accueil #1", "override_capacity": override})
		return string(b)
	}
	nonceBody := walkIn("Akosua", "", false)
	r := doorC.call("POST", base+"/walkins", nonceBody)
	res := doorDecode[doorResult](t, r, http.StatusCreated)
	if res.Result != "ok" || res.Registration.FirstName != "Akosua" || res.Registration.Status != "confirmed" || res.CheckedInAt == nil {
		t.Fatalf("walk-in: %+v", res)
	}
	again := doorDecode[doorResult](t, doorC.call("POST", base+"/walkins", nonceBody), http.StatusCreated)
	if again.Registration.ID != res.Registration.ID || again.Result != "ok" {
		t.Fatalf("walk-in retried: %+v", again)
	}
	stored, _ := e.app.Store.FindRegistration(context.Background(), res.Registration.ID)
	contact, _ := e.app.Store.FindContact(context.Background(), stored.ContactID)
	if stored.Source != model.SourceWalkIn || !app.IsWalkInPlaceholder(contact.Email) || stored.CheckedInAt == nil {
		t.Fatalf("walk-in stored: %+v %s", stored, contact.Email)
	}
	// Full: refused, even for door staff asking to override; an organizer may.
	r = doorC.call("POST", base+"/walkins", walkIn("Kossi", "kossi@example.tg", false))
	if r.StatusCode != http.StatusConflict || errorCode(t, r) != "conflict" || !strings.Contains(r.body, "Complet") {
		t.Fatalf("full: %d %s", r.StatusCode, r.body)
	}
	if r := doorC.call("POST", base+"/walkins", walkIn("Kossi", "kossi@example.tg", true)); r.StatusCode != http.StatusForbidden {
		t.Fatalf("door override: %d", r.StatusCode)
	}
	res = doorDecode[doorResult](t, org.call("POST", base+"/walkins", walkIn("Kossi", "kossi@example.tg", true)), http.StatusCreated)
	if res.Result != "ok" {
		t.Fatalf("organizer override: %+v", res)
	}
	// The same person again is simply already in.
	res = doorDecode[doorResult](t, org.call("POST", base+"/walkins", walkIn("Kossi", "KOSSI@example.tg", false)), http.StatusCreated)
	if res.Result != "already_checked_in" {
		t.Fatalf("walk-in twice: %+v", res)
	}
	if n, _ := e.app.Store.CountConfirmed(context.Background(), ev.ID); n != 3 {
		t.Fatalf("%d confirmed", n)
	}
	r = org.call("POST", base+"/walkins", `{"first_name":"","last_name":"X","email":"bad","nonce":"`+doorNonce()+`"}`)
	if r.StatusCode != 422 || !strings.Contains(r.body, `"first_name"`) || !strings.Contains(r.body, `"email"`) {
		t.Fatalf("invalid walk-in: %d %s", r.StatusCode, r.body)
	}
}

func doorTestDecode(t *testing.T, f *doorFixture, org *doorCaller) {
	upload := func(data []byte) *resp {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		part, _ := w.CreateFormFile("photo", "billet.png")
		part.Write(data)
		w.Close()
		r, err := org.try("POST", f.base+"/decode", w.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	code := f.people["Kafui"].TicketCode
	qr, err := ticket.QRPNG(code, 400)
	if err != nil {
		t.Fatal(err)
	}
	if r := upload(qr); r.StatusCode != 200 || r.body != `{"code":"`+code+`"}`+"\n" {
		t.Fatalf("decode: %d %s", r.StatusCode, r.body)
	}
	blank := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	blank.Set(10, 10, color.Black)
	var noQR bytes.Buffer
	png.Encode(&noQR, blank)
	for name, data := range map[string][]byte{"garbage": []byte("ceci n'est pas une image"), "no QR": noQR.Bytes()} {
		if r := upload(data); r.StatusCode != http.StatusUnprocessableEntity || errorCode(t, r) != "invalid" {
			t.Fatalf("%s: %d %s", name, r.StatusCode, r.body)
		}
	}
	if r := upload(noQR.Bytes()); !strings.Contains(r.body, "Aucun code QR lisible") {
		t.Fatalf("no QR message: %s", r.body)
	}
	if r := org.call("POST", f.base+"/decode", ""); r.StatusCode != 422 {
		t.Fatalf("no photo: %d", r.StatusCode)
	}
}

// doorTestPrinting prints the attendance sheet and the badges of a fresh event.
func doorTestPrinting(t *testing.T, e *env, staff *doorStaff) {
	f := doorSetup(e, 30)
	c := staff.org
	sheet := c.get("/admin/events/" + itoa(f.ev.ID) + "/attendance-sheet")
	expect(t, sheet, http.StatusOK, "Feuille d’émargement", "Accueil des blogueurs", "Signature", "Adjo", "Kafui", "Le blog de Kafui", "4 personnes confirmées")
	if strings.Index(sheet.body, "Adjo") > strings.Index(sheet.body, "Zounon") || strings.Contains(sheet.body, "Tchalla") || strings.Contains(sheet.body, "Lawson") {
		t.Fatal("attendance sheet: confirmed people sorted by last name only")
	}
	badges := c.get("/admin/events/" + itoa(f.ev.ID) + "/badges")
	expect(t, badges, http.StatusOK, "Kafui", "<strong>Adjo</strong>", "Le blog de Kafui", "TikTok", "data:image/png;base64,")
	if n := strings.Count(badges.body, `class="namebadge"`); n != 4 {
		t.Fatalf("%d badges", n)
	}
	c.lang = "en"
	defer func() { c.lang = "fr" }()
	expect(t, c.get("/admin/events/"+itoa(f.ev.ID)+"/attendance-sheet"), http.StatusOK, "Attendance sheet", "4 confirmed people")
	expect(t, c.get("/admin/events/"+itoa(f.ev.ID)+"/checkins"), http.StatusOK, "Door links", "New door link")
	expect(t, c.get("/admin/events/"+itoa(f.ev.ID)), http.StatusOK, "/admin/events/"+itoa(f.ev.ID)+"/checkins")
	if r := staff.door.get("/admin/events/" + itoa(f.ev.ID) + "/badges"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("door staff printing badges: %d", r.StatusCode)
	}
}
