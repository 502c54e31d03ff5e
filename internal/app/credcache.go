package app

import (
	"crypto/sha256"
	"sync"
	"time"
)

// credCache keeps credentials read from the database (door links, API tokens) for a
// short while: a door sends its credential with every scan, and reading it each time
// cost about a seventh of a check-in. Entries are keyed by the SHA-256 of the secret,
// so a lookup leaks no timing of it. A revocation on this instance calls forget, which
// takes effect at once; another instance stops trusting the entry within its ttl.
type credCache[V any] struct {
	mu  sync.Mutex
	m   map[[sha256.Size]byte]credEntry[V]
	gen uint64 // bumped by each forget: a read that raced it is not kept
}

type credEntry[V any] struct {
	v     V
	until time.Time
}

// credCacheMax bounds the map; past it, entries that ended are dropped, then all.
const credCacheMax = 4096

// get returns the entry of key read less than its ttl ago, and the generation to pass
// to keep after reading it from the database.
func (c *credCache[V]) get(key [sha256.Size]byte, now time.Time) (v V, ok bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, found := c.m[key]; found && now.Before(e.until) {
		return e.v, true, c.gen
	}
	return v, false, c.gen
}

// keep stores v, read at generation gen, until now+ttl, unless a forget came between.
func (c *credCache[V]) keep(key [sha256.Size]byte, v V, gen uint64, now time.Time, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // something was revoked while v was read: it may be v
	}
	if c.m == nil {
		c.m = map[[sha256.Size]byte]credEntry[V]{}
	}
	if len(c.m) >= credCacheMax {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= credCacheMax {
			clear(c.m)
		}
	}
	c.m[key] = credEntry[V]{v: v, until: now.Add(ttl)}
}

// update changes a kept entry in place (its expiry stays), if it is still there.
func (c *credCache[V]) update(key [sha256.Size]byte, fn func(*V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		fn(&e.v)
		c.m[key] = e
	}
}

// forget drops the entries match selects (all when match is nil), and makes the reads
// under way be thrown away.
func (c *credCache[V]) forget(match func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.m {
		if match == nil || match(e.v) {
			delete(c.m, k)
		}
	}
}
