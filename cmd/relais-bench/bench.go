package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

const defaultDuration = 10 * time.Second

type options struct {
	Duration time.Duration
	Clients  int
	Tickets  int
	OutDir   string
	Postgres string
	NoSQLite bool
	Only     string
	Binary   string
	Profile  string
	// Latencies writes, for each result, one line per request: when it started in the
	// burst and how long it took, in milliseconds. Where in a burst the slow answers
	// fall (its start, a stall, a phase) tells what a p99 is made of.
	Latencies bool
}

func (o options) want(s string) bool {
	return o.Only == "" || strings.Contains(","+o.Only+",", ","+s+",")
}

// database is one of the databases to measure: Relais' own and the floor's.
type database struct {
	name, relaisURL, floorDriver, floorDSN string
}

func randHex() string {
	b := make([]byte, 5)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func bench(ctx context.Context, o options, out io.Writer) error {
	work, err := os.MkdirTemp("", "relais-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := o.Binary
	if bin == "" {
		fmt.Fprintln(out, "building relais…")
		if bin, err = buildRelais(ctx, work); err != nil {
			return err
		}
	}
	smtpSrv, err := startSMTP()
	if err != nil {
		return err
	}
	defer smtpSrv.close()
	dbs := []database{{name: "sqlite", relaisURL: "sqlite:" + filepath.Join(work, "relais.db"),
		floorDriver: "sqlite", floorDSN: filepath.Join(work, "floor.db")}}
	if o.Postgres != "" {
		if admin, err := sql.Open("pgx", o.Postgres); err == nil && admin.PingContext(ctx) == nil {
			suffix := randHex()
			names := []string{"relais_bench_" + suffix, "relais_bench_floor_" + suffix}
			for _, n := range names {
				if _, err := admin.Exec("CREATE DATABASE " + n); err != nil {
					return err
				}
			}
			defer func() {
				for _, n := range names {
					admin.Exec("DROP DATABASE IF EXISTS " + n + " WITH (FORCE)")
				}
				admin.Close()
			}()
			u, _ := url.Parse(o.Postgres)
			u.Path = "/" + names[0]
			f := *u
			f.Path = "/" + names[1]
			dbs = append(dbs, database{name: "postgres", relaisURL: u.String(), floorDriver: "postgres", floorDSN: f.String()})
			if o.NoSQLite {
				dbs = dbs[len(dbs)-1:]
			}
		} else {
			fmt.Fprintln(out, "PostgreSQL not reachable: SQLite only")
		}
	}
	var results []result
	var notes []string
	if o.NoSQLite && dbs[0].name != "postgres" {
		return fmt.Errorf("-no-sqlite: PostgreSQL (-postgres %q) is not reachable", o.Postgres)
	}
	for _, db := range dbs {
		rs, ns, err := benchDatabase(ctx, o, bin, work, smtpSrv, db, out)
		results = append(results, rs...)
		notes = append(notes, ns...)
		if err != nil {
			return fmt.Errorf("%s: %w", db.name, err)
		}
	}
	table := markdown(results, notes)
	fmt.Fprintln(out)
	fmt.Fprint(out, table)
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	js, _ := json.MarshalIndent(map[string]any{"when": time.Now().UTC(), "machine": machine(), "options": o,
		"results": results, "notes": notes}, "", "  ")
	stamp := time.Now().UTC().Format("20060102-150405")
	file := filepath.Join(o.OutDir, "bench-"+stamp+".json")
	if err := os.WriteFile(file, js, 0o644); err != nil {
		return err
	}
	if o.Latencies {
		for _, r := range results {
			if len(r.samples) == 0 {
				continue // the campaign: no requests of its own
			}
			var b strings.Builder
			b.WriteString("start_ms\tduration_ms\n")
			for _, s := range r.samples {
				fmt.Fprintf(&b, "%.3f\t%.3f\n", float64(s.at.Microseconds())/1000, float64(s.took.Microseconds())/1000)
			}
			name := strings.ToLower(strings.Join(strings.Fields(r.Scenario), "-")) + "-" + r.Database
			if err := os.WriteFile(filepath.Join(o.OutDir, "latencies-"+stamp+"-"+name+".tsv"), []byte(b.String()), 0o644); err != nil {
				return err
			}
		}
	}
	os.WriteFile(filepath.Join(o.OutDir, "latest.md"), []byte(table), 0o644)
	fmt.Fprintln(out, "\nresults written to", file)
	return nil
}

func machine() string {
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPU, %s %s/%s", cpu, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// benchDatabase runs every scenario against one database.
func benchDatabase(ctx context.Context, o options, bin, work string, smtpSrv *smtpCounter, db database, out io.Writer) ([]result, []string, error) {
	fmt.Fprintf(out, "\n== %s ==\n", db.name)
	env := map[string]string{"RELAIS_DATABASE": db.relaisURL, "RELAIS_SMTP_URL": smtpSrv.url()}
	if o.Profile != "" {
		port, err := freePort()
		if err != nil {
			return nil, nil, err
		}
		env["RELAIS_PPROF_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
		if err := os.MkdirAll(o.Profile, 0o755); err != nil {
			return nil, nil, err
		}
	}
	p, err := startRelais(ctx, bin, work, env)
	if err != nil {
		return nil, nil, err
	}
	defer p.stop()
	var results []result
	var notes []string
	time.Sleep(2 * time.Second)
	notes = append(notes, fmt.Sprintf("%s: relais RSS at rest after start-up: %.1f MB", db.name, p.rssMB()))
	email := "bench-" + randHex() + "@bench.invalid"
	if _, err := p.cli(ctx, "user", "add", "--email", email, "--name", "Bench", "--role", "admin", "--password", "bench password 2017"); err != nil {
		return nil, nil, err
	}
	tokOut, err := p.cli(ctx, "token", "create", "--email", email, "--name", "bench")
	if err != nil {
		return nil, nil, err
	}
	lines := strings.Fields(tokOut)
	token := lines[len(lines)-1]
	hc := newHTTPClient(false)
	newEvent := func(title string) (int64, string, error) {
		start := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Hour)
		var ev struct {
			ID   int64
			Slug string
		}
		err := api(hc, "POST", p.base+"/api/v1/events", token, map[string]any{"title": title, "starts_at": start,
			"ends_at": start.Add(3 * time.Hour), "capacity": 0, "status": "published", "venue_name": "Lomé"}, &ev)
		return ev.ID, ev.Slug, err
	}
	waitMail := func(target int64, limit time.Duration) (time.Duration, bool) {
		t0 := time.Now()
		for time.Since(t0) < limit {
			if smtpSrv.count.Load() >= target {
				return time.Since(t0), true
			}
			time.Sleep(20 * time.Millisecond)
		}
		return time.Since(t0), false
	}
	floor, err := startFloor(db.floorDriver, db.floorDSN, 2*o.Tickets) // a set of tickets per check-in floor run
	if err != nil {
		return nil, nil, fmt.Errorf("floor: %w", err)
	}
	defer floor.close()

	if o.want("registration") {
		_, slug, err := newEvent("Inscriptions " + randHex())
		if err != nil {
			return nil, nil, err
		}
		page := p.base + "/e/" + slug
		clients := make([]*http.Client, o.Clients)
		tokens := make([]string, o.Clients)
		for i := range clients {
			clients[i] = newHTTPClient(true)
			if tokens[i], err = formToken(clients[i], page); err != nil {
				return nil, nil, err
			}
		}
		// The floor runs just before and just after relais' burst, half as long each, and
		// their mean is the figure: a single run caught the machine's moods.
		run := randHex()
		regFloor := func(tag string) result {
			m := startMachineMeter()
			r := burst(ctx, o.Clients, o.Duration/2, 0, func(c, i int) error {
				res, err := postForm(hc, floor.base+"/register", url.Values{"email": {fmt.Sprintf("f%s%s-%d@bench.invalid", run, tag, i)}})
				if err == nil && res.StatusCode != http.StatusSeeOther {
					err = fmt.Errorf("status %d", res.StatusCode)
				}
				return err
			})
			r.MachineUs, r.Busy = m.per(r.Requests - r.Errors)
			return r
		}
		flBefore := regFloor("b")
		before := smtpSrv.count.Load()
		p.resetPeak()
		prof := p.profile(o.Profile, "registration-"+db.name, o.Duration)
		cpu0, machine := p.cpuSeconds(), startMachineMeter()
		r := burst(ctx, o.Clients, o.Duration, 0, func(c, i int) error {
			res, err := postForm(clients[c], page+"/register", url.Values{"_csrf": {tokens[c]}, "first_name": {"Blog"},
				"last_name": {fmt.Sprint(i)}, "email": {fmt.Sprintf("r%s-%d@bench.invalid", run, i)}, "consent": {"yes"}})
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/t/") {
				return fmt.Errorf("status %d", res.StatusCode)
			}
			return nil
		})
		during := smtpSrv.count.Load() - before
		drain, ok := waitMail(before+int64(r.Requests-r.Errors), 120*time.Second)
		cpu := p.cpuSeconds() - cpu0 // the registrations and their confirmations
		r.MachineUs, r.Busy = machine.per(r.Requests - r.Errors)
		prof()
		r.Scenario, r.Database, r.PeakMB = "registration POST", db.name, p.peakMB()
		r.CPUus = cpu / float64(max(r.Requests-r.Errors, 1)) * 1e6
		r.Extra = fmt.Sprintf("last confirmation email %.2f s after the burst (%d of %d sent during it); relais CPU %.0f µs per registration with its email",
			drain.Seconds(), during, r.Requests-r.Errors, r.CPUus)
		if !ok {
			r.Extra = fmt.Sprintf("confirmation emails NOT all delivered within %.0f s; ", drain.Seconds()) + r.Extra
		}
		flAfter := regFloor("a")
		r.floors(flBefore, flAfter)
		results = append(results, r)
		fmt.Fprintf(out, "registration: %.0f/s (floor %.0f/s) p99 %.1f ms, %d errors; %s\n", r.Throughput, r.Floor, r.P99, r.Errors, r.Extra)
	}

	var campaignEvent int64
	if o.want("checkin") || o.want("campaign") {
		evID, _, err := newEvent("Accueil " + randHex())
		if err != nil {
			return nil, nil, err
		}
		campaignEvent = evID
		before := smtpSrv.count.Load()
		t0 := time.Now()
		seed := burst(ctx, o.Clients, time.Hour, o.Tickets, func(c, i int) error {
			return api(hc, "POST", fmt.Sprintf("%s/api/v1/events/%d/registrations", p.base, evID), token,
				map[string]any{"first_name": "Invité", "last_name": fmt.Sprint(i), "email": fmt.Sprintf("t%d-%s@bench.invalid", i, randHex())}, nil)
		})
		if seed.Errors > 0 {
			return nil, nil, fmt.Errorf("creating tickets: %d errors, first: %s", seed.Errors, seed.FirstError)
		}
		notes = append(notes, fmt.Sprintf("%s: %d registrations created through the API in %.1f s (%.0f/s)", db.name, o.Tickets, time.Since(t0).Seconds(), seed.Throughput))
		if _, ok := waitMail(before+int64(o.Tickets), 300*time.Second); !ok {
			return nil, nil, fmt.Errorf("confirmation emails of the seeded tickets not delivered")
		}
		if o.want("checkin") {
			var roster struct {
				Registrations []struct{ Code string } `json:"registrations"`
			}
			if err := api(hc, "GET", fmt.Sprintf("%s/api/v1/events/%d/roster", p.base, evID), token, nil, &roster); err != nil {
				return nil, nil, err
			}
			codes := make([]string, 0, len(roster.Registrations))
			for _, r := range roster.Registrations {
				codes = append(codes, r.Code)
			}
			if len(codes) < o.Tickets {
				return nil, nil, fmt.Errorf("roster has %d codes", len(codes))
			}
			scans := o.Tickets + o.Tickets/20
			pick := func(i int) int {
				if i%21 == 20 { // about 5% repeated scans
					return (i - 1) * 20 / 21
				}
				return i * 20 / 21
			}
			// The floor scans its own tickets just before and just after relais' burst (a
			// set of tickets each), and their mean is the figure.
			checkinFloor := func(set int) result {
				m := startMachineMeter()
				r := burst(ctx, o.Clients, 5*time.Minute, scans, func(c, i int) error {
					code := fmt.Sprintf(`{"code":"FLOOR-%08d"}`, set*o.Tickets+pick(i)%o.Tickets)
					req, _ := http.NewRequest("POST", floor.base+"/checkin", strings.NewReader(code))
					req.Header.Set("Content-Type", "application/json")
					res, err := hc.Do(req)
					if err != nil {
						return err
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					return nil
				})
				r.MachineUs, r.Busy = m.per(r.Requests - r.Errors)
				return r
			}
			// The registration floor's rows may have left the floor's SQLite log long: its
			// first check-in run then paid for copying it back (a third of its usual pace).
			floor.settle()
			flBefore := checkinFloor(0)
			p.resetPeak()
			prof := p.profile(o.Profile, "checkin-"+db.name, 2*time.Second)
			cpu0, machine := p.cpuSeconds(), startMachineMeter()
			var mu sync.Mutex
			oks := 0
			r := burst(ctx, o.Clients, 5*time.Minute, scans, func(c, i int) error {
				var res struct{ Result string }
				err := api(hc, "POST", fmt.Sprintf("%s/api/v1/events/%d/checkins", p.base, evID), token,
					map[string]any{"code": codes[pick(i)%len(codes)], "nonce": fmt.Sprintf("n-%d-%s", i, randHex()), "device": fmt.Sprintf("porte %d", c)}, &res)
				if err == nil && res.Result != "ok" && res.Result != "already_checked_in" {
					err = fmt.Errorf("result %s", res.Result)
				}
				if res.Result == "ok" {
					mu.Lock()
					oks++
					mu.Unlock()
				}
				return err
			})
			r.CPUus = (p.cpuSeconds() - cpu0) / float64(max(r.Requests, 1)) * 1e6
			r.MachineUs, r.Busy = machine.per(r.Requests)
			prof()
			r.Scenario, r.Database, r.PeakMB = "check-in POST", db.name, p.peakMB()
			r.Extra = fmt.Sprintf("%d admitted, %d repeated scans; relais CPU %.0f µs per scan", oks, scans-oks, r.CPUus)
			flAfter := checkinFloor(1)
			r.floors(flBefore, flAfter)
			results = append(results, r)
			fmt.Fprintf(out, "check-in: %.0f/s (floor %.0f/s) p99 %.1f ms, %d errors; %s\n", r.Throughput, r.Floor, r.P99, r.Errors, r.Extra)
		}
	}

	if o.want("pages") {
		_, slug, err := newEvent("Page publique " + randHex())
		if err != nil {
			return nil, nil, err
		}
		for _, pg := range []struct{ name, path string }{{"event page GET", "/e/" + slug}, {"home page GET", "/"}} {
			p.resetPeak()
			prof := p.profile(o.Profile, strings.Fields(pg.name)[0]+"-"+db.name, o.Duration/2)
			r := burst(ctx, o.Clients, o.Duration/2, 0, func(c, i int) error {
				req, _ := http.NewRequest("GET", p.base+pg.path, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				res, err := hc.Do(req)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					return fmt.Errorf("status %d", res.StatusCode)
				}
				return nil
			})
			prof()
			size, _ := compressedSize(p.base + pg.path)
			css, _ := compressedSize(p.base + "/static/relais.css")
			r.Scenario, r.Database, r.PeakMB = pg.name, db.name, p.peakMB()
			r.Extra = fmt.Sprintf("%.1f KB compressed with its CSS (page %d B + CSS %d B)", float64(size+css)/1024, size, css)
			results = append(results, r)
			fmt.Fprintf(out, "%s: %.0f/s p99 %.1f ms; %s\n", pg.name, r.Throughput, r.P99, r.Extra)
		}
	}

	if o.want("campaign") && campaignEvent != 0 {
		var camp struct{ ID int64 }
		err := api(hc, "POST", fmt.Sprintf("%s/api/v1/events/%d/campaigns", p.base, campaignEvent), token,
			map[string]any{"segment": "registered", "subject": "Merci {first_name}", "body": "Bonjour {first_name},\n\nMerci pour votre inscription à **{event_title}**."}, &camp)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: campaign scenario skipped: %v", db.name, err))
		} else {
			// The bare loop runs just before and just after the campaign, and their mean is
			// the floor: a loop of a second or so, run once, caught the machine's moods.
			bareLoop := func() (result, error) {
				m := startMachineMeter()
				rate, err := smtpFloor(smtpSrv.addr, 3000)
				r := result{Throughput: rate}
				r.MachineUs, r.Busy = m.per(3000)
				return r, err
			}
			flBefore, err := bareLoop()
			if err != nil {
				return nil, nil, err
			}
			before := smtpSrv.count.Load()
			p.resetPeak()
			prof := p.profile(o.Profile, "campaign-"+db.name, 4*time.Second)
			cpu0, machine := p.cpuSeconds(), startMachineMeter()
			t0 := time.Now()
			if err := api(hc, "POST", fmt.Sprintf("%s/api/v1/campaigns/%d/send", p.base, camp.ID), token, map[string]any{}, nil); err != nil {
				return nil, nil, err
			}
			queued := time.Since(t0)
			el, ok := waitMail(before+int64(o.Tickets), 600*time.Second)
			el += queued
			cpu := p.cpuSeconds() - cpu0
			r := result{Scenario: "campaign 10k", Database: db.name, Requests: o.Tickets, Throughput: float64(o.Tickets) / el.Seconds(), PeakMB: p.peakMB(),
				CPUus: cpu / float64(o.Tickets) * 1e6}
			r.MachineUs, r.Busy = machine.per(o.Tickets)
			prof()
			r.Extra = fmt.Sprintf("send click answered in %.2f s; last message delivered %.1f s after the click; relais CPU %.0f µs per message, relais %.0f%% of a core",
				queued.Seconds(), el.Seconds(), r.CPUus, 100*cpu/el.Seconds())
			if !ok {
				r.Extra = "NOT all delivered: " + r.Extra
			}
			flAfter, err := bareLoop()
			if err != nil {
				return nil, nil, err
			}
			r.floors(flBefore, flAfter)
			results = append(results, r)
			fmt.Fprintf(out, "campaign: %.0f msgs/s (bare SMTP loop %.0f/s); %s\n", r.Throughput, r.Floor, r.Extra)
		}
	}
	notes = append(notes, fmt.Sprintf("%s: relais RSS at the end: %.1f MB", db.name, p.rssMB()))
	return results, notes, nil
}

func markdown(rs []result, notes []string) string {
	var b strings.Builder
	b.WriteString("| scenario | db | req | errors | throughput/s | p50 ms | p95 ms | p99 ms | peak MB | floor/s | ratio | notes |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rs {
		floor, ratio := "–", "–"
		if r.Floor > 0 {
			floor, ratio = fmt.Sprintf("%.0f", r.Floor), fmt.Sprintf("%.0f%%", r.Ratio*100)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %s | %s | %s |\n", r.Scenario, r.Database,
			r.Requests, r.Errors, r.Throughput, r.P50, r.P95, r.P99, r.PeakMB, floor, ratio, r.Extra)
	}
	for _, n := range notes {
		b.WriteString("\n- " + n)
	}
	b.WriteString("\n")
	return b.String()
}
