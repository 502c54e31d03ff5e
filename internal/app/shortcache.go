package app

import (
	"crypto/sha256"
	"sync"
	"time"
)

// shortCache keeps what the check-in API reads on every scan for a short while: door
// links and API tokens (keyed by the SHA-256 of the secret, so that a lookup leaks no
// timing of it) and events. Reading an API token on every scan cost a quarter to a third
// of a check-in's CPU. A revocation on this instance calls forget, which takes effect
// at once; another instance stops trusting an entry within its ttl.
type shortCache[K comparable, V any] struct {
	mu  sync.Mutex
	m   map[K]shortEntry[V]
	gen uint64 // bumped by each forget: a read that raced it is not kept
}

// credCache is a shortCache of credentials, by the SHA-256 of the secret.
type credCache[V any] = shortCache[[sha256.Size]byte, V]

type shortEntry[V any] struct {
	v     V
	until time.Time
}

// shortCacheMax bounds the map; past it, entries that ended are dropped, then all.
const shortCacheMax = 4096

// get returns the entry of key read less than its ttl ago, and the generation to pass
// to keep after reading it from the database.
func (c *shortCache[K, V]) get(key K, now time.Time) (v V, ok bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, found := c.m[key]; found && now.Before(e.until) {
		return e.v, true, c.gen
	}
	return v, false, c.gen
}

// keep stores v, read at generation gen, until now+ttl, unless a forget came between.
func (c *shortCache[K, V]) keep(key K, v V, gen uint64, now time.Time, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // something was revoked while v was read: it may be v
	}
	if c.m == nil {
		c.m = map[K]shortEntry[V]{}
	}
	if len(c.m) >= shortCacheMax {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= shortCacheMax {
			clear(c.m)
		}
	}
	c.m[key] = shortEntry[V]{v: v, until: now.Add(ttl)}
}

// update changes a kept entry in place (its expiry stays), if it is still there.
func (c *shortCache[K, V]) update(key K, fn func(*V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		fn(&e.v)
		c.m[key] = e
	}
}

// forget drops the entries match selects (all when match is nil), and makes the reads
// under way be thrown away.
func (c *shortCache[K, V]) forget(match func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.m {
		if match == nil || match(e.v) {
			delete(c.m, k)
		}
	}
}
