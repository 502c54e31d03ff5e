package app_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

func TestCoveragePlatformRecognition(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://www.facebook.com/kafui/posts/123", "facebook"},
		{"https://m.facebook.com/story.php?id=1", "facebook"},
		{"https://fb.watch/abc123/", "facebook"},
		{"https://x.com/techtogo/status/1", "x"},
		{"https://twitter.com/techtogo/status/1", "x"},
		{"https://mobile.twitter.com/techtogo", "x"},
		{"https://www.instagram.com/p/Bxyz/", "instagram"},
		{"https://www.tiktok.com/@afiwa/video/1", "tiktok"},
		{"https://vm.tiktok.com/ZMabc/", "tiktok"},
		{"https://www.youtube.com/watch?v=abc", "youtube"},
		{"https://youtu.be/abc", "youtube"},
		{"https://www.linkedin.com/posts/kodjo", "linkedin"},
		{"https://kafui.example.org/2017/05/article", "blog"},
		{"https://notfacebook.com/x", "blog"},          // not a subdomain of facebook.com
		{"https://facebook.com.example.org/x", "blog"}, // nor this
		{"www.youtube.com/watch?v=abc", "youtube"},     // no scheme
	} {
		if got := model.PlatformFromURL(tc.url); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.url, got, tc.want)
		}
	}
}

func TestCoverageLinksParsing(t *testing.T) {
	urls, dups, invalid := app.ParseCoverageLinks("https://x.com/a/status/1?utm_source=wa\n\n" +
		"facebook.com/kafui/posts/2#comments\r\nhttps://X.com/a/status/1\npas un lien\njavascript:alert(1)\n" +
		"https://kafui.example.org/a, https://kafui.example.org/b\nftp://files.example.org/x")
	want := []string{"https://x.com/a/status/1", "https://facebook.com/kafui/posts/2", "https://kafui.example.org/a", "https://kafui.example.org/b"}
	if fmt.Sprint(urls) != fmt.Sprint(want) {
		t.Fatalf("urls %v, want %v", urls, want)
	}
	if len(dups) != 1 || dups[0] != "https://x.com/a/status/1" {
		t.Fatalf("duplicates %v", dups)
	}
	if len(invalid) != 3 || invalid[0].Line != 5 || invalid[0].Text != "pas un lien" || invalid[0].Message != "coverage.error.url" ||
		invalid[1].Line != 6 || invalid[1].Message != "coverage.error.url_scheme" || invalid[2].Line != 8 {
		t.Fatalf("invalid %+v", invalid)
	}
}

// covConfirmed registers person i at the event and returns the registration.
func covConfirmed(t *testing.T, a *app.App, ev *model.Event, i int) *model.Registration {
	t.Helper()
	res, err := a.Register(context.Background(), ev.ID, person(i))
	if err != nil {
		t.Fatal(err)
	}
	return res.Registration
}

func TestCoverageSubmitVerifyReject(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			ctx := context.Background()
			ev := regEvent(t, a, 1, model.ModeOpen)
			r := covConfirmed(t, a, ev, 1)
			waiting := covConfirmed(t, a, ev, 2)
			if waiting.Status != model.RegWaitlisted {
				t.Fatalf("second person: %s", waiting.Status)
			}
			if _, err := a.SubmitCoverageLinks(ctx, waiting, "https://x.com/a/status/1", ""); model.ErrorCode(err) != model.EForbidden {
				t.Fatalf("waitlisted may not submit: %v", err)
			}
			res, err := a.SubmitCoverageLinks(ctx, r, "https://www.facebook.com/p/1\nhttps://x.com/a/status/1\nnot a url", "1 500")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Added) != 2 || len(res.Invalid) != 1 || res.Added[0].Platform != "facebook" || res.Added[1].Reach != 1500 ||
				res.Added[0].Status != model.CoverageSubmitted || res.Added[0].SubmittedBy != model.SubmittedByBlogger {
				t.Fatalf("submission %+v", res)
			}
			res, err = a.SubmitCoverageLinks(ctx, r, "https://x.com/a/status/1", "")
			if err != nil || len(res.Added) != 0 || len(res.Duplicates) != 1 {
				t.Fatalf("again: %+v %v", res, err)
			}
			org := app.Actor{Name: "Orga"}
			c, err := a.SetCoverageStatus(ctx, org, ev.ID, covItemOn(t, a, ev, "facebook"), model.CoverageVerified)
			if err != nil || c.Status != model.CoverageVerified {
				t.Fatalf("verify: %+v %v", c, err)
			}
			c, err = a.SetCoverageStatus(ctx, org, ev.ID, covItemOn(t, a, ev, "x"), model.CoverageRejected)
			if err != nil || c.Status != model.CoverageRejected {
				t.Fatalf("reject: %+v %v", c, err)
			}
			if _, err := a.SetCoverageStatus(ctx, org, ev.ID+1000, c.ID, model.CoverageVerified); model.ErrorCode(err) != model.ENotFound {
				t.Fatalf("other event: %v", err)
			}
			// The organizer adds one by contact, and the duplicate is refused.
			added, err := a.AddCoverage(ctx, org, ev.ID, app.CoverageInput{ContactID: r.ContactID, URL: "youtu.be/abc", Reach: 900})
			if err != nil || added.Platform != "youtube" || added.Status != model.CoverageVerified || added.RegistrationID == nil ||
				*added.RegistrationID != r.ID || added.SubmittedBy != model.SubmittedByOrganizer {
				t.Fatalf("add: %+v %v", added, err)
			}
			if _, err := a.AddCoverage(ctx, org, ev.ID, app.CoverageInput{RegistrationID: r.ID, URL: "https://youtu.be/abc"}); model.ErrorCode(err) != model.EConflict {
				t.Fatalf("duplicate: %v", err)
			}
			if _, err := a.AddCoverage(ctx, org, ev.ID, app.CoverageInput{RegistrationID: r.ID, URL: "mailto:x@example.org"}); model.ErrorCode(err) != model.EInvalid {
				t.Fatalf("bad url: %v", err)
			}
			// Editing the address recognises the platform again and asks for a new check.
			u := "https://kafui.example.org/article"
			edited, err := a.UpdateCoverage(ctx, org, ev.ID, added.ID, app.CoveragePatch{URL: &u})
			if err != nil || edited.Platform != "blog" || edited.CheckStatus != model.CheckPending {
				t.Fatalf("edit: %+v %v", edited, err)
			}
			rep, err := a.EventReport(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Funnel.CoverageItems != 2 || rep.CoverageReach != 1500+900 || rep.Funnel.Published != 1 {
				t.Fatalf("report: %+v reach %d", rep.Funnel, rep.CoverageReach)
			}
		})
	}
}

// covItemOn returns the id of the event's only item on the platform.
func covItemOn(t *testing.T, a *app.App, ev *model.Event, platform string) int64 {
	t.Helper()
	rows, err := a.Store.ListCoverage(context.Background(), store.CoverageFilter{EventID: ev.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Platform == platform {
			return r.ID
		}
	}
	t.Fatalf("no %s item", platform)
	return 0
}

// covHitServer is a local page that counts the connections it receives.
func covHitServer(t *testing.T, network, addr string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<title>internal</title>"))
	}))
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, &hits
	}
	srv.Listener = ln
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			hits.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestCoverageCheckRefusesPrivateAddresses(t *testing.T) {
	v4, v4hits := covHitServer(t, "tcp4", "127.0.0.1:0")
	v6, v6hits := covHitServer(t, "tcp6", "[::1]:0")
	port := v4.Listener.Addr().(*net.TCPAddr).Port
	pc := app.NewPageChecker(false)
	pc.Timeout = 2 * time.Second
	// A name that resolves to loopback (as a rebinding DNS would answer).
	pc.LookupIP = func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "blog.rebind.example":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		case "mixed.rebind.example":
			return []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("::ffff:127.0.0.1")}, nil
		}
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	urls := []string{
		v4.URL + "/",
		fmt.Sprintf("http://blog.rebind.example:%d/", port),
		fmt.Sprintf("http://mixed.rebind.example:%d/", port),
		fmt.Sprintf("http://localhost:%d/", port),
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port),
		fmt.Sprintf("http://127.1.2.3:%d/", port),
		"http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
		"http://0.0.0.0/", "http://100.64.0.1/", "http://[fd00::1]/", "http://[fe80::1]/", "http://224.0.0.1/",
	}
	if v6 != nil {
		urls = append(urls, v6.URL+"/")
	} else {
		urls = append(urls, "http://[::1]:80/")
	}
	for _, u := range urls {
		start := time.Now()
		_, err := pc.Fetch(context.Background(), u)
		var refused *app.RefusedAddressError
		if !errors.As(err, &refused) {
			t.Errorf("%s: %v, want a refused address", u, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: refused after %s (it should not even try to connect)", u, d)
		}
	}
	if v4hits.Load() != 0 || v6hits.Load() != 0 {
		t.Fatalf("the local servers were reached: %d, %d connections", v4hits.Load(), v6hits.Load())
	}
	for _, ok := range []string{"93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"} {
		if !app.PublicAddress(netip.MustParseAddr(ok)) {
			t.Errorf("%s refused", ok)
		}
	}
}

// covPage serves an article about the event, a redirect chain to it, and a large page.
func covPage(t *testing.T, a *app.App, ev *model.Event) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/article", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>  Mon compte rendu
			de la session </title><meta property="og:title" content="ignored"><script>var t = "%s";</script></head>
			<body><h1>Retour sur « %s »</h1><p>Merci au ministère. <a href="%s/e/%s?utm_source=blog">La page de la session</a></p></body></html>`,
			"nope", strings.ToUpper(model.FoldText(ev.Title)), a.Config.BaseURL, ev.Slug)
	})
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<html><head><meta property="og:title" content="Titre OG"></head><body>Rien à voir. <a href="/e/` + ev.Slug + `">relative</a></body></html>`))
	})
	for i := 1; i <= 4; i++ {
		next := fmt.Sprintf("/r%d", i+1)
		if i == 4 {
			next = "/article"
		}
		mux.Handle(fmt.Sprintf("/r%d", i), http.RedirectHandler(next, http.StatusFound))
	}
	mux.HandleFunc("/missing", http.NotFound)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestCoverageCheckReadsAllowedLocalPage(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			a.Config.CoverageCheckAllowPrivate = true
			ctx := context.Background()
			ev := regEvent(t, a, 10, model.ModeOpen)
			ev.Title = "Les blogueurs à la découverte du réseau e-Gouvernement"
			if err := a.SaveEvent(ctx, app.Actor{Name: "test"}, ev); err != nil {
				t.Fatal(err)
			}
			srv := covPage(t, a, ev)
			r := covConfirmed(t, a, ev, 1)
			add := func(path string) *model.Coverage {
				t.Helper()
				c, err := a.AddCoverage(ctx, app.Actor{Name: "test"}, ev.ID, app.CoverageInput{RegistrationID: r.ID, URL: srv.URL + path})
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			c, err := a.CheckCoverage(ctx, add("/article").ID)
			if err != nil {
				t.Fatal(err)
			}
			if c.CheckStatus != model.CheckOK || c.PageTitle != "Mon compte rendu de la session" || !c.MentionsEvent || !c.LinksEvent || c.CheckedAt == nil {
				t.Fatalf("article: %+v", c)
			}
			c, _ = a.CheckCoverage(ctx, add("/plain").ID)
			if c.CheckStatus != model.CheckOK || c.PageTitle != "Titre OG" || c.MentionsEvent || c.LinksEvent {
				t.Fatalf("plain page (relative link to another host): %+v", c)
			}
			c, _ = a.CheckCoverage(ctx, add("/r2").ID) // three redirects: followed
			if c.CheckStatus != model.CheckOK || !c.MentionsEvent {
				t.Fatalf("three redirects: %+v", c)
			}
			c, _ = a.CheckCoverage(ctx, add("/r1").ID) // four: refused
			if c.CheckStatus != model.CheckError || !strings.Contains(c.CheckError, "redirects") {
				t.Fatalf("four redirects: %+v", c)
			}
			c, _ = a.CheckCoverage(ctx, add("/missing").ID)
			if c.CheckStatus != model.CheckError || !strings.Contains(c.CheckError, "404") {
				t.Fatalf("404: %+v", c)
			}
			// Without the setting, the same local page is refused.
			a.Config.CoverageCheckAllowPrivate = false
			c, _ = a.CheckCoverage(ctx, c.ID)
			if c.CheckStatus != model.CheckRefused || c.PageTitle != "" {
				t.Fatalf("private refused: %+v", c)
			}
		})
	}
}

func TestCoverageCheckWorkerClaimsEachItemOnce(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, now := regApp(t, driver)
			ctx := context.Background()
			ev := regEvent(t, a, 10, model.ModeOpen)
			r := covConfirmed(t, a, ev, 1)
			c, err := a.AddCoverage(ctx, app.Actor{Name: "test"}, ev.ID, app.CoverageInput{RegistrationID: r.ID, URL: "http://127.0.0.1:9/x"})
			if err != nil {
				t.Fatal(err)
			}
			due, err := a.Store.DueCoverageChecks(ctx, *now, 10)
			if err != nil || len(due) != 1 || due[0] != c.ID {
				t.Fatalf("due %v %v", due, err)
			}
			// Several instances claim at once: one wins.
			var wins atomic.Int64
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if ok, err := a.Store.ClaimCoverageCheck(ctx, c.ID, *now, now.Add(time.Minute), false); err != nil {
						t.Error(err)
					} else if ok {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("%d claims won", wins.Load())
			}
			if due, _ := a.Store.DueCoverageChecks(ctx, *now, 10); len(due) != 0 {
				t.Fatalf("claimed item still due: %v", due)
			}
			// A claim that expired (its worker died) is due again, and the worker finishes it.
			later := now.Add(2 * time.Minute)
			if due, _ := a.Store.DueCoverageChecks(ctx, later, 10); len(due) != 1 {
				t.Fatalf("expired claim not due: %v", due)
			}
			*now = later
			if n, err := a.CheckDueCoverage(ctx); err != nil || n != 1 {
				t.Fatalf("checked %d: %v", n, err)
			}
			if got, _ := a.Store.FindCoverage(ctx, c.ID); got.CheckStatus != model.CheckRefused || got.CheckedAt == nil {
				t.Fatalf("after the worker's pass: %+v", got)
			}
			if n, _ := a.CheckDueCoverage(ctx); n != 0 {
				t.Fatalf("checked again: %d", n)
			}
			// The worker stops with its context.
			wctx, cancel := context.WithCancel(ctx)
			cancel()
			if err := a.RunCoverageChecks(wctx, time.Hour); !errors.Is(err, context.Canceled) {
				t.Fatalf("worker: %v", err)
			}
		})
	}
}

func TestCoverageReportNumbers(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a, _ := regApp(t, driver)
			ctx := context.Background()
			ev := regEvent(t, a, 5, model.ModeOpen)
			ev.Timezone = "Africa/Lome"
			if err := a.SaveEvent(ctx, app.Actor{Name: "test"}, ev); err != nil {
				t.Fatal(err)
			}
			regs := make([]*model.Registration, 7)
			for i := range regs {
				in := person(i)
				if i < 3 {
					in.Channels = []model.ContactChannel{{Platform: "facebook", Handle: fmt.Sprintf("blog%d", i), Followers: 1000 * (i + 1)}}
				}
				if i == 3 {
					in.Channels = []model.ContactChannel{{Platform: "x", Handle: "@b3", Followers: 50}}
				}
				res, err := a.Register(ctx, ev.ID, in)
				if err != nil {
					t.Fatal(err)
				}
				regs[i] = res.Registration
			}
			// 5 confirmed, 2 waitlisted; one cancels and the first waiting takes the seat.
			if _, err := a.CancelRegistration(ctx, app.Actor{Name: "test"}, regs[4].ID); err != nil {
				t.Fatal(err)
			}
			db := a.Store.SQLDB()
			exec := func(q string, args ...any) {
				t.Helper()
				if driver == "postgres" {
					for i := 1; strings.Contains(q, "?"); i++ {
						q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
					}
				}
				if _, err := db.Exec(q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			day := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) } // Lomé is UTC
			for i, r := range regs {
				d := 10
				if i >= 3 {
					d = 12
				}
				exec("UPDATE registrations SET created_at = ? WHERE id = ?", day(d, 8+i, 0), r.ID)
			}
			// Three admissions, at 09:05 and 09:10 by the main door, 09:40 by door B,
			// which also scanned an admitted ticket again.
			admit := func(r *model.Registration, at time.Time, by, device, result, nonce string) {
				if result == "ok" {
					exec("UPDATE registrations SET checked_in_at = ?, checked_in_by = ?, checked_in_device = ? WHERE id = ?", at, by, device, r.ID)
				}
				exec("INSERT INTO check_ins (event_id, registration_id, action, result, scanned_at, device, actor_name, nonce, code, created_at) "+
					"VALUES (?, ?, 'in', ?, ?, ?, ?, ?, '', ?)", ev.ID, r.ID, result, at, device, by, nonce, at)
			}
			admit(regs[0], day(27, 9, 5), "Entrée principale", "phone-1", "ok", "n1")
			admit(regs[1], day(27, 9, 10), "Entrée principale", "phone-1", "ok", "n2")
			admit(regs[3], day(27, 9, 40), "Porte B", "laptop", "ok", "n3")
			admit(regs[3], day(27, 9, 41), "Porte B", "laptop", "already_checked_in", "n4")
			// Invitations: 3 sent (one accepted), one revoked.
			for i, st := range []string{store.InvitationSent, store.InvitationAccepted, store.InvitationDeclined, store.InvitationRevoked} {
				inv := &model.Invitation{EventID: ev.ID, ContactID: regs[i].ContactID, Token: fmt.Sprintf("tok%d-%d", ev.ID, i), Status: st}
				if err := a.Store.CreateInvitation(ctx, inv); err != nil {
					t.Fatal(err)
				}
			}
			// Coverage: two items by person 0, one by person 1 (rejected), one by person 3.
			org := app.Actor{Name: "test"}
			for _, it := range []struct {
				r      *model.Registration
				url    string
				reach  int
				status model.CoverageStatus
			}{{regs[0], "https://facebook.com/b0/1", 1000, model.CoverageVerified}, {regs[0], "https://b0.example.org/a", 2500, model.CoverageSubmitted},
				{regs[1], "https://x.com/b1/status/1", 500, model.CoverageRejected}, {regs[3], "https://x.com/b3/status/1", 700, model.CoverageVerified}} {
				if _, err := a.AddCoverage(ctx, org, ev.ID, app.CoverageInput{RegistrationID: it.r.ID, URL: it.url, Reach: it.reach, Status: it.status}); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := a.EventReport(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := app.Funnel{Invited: 3, Accepted: 1, Registered: 7, Confirmed: 5, Admitted: 3, Published: 2, CoverageItems: 3}
			if rep.Funnel != want {
				t.Fatalf("funnel %+v, want %+v", rep.Funnel, want)
			}
			if rep.NoShows != 2 || rep.AttendanceRate != 0.6 || rep.CoverageReach != 4200 {
				t.Fatalf("no-shows %d, rate %v, reach %d", rep.NoShows, rep.AttendanceRate, rep.CoverageReach)
			}
			if fmt.Sprint(rep.Registrations) != "map[cancelled:1 confirmed:5 pending:0 rejected:0 waitlisted:1]" {
				t.Fatalf("by status %v", rep.Registrations)
			}
			if fmt.Sprint(rep.RegistrationsPerDay) != "[{2026-11-10 3} {2026-11-11 0} {2026-11-12 4}]" {
				t.Fatalf("per day %v", rep.RegistrationsPerDay)
			}
			if rep.SlotMinutes != 15 || fmt.Sprint(rep.AdmissionsByTime) != "[{09:00 09:15 2} {09:15 09:30 0} {09:30 09:45 1}]" {
				t.Fatalf("by time (%d min) %v", rep.SlotMinutes, rep.AdmissionsByTime)
			}
			if fmt.Sprint(rep.Doors) != "[{Entrée principale phone-1 2 2} {Porte B laptop 1 2}]" {
				t.Fatalf("doors %v", rep.Doors)
			}
			// Platforms of confirmed registrants: facebook 0, 1, 2 (2 came, 1000+2000
			// followers among them); x: person 3 came (50).
			if fmt.Sprint(rep.Platforms) != "[{facebook 3 2 3000} {x 1 1 50}]" {
				t.Fatalf("platforms %v", rep.Platforms)
			}
		})
	}
}
