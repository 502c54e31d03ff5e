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

// parseCount reads "12000", "12 000", "12k", "1,5 M" as a whole number.
func parseCount(s string) (int, bool) {
	s = strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), " ", ""), "\u00a0", ""))
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1e3, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1e6, strings.TrimSuffix(s, "m")
	}
	s = strings.ReplaceAll(s, ",", ".")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v*mult > 2e9 {
		return 0, false
	}
	return int(v * mult), true
}
