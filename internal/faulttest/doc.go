// Package faulttest holds Relais' fault tests: they build the relais binary, run it as
// real processes on real databases with an in-process SMTP server, and break things
// around it — kill -9 in the middle of a registration burst, an SMTP server that refuses
// or goes away, two instances on one PostgreSQL database, a SQLite file locked by
// another writer — then check that nothing acknowledged is lost, nothing is done twice,
// and nobody sees a 500.
//
// The package has no code of its own outside its tests. `go test -short` skips it.
package faulttest
