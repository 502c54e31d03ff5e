package app

import (
	"math"
	"runtime/debug"
	"sync"

	"golang.org/x/crypto/argon2"
)

// idKey is argon2.IDKey with the runtime's soft memory limit (memory_limit_mib, set by
// relais serve) raised by the hash's memory while it runs. The hash holds 64 MiB for a
// tenth of a second: under the limit, the collector would run without pause meanwhile,
// making sign-ins under load three times slower and every other request slower too.
func idKey(pw, salt []byte, time, memoryKiB uint32, threads uint8, keyLen uint32) []byte {
	if n := int64(memoryKiB) << 10; moveMemoryLimit(n) {
		defer moveMemoryLimit(-n)
	}
	return argon2.IDKey(pw, salt, time, memoryKiB, threads, keyLen)
}

var memoryLimitMu sync.Mutex

// moveMemoryLimit adds n bytes to the soft memory limit, if one is set, and reports
// whether it did.
func moveMemoryLimit(n int64) bool {
	memoryLimitMu.Lock()
	defer memoryLimitMu.Unlock()
	cur := debug.SetMemoryLimit(-1)
	if cur == math.MaxInt64 || (n > 0 && cur > math.MaxInt64-n) || cur+n <= 0 {
		return false
	}
	debug.SetMemoryLimit(cur + n)
	return true
}
