package main

import (
	"runtime/debug"
	"strings"
	"sync"
)

// memProfileRate returns the heap profile's sampling rate: current (the runtime's
// default, one sample per 512 KiB allocated) when pprof is served or when
// GODEBUG=memprofilerate=… sets it, else 0 (off).
//
// Heap profiles are only read through pprof, which relais serves only when
// RELAIS_PPROF_ADDR names a loopback address (pprof.go). Without it, sampling
// allocations for them is of no use and keeps a record per sampled call stack for the
// life of the process.
func memProfileRate(pprofAddr, godebug string, current int) int {
	if pprofAddr != "" {
		return current
	}
	for _, kv := range strings.Split(godebug, ",") {
		if strings.HasPrefix(strings.TrimSpace(kv), "memprofilerate=") {
			return current
		}
	}
	return 0
}

// startupGCPercent is the collector's target while serve starts, unless GOGC is set.
// Start-up allocates ~10 MB, nearly all of it garbage (catalogues, templates and
// migrations parsed and checked); collecting more often packs what it keeps into
// fewer spans, ~1 MB less heap at rest for a few more milliseconds of start-up.
const startupGCPercent = 25

// lowerGCDuringStartup sets the collector's target to startupGCPercent unless GOGC is
// set, and returns the function that puts the previous one back (once, however often
// it is called).
func lowerGCDuringStartup(gogc string) (restore func()) {
	if gogc != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(startupGCPercent)
	return sync.OnceFunc(func() { debug.SetGCPercent(prev) })
}

// releaseMemory collects the garbage and hands free memory back to the system: Go's
// (debug.FreeOSMemory) and the C allocator's, where SQLite keeps its memory.
func releaseMemory() {
	debug.FreeOSMemory()
	trimCHeap()
}
