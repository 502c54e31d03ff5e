package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// evictFromPageCache writes bin to disk and drops its pages from the page cache, so that
// relais starts from the binary as an installed one does. A binary just written by go
// build has every page cached, and the kernel maps cached pages around each one touched:
// relais' memory at rest read 39.7–40.6 MB that way and 34.9 MB from a binary read back
// from disk (measured on the same binary, with the caches dropped).
func evictFromPageCache(bin string) error {
	f, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
