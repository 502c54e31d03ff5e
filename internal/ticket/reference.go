package ticket

import (
	"crypto/rand"
	"strings"
	"unicode"
)

// ReferenceAlphabet holds the characters of a short reference: upper-case
// letters and digits without the look-alike pairs 0/O, 1/I/L, 2/Z, 5/S and
// 8/B, so that a reference read aloud at a noisy door or copied from a
// blurred screen is typed right the first time.
const ReferenceAlphabet = "ACDEFGHJKMNPQRTUVWXY34679"

// ReferenceLength is the number of characters of a short reference:
// 25^6 ≈ 244 million values, plenty to tell the guests of one event apart.
// A reference is not a secret: the ticket code is.
const ReferenceLength = 6

// referenceCutoff is the largest multiple of len(ReferenceAlphabet) that
// fits in a byte: random bytes at or above it are thrown away, so that every
// character is drawn with probability exactly 1/25.
const referenceCutoff = 256 / len(ReferenceAlphabet) * len(ReferenceAlphabet)

// NewReference returns a new short reference of ReferenceLength characters
// drawn uniformly from ReferenceAlphabet with crypto/rand.
func NewReference() string {
	var ref [ReferenceLength]byte
	var random [2 * ReferenceLength]byte // about 2% of bytes are rejected
	for n := 0; n < len(ref); {
		_, _ = rand.Read(random[:]) // never fails, see NewCode
		n = fillReference(ref[:], n, random[:])
	}
	return string(ref[:])
}

// fillReference writes characters into ref from position n using the random
// bytes, skipping those at or above referenceCutoff, and returns the new n.
func fillReference(ref []byte, n int, random []byte) int {
	for _, r := range random {
		if n == len(ref) {
			break
		}
		if int(r) >= referenceCutoff {
			continue
		}
		ref[n] = ReferenceAlphabet[int(r)%len(ReferenceAlphabet)]
		n++
	}
	return n
}

// NormalizeReference reads a short reference as typed: it upper-cases it and
// drops spaces and dashes (so "acd-efg", "ACD EFG" and " acdefg " all
// match). It refuses, rather than guesses, any character outside
// ReferenceAlphabet: an "O" could stand for "Q" or for "0", and a wrong guess
// would admit someone else's ticket.
func NormalizeReference(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.Is(unicode.Pd, r):
			// Pd covers "-" and the dashes phones substitute for it.
			continue
		case 'a' <= r && r <= 'z':
			r -= 'a' - 'A'
		}
		if !strings.ContainsRune(ReferenceAlphabet, r) {
			return "", false
		}
		if b.Len() == ReferenceLength {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != ReferenceLength {
		return "", false
	}
	return b.String(), true
}

// FormatReference splits a reference in two groups of three, "ACD-EFG", to
// be read aloud or printed. Text that is not a reference is returned as is.
func FormatReference(ref string) string {
	canonical, ok := NormalizeReference(ref)
	if !ok {
		return ref
	}
	return canonical[:3] + "-" + canonical[3:]
}
