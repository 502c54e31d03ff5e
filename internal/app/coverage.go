package app

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"relais/internal/model"
	"relais/internal/store"
)

// InvalidLink is a line of a coverage submission that is not a web address.
type InvalidLink struct {
	Line    int    // 1-based line of the text area
	Text    string // as pasted
	Message string // message key
}

// CoverageSubmission is what became of the links a blogger pasted.
type CoverageSubmission struct {
	Added      []model.Coverage
	Duplicates []string // already recorded for the event, or twice in the text
	Invalid    []InvalidLink
}

// ParseCoverageLinks reads the addresses pasted in a text area: one per line, or
// several on a line separated by spaces or commas. Words around them ("voir :",
// "(mon article)") are ignored; a line with no address at all is reported. It returns
// the distinct addresses, normalised, in order, and the lines that are not addresses.
func ParseCoverageLinks(text string) (urls []string, dups []string, invalid []InvalidLink) {
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		candidates := 0
		for _, field := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == ';' }) {
			// The punctuation of the sentence around an address is not part of it:
			// "(voir https://…/article)." or "Mon article : https://…".
			field = strings.TrimRight(strings.TrimLeft(field, "<>()[]«»\"'"), "<>()[]«»\"'.:!?")
			if !looksLikeLink(field) {
				continue // a word, not an address
			}
			candidates++
			u, msg := model.NormalizeCoverageURL(field)
			switch {
			case msg != "":
				invalid = append(invalid, InvalidLink{Line: i + 1, Text: clip(field, 200), Message: msg})
			case seen[otherScheme(u)] || seen[u]:
				dups = append(dups, u)
			default:
				seen[u] = true
				urls = append(urls, u)
			}
		}
		if candidates == 0 {
			invalid = append(invalid, InvalidLink{Line: i + 1, Text: clip(line, 200), Message: "coverage.error.url"})
		}
	}
	return urls, dups, invalid
}

// otherScheme is a normalised address with http and https swapped: the same
// publication, which a blogger may paste once with each (a site that redirects one to
// the other, a link copied from a share button). It is a duplicate, not a second item.
func otherScheme(u string) string {
	if rest, ok := strings.CutPrefix(u, "https://"); ok {
		return "http://" + rest
	}
	if rest, ok := strings.CutPrefix(u, "http://"); ok {
		return "https://" + rest
	}
	return u
}

// looksLikeLink tells the words of a pasted text that are meant as web addresses,
// which ParseCoverageLinks then checks, from the others ("Merci.", "M.Dupont", "10:30",
// "Node.js"), which it ignores: a word with a scheme ("https://…", and "htp://x" or
// "javascript:…", so that a malformed address is reported, not dropped), or one that
// starts with a host name: "www.…", a host and a path ("facebook.com/…"), or a host
// alone whose top-level domain is a common one ("kafui.example.tg").
func looksLikeLink(w string) bool {
	if strings.Contains(w, "://") {
		return true
	}
	if i := strings.IndexByte(w, ':'); i > 0 && i < len(w)-1 && isScheme(w[:i]) {
		return true
	}
	host, path := w, false
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host, path = host[:i], true
	}
	if len(host) > 4 && strings.EqualFold(host[:4], "www.") {
		return true
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || strings.ContainsFunc(l, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' }) {
			return false
		}
	}
	// A top-level domain is letters only ("3.5" is a number), all lower or all upper
	// case ("Merci.Bonne" is two words whose space was forgotten).
	tld := labels[len(labels)-1]
	if len(tld) < 2 || strings.ContainsFunc(tld, func(r rune) bool { return !unicode.IsLetter(r) }) ||
		(tld != strings.ToLower(tld) && tld != strings.ToUpper(tld)) {
		return false
	}
	return path || commonTLDs[strings.ToLower(tld)]
}

// commonTLDs are the top-level domains of the sites bloggers here publish on, which
// make a host alone ("monblog.tg") an address rather than a word with a dot.
var commonTLDs = map[string]bool{
	"com": true, "org": true, "net": true, "info": true, "biz": true, "io": true, "co": true, "me": true, "tv": true,
	"blog": true, "news": true, "africa": true, "online": true, "site": true, "tech": true, "media": true,
	"tg": true, "bj": true, "ci": true, "sn": true, "gh": true, "ng": true, "bf": true, "ml": true, "ne": true,
	"cm": true, "ga": true, "cd": true, "cg": true, "gn": true, "td": true, "ma": true, "tn": true, "dz": true,
	"fr": true, "be": true, "ch": true, "ca": true, "uk": true, "us": true, "de": true, "eu": true,
}

// isScheme reports whether s is a URI scheme (RFC 3986 §3.1: a letter, then letters,
// digits, "+", "-" or ".").
func isScheme(s string) bool {
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// ParseReach reads a declared reach ("12000", "12 000", "12k"); "" is 0.
func ParseReach(s string) (int, bool) {
	if strings.TrimSpace(s) == "" {
		return 0, true
	}
	n, ok := parseCount(s)
	return n, ok && n <= model.MaxReach
}

// SubmitCoverageLinks records the links a ticket holder pasted on their ticket page,
// each with the declared reach. Only a confirmed registration (checked in or not) may
// submit. Lines that are not web addresses and addresses already recorded for the
// event are reported, not recorded; the others are recorded even when some lines are
// wrong, so that the blogger only has to fix those.
func (a *App) SubmitCoverageLinks(ctx context.Context, r *model.Registration, text, reachText string) (*CoverageSubmission, error) {
	if r.Status != model.RegConfirmed {
		return nil, model.Errorf(model.EForbidden, "coverage.error.not_attendee")
	}
	reach, ok := ParseReach(reachText)
	if !ok {
		return nil, model.FieldErrors(map[string]string{"reach": "coverage.error.reach"})
	}
	urls, dups, invalid := ParseCoverageLinks(text)
	if len(urls)+len(dups)+len(invalid) == 0 {
		return nil, model.FieldErrors(map[string]string{"links": "coverage.error.no_links"})
	}
	if len(urls)+len(dups)+len(invalid) > model.MaxCoverageLinks {
		return nil, model.FieldErrors(map[string]string{"links": "coverage.error.too_many"})
	}
	out := &CoverageSubmission{Duplicates: dups, Invalid: invalid}
	twins := make([]string, len(urls))
	for i, u := range urls {
		twins[i] = otherScheme(u)
	}
	recorded, err := a.Store.CoverageURLsOf(ctx, r.EventID, twins)
	if err != nil {
		return nil, err
	}
	regID := r.ID
	for i, u := range urls {
		if recorded[twins[i]] { // recorded with the other scheme
			out.Duplicates = append(out.Duplicates, u)
			continue
		}
		c := model.Coverage{EventID: r.EventID, ContactID: r.ContactID, RegistrationID: &regID, URL: u,
			Platform: model.PlatformFromURL(u), Reach: reach, SubmittedBy: model.SubmittedByBlogger,
			Status: model.CoverageSubmitted}
		err := a.Store.CreateCoverage(ctx, &c)
		if store.IsDuplicate(err) {
			out.Duplicates = append(out.Duplicates, u)
			continue
		} else if err != nil {
			return nil, err
		}
		out.Added = append(out.Added, c)
	}
	if len(out.Added) > 0 {
		a.audit(ctx, a.Store, Actor{Name: "holder"}, "coverage.submit", "registration", r.ID, &r.EventID,
			fmt.Sprintf("%d lien(s)", len(out.Added)))
	}
	return out, nil
}

// CoverageInput is what an organizer (or the API) gives for a coverage item. The
// person is a registration of the event or a contact of the directory.
type CoverageInput struct {
	RegistrationID int64
	ContactID      int64
	URL            string
	Platform       string // "" → recognised from the URL
	Title          string
	PublishedAt    *time.Time
	Reach          int
	Status         model.CoverageStatus // "" → verified: an organizer saw it
}

// AddCoverage records a coverage item for an event on behalf of a blogger.
func (a *App) AddCoverage(ctx context.Context, actor Actor, eventID int64, in CoverageInput) (*model.Coverage, error) {
	ev, err := a.Store.FindEventByID(ctx, eventID)
	if err != nil {
		return nil, err
	}
	c := &model.Coverage{EventID: ev.ID, Title: strings.TrimSpace(in.Title), PublishedAt: in.PublishedAt,
		Reach: in.Reach, SubmittedBy: model.SubmittedByOrganizer, SubmittedByUser: actor.UserID, Status: in.Status}
	if c.Status == "" {
		c.Status = model.CoverageVerified
	}
	f := map[string]string{}
	switch {
	case in.RegistrationID > 0:
		r, err := a.Store.FindRegistration(ctx, in.RegistrationID)
		if model.ErrorCode(err) == model.ENotFound || (err == nil && r.EventID != ev.ID) {
			f["registration_id"] = "coverage.error.registration"
		} else if err != nil {
			return nil, err
		} else {
			id := r.ID
			c.RegistrationID, c.ContactID = &id, r.ContactID
		}
	case in.ContactID > 0:
		ct, err := a.Store.FindContact(ctx, in.ContactID)
		if model.ErrorCode(err) == model.ENotFound || (err == nil && ct.ErasedAt != nil) {
			f["contact_id"] = "coverage.error.contact"
		} else if err != nil {
			return nil, err
		} else {
			c.ContactID = ct.ID
			if r, err := a.Store.FindRegistrationFor(ctx, ev.ID, ct.ID); err == nil {
				id := r.ID
				c.RegistrationID = &id
			}
		}
	default:
		f["registration_id"] = "coverage.error.who"
	}
	a.setCoverageURL(c, in.URL, in.Platform, f)
	if err := a.validCoverage(c, f); err != nil {
		return nil, err
	}
	if err := a.Store.CreateCoverage(ctx, c); err != nil {
		if store.IsDuplicate(err) {
			return nil, &model.Error{Code: model.EConflict, Message: "coverage.error.duplicate",
				Fields: map[string]string{"url": "coverage.error.duplicate"}, Err: err}
		}
		return nil, err
	}
	a.audit(ctx, a.Store, actor, "coverage.add", "coverage", c.ID, &c.EventID, c.URL)
	return c, nil
}

// setCoverageURL normalises the URL and recognises the platform unless one is given.
func (a *App) setCoverageURL(c *model.Coverage, raw, platform string, f map[string]string) {
	u, msg := model.NormalizeCoverageURL(raw)
	if msg != "" {
		f["url"] = msg
		c.URL = strings.TrimSpace(raw)
	} else if u != c.URL {
		c.URL = u
		// A new address is a new page: check it again.
		c.CheckStatus, c.CheckedAt, c.CheckClaimedUntil = model.CheckPending, nil, nil
		c.PageTitle, c.MentionsEvent, c.LinksEvent, c.CheckError = "", false, false, ""
	}
	c.Platform = strings.TrimSpace(platform)
	if c.Platform == "" {
		c.Platform = model.PlatformFromURL(c.URL)
	}
}

// validCoverage merges the item's own validation into the field errors f.
func (a *App) validCoverage(c *model.Coverage, f map[string]string) error {
	if verr := c.Validate(); verr != nil {
		for k, v := range verr.Fields {
			if _, set := f[k]; !set {
				f[k] = v
			}
		}
	}
	if len(f) > 0 {
		return model.FieldErrors(f)
	}
	return nil
}

// CoveragePatch changes some fields of a coverage item; nil leaves a field alone.
type CoveragePatch struct {
	URL         *string
	Platform    *string
	Title       *string
	PublishedAt **time.Time
	Reach       *int
	Status      *model.CoverageStatus
}

// UpdateCoverage applies an organizer's changes to a coverage item of the event
// (eventID 0: any event). Verifying and rejecting are changes of Status.
func (a *App) UpdateCoverage(ctx context.Context, actor Actor, eventID, id int64, p CoveragePatch) (*model.Coverage, error) {
	c, err := a.Store.FindCoverage(ctx, id)
	if err != nil {
		return nil, err
	}
	if eventID > 0 && c.EventID != eventID {
		return nil, model.ErrNotFound
	}
	before, beforeURL := c.Status, c.URL
	f := map[string]string{}
	if p.URL != nil || p.Platform != nil {
		raw, platform := c.URL, c.Platform
		if p.URL != nil {
			raw = *p.URL
			if p.Platform == nil && model.PlatformFromURL(c.URL) == c.Platform {
				platform = "" // the platform followed the old address: follow the new one
			}
		}
		if p.Platform != nil {
			platform = *p.Platform
		}
		a.setCoverageURL(c, raw, platform, f)
	}
	if p.Title != nil {
		c.Title = strings.TrimSpace(*p.Title)
	}
	if p.PublishedAt != nil {
		c.PublishedAt = *p.PublishedAt
	}
	if p.Reach != nil {
		c.Reach = *p.Reach
	}
	if p.Status != nil {
		c.Status = *p.Status
	}
	if err := a.validCoverage(c, f); err != nil {
		return nil, err
	}
	if err := a.Store.UpdateCoverage(ctx, c, c.URL != beforeURL); err != nil {
		if store.IsDuplicate(err) {
			return nil, &model.Error{Code: model.EConflict, Message: "coverage.error.duplicate",
				Fields: map[string]string{"url": "coverage.error.duplicate"}, Err: err}
		}
		return nil, err
	}
	action := "coverage.update"
	if c.Status != before {
		action = "coverage." + map[model.CoverageStatus]string{model.CoverageVerified: "verify",
			model.CoverageRejected: "reject", model.CoverageSubmitted: "reopen"}[c.Status]
	}
	a.audit(ctx, a.Store, actor, action, "coverage", c.ID, &c.EventID, c.URL)
	return c, nil
}

// SetCoverageStatus verifies, rejects or reopens a coverage item of the event.
func (a *App) SetCoverageStatus(ctx context.Context, actor Actor, eventID, id int64, st model.CoverageStatus) (*model.Coverage, error) {
	return a.UpdateCoverage(ctx, actor, eventID, id, CoveragePatch{Status: &st})
}
