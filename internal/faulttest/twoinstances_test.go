package faulttest

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"relais/internal/mail/mailtest"
	"relais/internal/store/storetest"
)

// TestTwoInstancesOnePostgres runs two relais processes on one PostgreSQL database, as
// behind a load balancer: registrations spread over both never exceed the capacity, a
// ticket scanned on both at the same moment is admitted once, and each email goes once.
func TestTwoInstancesOnePostgres(t *testing.T) {
	needRelais(t)
	if !slices.Contains(storetest.Drivers(t), "postgres") {
		t.Skip("needs PostgreSQL")
	}
	const (
		capacity = 30
		people   = 80
		clients  = 16
	)
	smtp := mailtest.Start(t)
	db := storetest.URL(t, "postgres")
	env := map[string]string{"RELAIS_DATABASE": db, "RELAIS_SMTP_URL": smtp.URL}
	// One after the other: the first migrates the database and generates the shared secret.
	a := startRelais(t, "instance-a", env)
	b := startRelais(t, "instance-b", env)
	instances := []*relais{a, b}
	api := a.addAdmin("admin@deux.example.org")
	ev := api.createEvent(t, "Session de sensibilisation, deux serveurs", capacity)

	// 80 registrations through the public form, alternately on each instance, 16 at a time.
	type outcome struct {
		email string
		err   error
	}
	work := make(chan int)
	results := make(chan outcome, people)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				p := instances[i%2]
				email := fmt.Sprintf("blog-%02d@deux.example.org", i)
				v, err := newVisitor(p.base + "/e/" + ev.Slug)
				if err == nil {
					var ans answer
					if ans, err = v.register(p.base, ev.Slug, email); err == nil && !ans.acknowledged() {
						err = fmt.Errorf("%d %s", ans.Status, ans.Location)
					}
				}
				results <- outcome{email, err}
			}
		}()
	}
	started := time.Now()
	for i := range people {
		work <- i
	}
	close(work)
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			t.Errorf("register %s: %v", r.email, r.err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d registrations through both instances in %s", people, time.Since(started).Round(time.Millisecond))

	// The capacity held.
	status := map[string]int{}
	var confirmed []int64
	for _, r := range api.registrations(t, ev.ID) {
		status[r.Status]++
		if r.Status == "confirmed" {
			confirmed = append(confirmed, r.ID)
		}
	}
	if status["confirmed"] != capacity || status["waitlisted"] != people-capacity || len(status) != 2 {
		t.Fatalf("registrations by status: %v, want %d confirmed and %d waitlisted", status, capacity, people-capacity)
	}

	// Each confirmed ticket scanned on both instances at the same moment: admitted once.
	var roster struct {
		Registrations []struct {
			ID     int64  `json:"id"`
			Code   string `json:"code"`
			Status string `json:"status"`
		} `json:"registrations"`
	}
	api.must(t, "GET", fmt.Sprintf("/api/v1/events/%d/roster", ev.ID), nil, &roster)
	var codes []string
	for _, r := range roster.Registrations {
		if slices.Contains(confirmed, r.ID) {
			codes = append(codes, r.Code)
		}
	}
	if len(codes) != capacity {
		t.Fatalf("roster has %d codes of confirmed registrations, want %d", len(codes), capacity)
	}
	var mu sync.Mutex
	results2 := map[string][]string{} // code → result on each instance
	started = time.Now()
	for _, code := range codes {
		start := make(chan struct{})
		for n, p := range instances {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var res struct {
					Result string `json:"result"`
				}
				err := api.on(p).call("POST", fmt.Sprintf("/api/v1/events/%d/checkins", ev.ID), map[string]any{
					"code": code, "nonce": fmt.Sprintf("%s-%d", code, n), "device": "porte " + p.name}, &res)
				if err != nil {
					res.Result = "error: " + err.Error()
				}
				mu.Lock()
				results2[code] = append(results2[code], res.Result)
				mu.Unlock()
			}()
		}
		close(start)
	}
	wg.Wait()
	admitted := 0
	for _, code := range codes {
		rs := results2[code]
		slices.Sort(rs)
		if !slices.Equal(rs, []string{"already_checked_in", "ok"}) {
			t.Errorf("ticket %s…: results %v, want one ok and one already_checked_in", code[:6], rs)
		}
		for _, r := range rs {
			if r == "ok" {
				admitted++
			}
		}
	}
	if admitted != capacity {
		t.Errorf("%d admissions, want %d", admitted, capacity)
	}
	t.Logf("%d tickets scanned on both instances at once in %s: %d admitted", len(codes), time.Since(started).Round(time.Millisecond), admitted)

	// Every confirmation and waitlist email went out once, whichever worker sent it.
	st := openStore(t, db)
	drained := waitFor(t, 30*time.Second, "the outbox drained by both workers", func() (bool, string) {
		if n := len(smtp.Received()); n < people {
			return false, fmt.Sprintf("%d of %d emails delivered", n, people)
		}
		if why := unsent(outbox(t, st, ev.ID)); why != "" {
			return false, why
		}
		return true, ""
	})
	t.Logf("outbox drained %s after the check-ins", drained.Round(time.Millisecond))
	settle(smtp)
	got := deliveries(smtp)
	for i := range people {
		email := fmt.Sprintf("blog-%02d@deux.example.org", i)
		if len(got[email]) != 1 {
			t.Errorf("%s: %d emails, want 1", email, len(got[email]))
		}
	}
	if n := len(smtp.Received()); n != people {
		t.Errorf("%d emails delivered, want %d", n, people)
	}
	kinds := map[string]int{}
	for _, m := range outbox(t, st, ev.ID) {
		kinds[m.Kind]++
	}
	want := map[string]int{"registration_confirmed": capacity, "registration_waitlisted": people - capacity}
	if !maps.Equal(kinds, want) {
		t.Errorf("emails by kind: %v, want %v", kinds, want)
	}
}
