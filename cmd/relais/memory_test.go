package main

import "testing"

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
