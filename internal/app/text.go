package app

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// oneLineText is what a one-line form field keeps of what was sent: valid UTF-8 (a
// stray byte becomes U+FFFD) without control characters (each becomes a space). Browsers
// send neither in a text box, but a crafted request can: PostgreSQL refuses NUL and
// invalid UTF-8 (a 500 instead of a form), and a line break in a name would make every
// email to that person unsendable (compose refuses header injection).
func oneLineText(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// multiLineText is oneLineText for a text area: line breaks and tabs stay (CR LF and
// CR become LF), other control characters go.
func multiLineText(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
