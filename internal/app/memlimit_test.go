package app

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestPasswordHashRaisesTheMemoryLimitWhileItRuns(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)

	// No limit: nothing moves.
	debug.SetMemoryLimit(math.MaxInt64)
	if moveMemoryLimit(1 << 20) {
		t.Fatal("moved a limit that was not set")
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit %d, want none", got)
	}

	const limit = 64 << 20
	debug.SetMemoryLimit(limit)
	if !moveMemoryLimit(8<<20) || debug.SetMemoryLimit(-1) != limit+8<<20 {
		t.Fatalf("limit %d, want %d", debug.SetMemoryLimit(-1), limit+8<<20)
	}
	moveMemoryLimit(-8 << 20)
	hash := hashPasswordWith("correct horse battery", 1024)
	if !CheckPassword(hash, "correct horse battery") || CheckPassword(hash, "wrong horse battery") {
		t.Fatal("hash and check disagree")
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Fatalf("limit %d after hashing, want %d back", got, limit)
	}
}
