package main

import (
	"runtime/debug"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		mib        int
		gomemlimit string
		want       int64
	}{
		{48, "", 48 << 20},
		{0, "", 0},        // memory_limit_mib = 0: the runtime's own default (none)
		{48, "200MiB", 0}, // GOMEMLIMIT, applied by the runtime itself, wins
		{1024, "", 1 << 30},
	} {
		if got := memoryLimit(tc.mib, tc.gomemlimit); got != tc.want {
			t.Errorf("memoryLimit(%d, %q) = %d, want %d", tc.mib, tc.gomemlimit, got, tc.want)
		}
	}
}

func TestMemProfileRate(t *testing.T) {
	const def = 512 * 1024
	for _, tc := range []struct {
		pprof, godebug string
		want           int
	}{
		{"", "", 0}, // no pprof: heap profiles could not be read, so no sampling
		{"", "http2client=0", 0},
		{"127.0.0.1:6060", "", def},   // pprof served: the runtime's default
		{"", "memprofilerate=1", def}, // GODEBUG, applied by the runtime itself, wins
		{"", "http2client=0, memprofilerate=4096", def},
	} {
		if got := memProfileRate(tc.pprof, tc.godebug, def); got != tc.want {
			t.Errorf("memProfileRate(%q, %q) = %d, want %d", tc.pprof, tc.godebug, got, tc.want)
		}
	}
}

func TestLowerGCDuringStartup(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	restore := lowerGCDuringStartup("")
	if got := debug.SetGCPercent(startupGCPercent); got != startupGCPercent {
		t.Errorf("during start-up: GOGC %d, want %d", got, startupGCPercent)
	}
	restore()
	debug.SetGCPercent(7) // a later change is not undone by a second restore
	restore()
	if got := debug.SetGCPercent(100); got != 7 {
		t.Errorf("after restore: GOGC %d, want 7", got)
	}
	restore = lowerGCDuringStartup("50") // GOGC set: left alone
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set: %d, want 100", got)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, after restore: %d, want 100", got)
	}
}
