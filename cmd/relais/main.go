// Command relais runs the Relais web service and its administration commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func main() {
	// First, before any start-up allocation (the imported packages' initialisation,
	// which comes before main, is sampled at the default rate): see memProfileRate.
	runtime.MemProfileRate = memProfileRate(getenvPprof(), os.Getenv("GODEBUG"), runtime.MemProfileRate)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "relais:", err)
		os.Exit(1)
	}
}
