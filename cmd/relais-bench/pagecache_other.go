//go:build !linux

package main

// evictFromPageCache does nothing here: the figures of docs/performance.md come from Linux.
func evictFromPageCache(bin string) error { return nil }
