package app

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"relais/internal/model"
)

// NormalizePhone parses a phone number the way people write them in Togo
// ("90 12 34 56", "+228 90 12 34 56", "0022890123456") and returns it in E.164.
func NormalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	n, err := phonenumbers.Parse(s, "TG")
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", false
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// FormatPhone writes an E.164 number for reading: "+228 90 12 34 56".
func FormatPhone(e164 string) string {
	n, err := phonenumbers.Parse(e164, "TG")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// ValidHTTPURL reports whether s is an absolute http(s) URL.
func ValidHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && len(s) <= 500
}

// NormalizeURL adds https:// to a bare host ("monblog.tg") and checks the result.
func NormalizeURL(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	return s, ValidHTTPURL(s) && strings.Contains(s[strings.Index(s, "://")+3:], ".")
}

// ContactInput is what a person tells about themselves on a form.
type ContactInput struct {
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Outlet    string
	BlogURL   string
	City      string
	Audience  string
	Channels  []model.ContactChannel // Handle or URL given; Platform set
}

// validate normalises the input and returns field errors keyed by form field name.
func (in *ContactInput) validate(f map[string]string) {
	for _, p := range []*string{&in.FirstName, &in.LastName, &in.Email, &in.Phone, &in.Outlet, &in.BlogURL, &in.City, &in.Audience} {
		*p = oneLineText(*p)
	}
	// An address or a number pasted from a web page or WhatsApp may carry invisible
	// characters (a zero width space, direction marks around "+228…"): they would make
	// a valid number refused, and an address no mail reaches, apart from the same one
	// already in the directory.
	for _, p := range []*string{&in.Email, &in.Phone, &in.BlogURL, &in.Audience} {
		*p = dropFormatChars(*p)
	}
	trim := func(p *string, field string, max int, required bool) {
		*p = strings.TrimSpace(*p)
		if *p == "" && required {
			f[field] = "error.required"
		} else if utf8.RuneCountInString(*p) > max {
			f[field] = "error.too_long"
		}
	}
	trim(&in.FirstName, "first_name", 100, true)
	trim(&in.LastName, "last_name", 100, true)
	trim(&in.Outlet, "outlet", 200, false)
	trim(&in.City, "city", 100, false)
	in.Email = model.NormalizeEmail(in.Email)
	if in.Email == "" {
		f["email"] = "error.required"
	} else if !model.ValidEmail(in.Email) {
		f["email"] = "error.email"
	}
	if p, ok := NormalizePhone(in.Phone); !ok {
		f["phone"] = "error.phone"
	} else {
		in.Phone = p
	}
	if u, ok := NormalizeURL(in.BlogURL); !ok {
		f["blog_url"] = "error.url_any"
	} else {
		in.BlogURL = u
	}
	in.Audience = strings.TrimSpace(in.Audience)
	if a := in.Audience; a != "" {
		if n, ok := parseCount(a); !ok {
			f["audience"] = "error.number"
		} else {
			in.Audience = itoa(n)
		}
	}
	var chans []model.ContactChannel
	for _, ch := range in.Channels {
		ch.Handle = strings.TrimSpace(oneLineText(ch.Handle))
		if ch.Handle == "" {
			continue
		}
		if !model.ValidPlatform(ch.Platform) {
			f["channel_"+ch.Platform] = "error.choice"
			continue
		}
		if utf8.RuneCountInString(ch.Handle) > 200 {
			f["channel_"+ch.Platform] = "error.too_long"
			continue
		}
		if strings.Contains(ch.Handle, "://") {
			if !ValidHTTPURL(ch.Handle) {
				f["channel_"+ch.Platform] = "error.url_any"
				continue
			}
			ch.URL = ch.Handle
		}
		chans = append(chans, ch)
	}
	in.Channels = chans
}

// maxCount bounds an audience or a reach: beyond it a number is a typo.
const maxCount = 2_000_000_000

// parseCount reads an audience the way people write it: "12000", "12 000", "12.000",
// "1,500", "1 500 000", "12k", "12 k", "1,5 M". Between digit groups a dot, a comma or
// a space (also a no-break or narrow no-break one) separates thousands, and so each
// group after the first must have exactly three digits; before a k or M suffix a dot or
// a comma is the decimal mark. What could be read two ways ("12.5", "1,50", "1.500,5")
// is refused rather than guessed: the form then asks for a whole number.
func parseCount(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	var v int64
	var ok bool
	switch {
	case strings.HasSuffix(s, "k"):
		v, ok = scaledCount(strings.TrimRightFunc(strings.TrimSuffix(s, "k"), isGroupSpace), 1e3)
	case strings.HasSuffix(s, "m"):
		v, ok = scaledCount(strings.TrimRightFunc(strings.TrimSuffix(s, "m"), isGroupSpace), 1e6)
	default:
		v, ok = groupedCount(s)
		if !ok {
			// A spreadsheet's "12000.0" or "12000,00": a whole number with one or two zero
			// decimals (three would read as a group of thousands).
			// The decimal mark must not also group the thousands ("1.000.00" is a typo).
			if i := strings.LastIndexAny(s, ".,"); i > 0 && (s[i+1:] == "0" || s[i+1:] == "00") &&
				!strings.ContainsRune(s[:i], rune(s[i])) {
				v, ok = groupedCount(s[:i])
			}
		}
	}
	if !ok || v > maxCount {
		return 0, false
	}
	return int(v), true
}

// isGroupSpace reports the spaces people put between digit groups: the plain one, and
// the no-break and narrow no-break ones that word processors and French keyboards type.
func isGroupSpace(r rune) bool { return r == ' ' || r == '\u00a0' || r == '\u202f' }

// groupedCount reads a whole number whose digits may be grouped by thousands, all with
// the same kind of separator (dots, commas or spaces): "12000", "12.000", "1 500 000".
func groupedCount(s string) (int64, bool) {
	var n int64
	var sep rune                   // the kind of separator, 0 before the first one
	digits := 0                    // in the current group
	groups := 0                    // separators seen
	lead := s != "" && s[0] == '0' // "0,500" is a decimal, not five hundred
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if n = n*10 + int64(r-'0'); n > maxCount {
				return 0, false
			}
			digits++
		case r == '.' || r == ',' || isGroupSpace(r):
			kind := r
			if isGroupSpace(r) {
				kind = ' '
			}
			if (sep != 0 && kind != sep) || digits == 0 || (groups == 0 && (digits > 3 || lead)) || (groups > 0 && digits != 3) {
				return 0, false
			}
			sep, digits = kind, 0
			groups++
		default:
			return 0, false
		}
	}
	return n, digits > 0 && (groups == 0 || digits == 3)
}

// scaledCount reads the number before a k or M suffix ("12", "1,5", "1.25") and
// multiplies it by unit; the result must be whole ("1.2345k" is refused).
func scaledCount(s string, unit int64) (int64, bool) {
	whole, frac, dec := s, "", false
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		whole, frac, dec = s[:i], s[i+1:], true
	}
	if whole == "" || (dec && frac == "") || len(whole) > 10 || len(frac) > 6 || !allDigits(whole) || !allDigits(frac) {
		return 0, false
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	v := w * unit
	if frac != "" {
		f, _ := strconv.ParseInt(frac, 10, 64)
		scale := int64(1)
		for range frac {
			scale *= 10
		}
		if f*unit%scale != 0 {
			return 0, false
		}
		v += f * unit / scale
	}
	return v, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
