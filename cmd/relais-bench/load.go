package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// result is one measured burst.
type result struct {
	Scenario   string  `json:"scenario"`
	Database   string  `json:"database"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Throughput float64 `json:"throughput_per_s"`
	P50        float64 `json:"p50_ms"`
	P95        float64 `json:"p95_ms"`
	P99        float64 `json:"p99_ms"`
	PeakMB     float64 `json:"peak_mb,omitempty"`
	Floor      float64 `json:"floor_per_s,omitempty"`
	Ratio      float64 `json:"ratio_to_floor,omitempty"`
	CPUus      float64 `json:"relais_cpu_us_per_request,omitempty"`
	// The whole machine's CPU time per request (relais or the floor, the load generator,
	// the SMTP server, the database server) and how busy the machine was, 0–1.
	MachineUs      float64 `json:"machine_cpu_us_per_request,omitempty"`
	Busy           float64 `json:"machine_busy,omitempty"`
	FloorMachineUs float64 `json:"floor_machine_cpu_us_per_request,omitempty"`
	FloorBusy      float64 `json:"floor_machine_busy,omitempty"`
	Extra          string  `json:"extra,omitempty"`
	FirstError     string  `json:"first_error,omitempty"`
	// Each request's start, from the burst's, and duration, in the order they ended
	// (-latencies writes them out).
	samples []sample
}

type sample struct{ at, took time.Duration }

// burst runs fn from `clients` goroutines for d (or until max calls), timing each call.
func burst(ctx context.Context, clients int, d time.Duration, max int, fn func(client, i int) error) result {
	var mu sync.Mutex
	var lat []time.Duration
	var samples []sample
	var errs int
	var first string
	var next int
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if max > 0 && i >= max {
					return
				}
				t0 := time.Now()
				err := fn(c, i)
				el := time.Since(t0)
				mu.Lock()
				lat = append(lat, el)
				samples = append(samples, sample{t0.Sub(start), el})
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
				}
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000
	}
	return result{Requests: len(lat), Errors: errs, Throughput: float64(len(lat)-errs) / elapsed.Seconds(),
		P50: pct(0.50), P95: pct(0.95), P99: pct(0.99), FirstError: first, samples: samples}
}

// floors sets r's floor (the mean of the runs before and after it) and its ratio to it,
// and notes both runs and the machine's CPU time per request in relais' run and in the
// floor's.
func (r *result) floors(before, after result) {
	r.Floor = (before.Throughput + after.Throughput) / 2
	r.Ratio = r.Throughput / r.Floor
	r.FloorMachineUs = (before.MachineUs + after.MachineUs) / 2
	r.FloorBusy = (before.Busy + after.Busy) / 2
	r.Extra += fmt.Sprintf("; floor %.0f/s before, %.0f/s after; machine CPU %.0f µs per request (floor %.0f µs), machine %.0f%% busy (floor %.0f%%)",
		before.Throughput, after.Throughput, r.MachineUs, r.FloorMachineUs, 100*r.Busy, 100*r.FloorBusy)
}
