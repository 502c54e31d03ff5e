package model

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// CoverageStatus is where an organizer stands on a coverage item.
type CoverageStatus string

const (
	CoverageSubmitted CoverageStatus = "submitted"
	CoverageVerified  CoverageStatus = "verified"
	CoverageRejected  CoverageStatus = "rejected"
)

// Valid reports whether s is a known coverage status.
func (s CoverageStatus) Valid() bool {
	return s == CoverageSubmitted || s == CoverageVerified || s == CoverageRejected
}

// Who submitted a coverage item.
const (
	SubmittedByBlogger   = "blogger"
	SubmittedByOrganizer = "organizer"
)

// Results of the background check of a coverage page.
const (
	CheckPending  = ""         // not checked yet
	CheckChecking = "checking" // claimed by a worker
	CheckOK       = "ok"       // fetched
	CheckRefused  = "refused"  // the address is private, loopback, link-local…
	CheckError    = "error"    // unreachable, timed out, HTTP error
	CheckSkipped  = "skipped"  // not to be fetched (fictional demo links)
)

// Coverage is one thing a blogger published about an event: a post, a video, an
// article. Reach is what the blogger or the organizer declared (views, followers).
type Coverage struct {
	ID                int64          `json:"id"`
	EventID           int64          `json:"event_id"`
	ContactID         int64          `json:"contact_id"`
	RegistrationID    *int64         `json:"registration_id"`
	URL               string         `json:"url" gorm:"column:url"`
	Platform          string         `json:"platform"`
	Title             string         `json:"title"`
	PublishedAt       *time.Time     `json:"published_at"`
	Reach             int            `json:"reach"`
	SubmittedBy       string         `json:"submitted_by"`
	SubmittedByUser   *int64         `json:"submitted_by_user"`
	Status            CoverageStatus `json:"status"`
	CheckStatus       string         `json:"check_status"`
	CheckClaimedUntil *time.Time     `json:"-"`
	CheckedAt         *time.Time     `json:"checked_at"`
	PageTitle         string         `json:"page_title"`
	MentionsEvent     bool           `json:"mentions_event"`
	LinksEvent        bool           `json:"links_event"`
	CheckError        string         `json:"check_error,omitempty"`
	CreatedAt         time.Time      `json:"created_at"`
	UpdatedAt         time.Time      `json:"updated_at"`
}

// Coverage limits.
const (
	MaxCoverageURL   = 2000
	MaxCoverageTitle = 300
	MaxReach         = 1000000000
	// MaxCoverageLinks is how many links one submission may carry.
	MaxCoverageLinks = 20
)

// Validate checks the fields an organizer may edit; the URL must already be normalised.
func (c *Coverage) Validate() *Error {
	f := map[string]string{}
	if c.URL == "" {
		f["url"] = "error.required"
	} else if _, err := NormalizeCoverageURL(c.URL); err != "" {
		f["url"] = err
	}
	if !ValidPlatform(c.Platform) {
		f["platform"] = "error.choice"
	}
	if tooLong(c.Title, MaxCoverageTitle) {
		f["title"] = "error.too_long"
	}
	if c.Reach < 0 || c.Reach > MaxReach {
		f["reach"] = "coverage.error.reach"
	}
	if !c.Status.Valid() {
		f["status"] = "error.choice"
	}
	if len(f) > 0 {
		return FieldErrors(f)
	}
	return nil
}

// trackingParams are query parameters that only say where a click came from: two
// copies of a link that differ by them are the same publication.
var trackingParams = []string{"fbclid", "gclid", "igshid", "igsh", "mibextid"}

// NormalizeCoverageURL turns what a blogger pasted into the address stored for a
// coverage item: "https://" is added when the scheme is missing, the scheme and host
// are lower-cased, the fragment and tracking parameters (utm_*, fbclid…) are dropped,
// so that the same post pasted twice is recognised. It returns a message key (for
// example "coverage.error.url") when the text is not a web address.
func NormalizeCoverageURL(raw string) (string, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", "error.required"
	}
	if len(s) > MaxCoverageURL {
		return "", "coverage.error.url_long"
	}
	if strings.ContainsAny(s, " \t\r\n<>\"") {
		return "", "coverage.error.url"
	}
	if !strings.Contains(s, "://") {
		if strings.Contains(s, ":") && !strings.Contains(strings.SplitN(s, "/", 2)[0], ".") {
			return "", "coverage.error.url_scheme" // mailto:, javascript:, …
		}
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", "coverage.error.url"
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "coverage.error.url_scheme"
	}
	if u.User != nil || u.Opaque != "" {
		return "", "coverage.error.url"
	}
	host := strings.ToLower(u.Hostname())
	if !validCoverageHost(host) {
		return "", "coverage.error.url"
	}
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, "utm_") {
				q.Del(k)
			}
			for _, t := range trackingParams {
				if lk == t {
					q.Del(k)
				}
			}
		}
		u.RawQuery = q.Encode()
	}
	if u.Path == "/" && u.RawQuery == "" {
		u.Path = ""
	}
	return u.String(), ""
}

// validCoverageHost accepts an IP address, "localhost" (refused later by the page
// check, never by the form) or a domain name with a dot and plain labels.
func validCoverageHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil || h == "localhost" {
		return true
	}
	if !strings.Contains(strings.Trim(h, "."), ".") {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r > 127) {
				return false
			}
		}
	}
	return true
}

// platformHosts maps the domains of the platforms bloggers publish on to a platform.
var platformHosts = []struct{ domain, platform string }{
	{"facebook.com", "facebook"}, {"fb.com", "facebook"}, {"fb.watch", "facebook"}, {"fb.me", "facebook"},
	{"x.com", "x"}, {"twitter.com", "x"}, {"t.co", "x"},
	{"instagram.com", "instagram"}, {"instagr.am", "instagram"},
	{"tiktok.com", "tiktok"},
	{"youtube.com", "youtube"}, {"youtu.be", "youtube"},
	{"linkedin.com", "linkedin"}, {"lnkd.in", "linkedin"},
	{"whatsapp.com", "whatsapp"}, {"wa.me", "whatsapp"},
}

// PlatformFromURL recognises the platform of a publication from its address: the host
// or one of its parent domains (m.facebook.com, www.youtube.com, vm.tiktok.com); any
// other site is a blog.
func PlatformFromURL(raw string) string {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "blog"
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, ph := range platformHosts {
		if host == ph.domain || strings.HasSuffix(host, "."+ph.domain) {
			return ph.platform
		}
	}
	return "blog"
}
