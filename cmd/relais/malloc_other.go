//go:build !linux || !cgo

package main

// trimCHeap has nothing to do without glibc (see malloc_cgo.go).
func trimCHeap() {}
