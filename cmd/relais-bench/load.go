package main

import (
	"context"
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
	Extra      string  `json:"extra,omitempty"`
	FirstError string  `json:"first_error,omitempty"`
}

// burst runs fn from `clients` goroutines for d (or until max calls), timing each call.
func burst(ctx context.Context, clients int, d time.Duration, max int, fn func(client, i int) error) result {
	var mu sync.Mutex
	var lat []time.Duration
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
		P50: pct(0.50), P95: pct(0.95), P99: pct(0.99), FirstError: first}
}
