//go:build linux && cgo

package main

/*
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

// relais_malloc_arenas caps the malloc arenas of glibc, where SQLite (C) allocates its
// page caches and prepared statements. By default glibc opens up to 8 arenas per core,
// one for each thread that first allocates while the others are busy, and what is freed
// in one arena serves no other: after a check-in burst 6 arenas held 11 MB where 2 held
// 6 MB. It runs when the program is loaded, before the Go runtime starts its threads
// (they allocate too, and take arenas). MALLOC_ARENA_MAX or GLIBC_TUNABLES, read by
// glibc itself, win.
__attribute__((constructor)) static void relais_malloc_arenas(void) {
#ifdef M_ARENA_MAX
	if (getenv("MALLOC_ARENA_MAX") != NULL || getenv("GLIBC_TUNABLES") != NULL) {
		return;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2) {
		n = 2;
	}
	if (n > 8) {
		n = 8;
	}
	mallopt(M_ARENA_MAX, (int)n);
#endif
}
*/
import "C"

// trimCHeap returns the free pages of glibc's arenas to the system (malloc_trim):
// start-up leaves some behind, freed by SQLite after migrations and the first queries.
func trimCHeap() { C.malloc_trim(0) }
