// Package ticket makes and reads what a registered guest carries to the door:
// the ticket code hidden in the QR, the short reference read aloud or typed
// when the QR cannot be scanned, the QR image itself and the calendar entry
// (an ICS file or a Google Calendar link) that reminds them to come.
package ticket

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// CodePrefix starts every ticket code, so that a door scanner can tell a
// Relais ticket from any other QR code (a URL, a Wi-Fi password…) before
// asking the server about it.
const CodePrefix = "RLS1-"

// codeBytes is 160 bits: far beyond guessing, and a multiple of 5 bits, so
// the base32 text has no padding and exactly one spelling per code.
const codeBytes = 20

// CodeLength is the length of a canonical ticket code: the prefix and 32
// base32 characters.
const CodeLength = len(CodePrefix) + codeBytes*8/5

// codeEncoding is RFC 4648 base32, upper case, without padding. Upper case
// matters beyond looks: prefix and alphabet then fit QR alphanumeric mode,
// which keeps the symbol at version 2 (25×25 modules), easy to scan from a
// cracked phone screen.
var codeEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewCode returns a new ticket code with 160 bits from crypto/rand, such as
// "RLS1-MZXW6YTBOI4DQNJSGE3TGMZXGI2DANBS".
func NewCode() string {
	var b [codeBytes]byte
	// crypto/rand.Read never returns an error (Go 1.24+): it crashes the
	// program rather than hand out predictable bytes.
	_, _ = rand.Read(b[:])
	return CodePrefix + codeEncoding.EncodeToString(b[:])
}

// ParseCode reads a ticket code as typed, pasted or sent by a scanner
// (surrounding spaces and a trailing newline removed, lower case accepted)
// and returns its canonical form. It reports false for anything that is not
// a well-formed Relais ticket code; whether the code exists is for the
// caller to find out.
func ParseCode(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) != CodeLength {
		return "", false
	}
	b := []byte(s)
	for i, c := range b {
		// ASCII only: strings.ToUpper would turn 'ı' into 'I' and 'ſ' into 'S'.
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	code := string(b)
	if !strings.HasPrefix(code, CodePrefix) {
		return "", false
	}
	for _, c := range []byte(code[len(CodePrefix):]) {
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return "", false
		}
	}
	return code, true
}
