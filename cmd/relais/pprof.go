package main

import (
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
)

// getenvPprof returns RELAIS_PPROF_ADDR when it names a loopback address: profiles
// are never served to the network.
func getenvPprof() string {
	a := os.Getenv("RELAIS_PPROF_ADDR")
	if strings.HasPrefix(a, "127.0.0.1:") || strings.HasPrefix(a, "localhost:") {
		return a
	}
	return ""
}

func pprofMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}
