package model

import (
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// EventStatus is the life cycle of an event.
type EventStatus string

const (
	EventDraft     EventStatus = "draft"
	EventPublished EventStatus = "published"
	EventCancelled EventStatus = "cancelled"
	EventArchived  EventStatus = "archived"
)

// RegistrationMode says who may register and whether an organizer must approve.
type RegistrationMode string

const (
	ModeOpen       RegistrationMode = "open"
	ModeInviteOnly RegistrationMode = "invite_only"
	ModeApproval   RegistrationMode = "approval"
)

// Valid reports whether m is a known mode.
func (m RegistrationMode) Valid() bool {
	return m == ModeOpen || m == ModeInviteOnly || m == ModeApproval
}

// Event is a sensitisation session. Times are stored in UTC and shown in Timezone.
type Event struct {
	ID                   int64            `json:"id"`
	Slug                 string           `json:"slug"`
	Title                string           `json:"title"`
	Occasion             string           `json:"occasion"`
	Theme                string           `json:"theme"`
	Summary              string           `json:"summary"`
	Description          string           `json:"description"`
	VenueName            string           `json:"venue_name"`
	VenueAddress         string           `json:"venue_address"`
	StartsAt             time.Time        `json:"starts_at"`
	EndsAt               time.Time        `json:"ends_at"`
	Timezone             string           `json:"timezone"`
	Capacity             int              `json:"capacity"`
	RegistrationMode     RegistrationMode `json:"registration_mode"`
	RegistrationOpensAt  *time.Time       `json:"registration_opens_at"`
	RegistrationClosesAt *time.Time       `json:"registration_closes_at"`
	Status               EventStatus      `json:"status"`
	PressContactName     string           `json:"press_contact_name"`
	PressContactEmail    string           `json:"press_contact_email"`
	PressContactPhone    string           `json:"press_contact_phone"`
	Lang                 string           `json:"language"`
	CreatedBy            *int64           `json:"created_by"`
	CreatedAt            time.Time        `json:"created_at"`
	UpdatedAt            time.Time        `json:"updated_at"`
}

// Location returns the event's time zone, UTC when it is unknown.
func (e *Event) Location() *time.Location {
	if loc, err := LoadLocation(e.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// IsPublic reports whether the public may see the event page.
func (e *Event) IsPublic() bool {
	return e.Status == EventPublished || e.Status == EventCancelled || e.Status == EventArchived
}

// Field length limits, shared by forms, the API and the database.
const (
	MaxTitle       = 200
	MaxShortText   = 200
	MaxSummary     = 500
	MaxDescription = 20000
	MaxSlug        = 80
)

var slugRe = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// ValidSlug reports whether s may be used in /e/{slug}.
func ValidSlug(s string) bool { return len(s) <= MaxSlug && slugRe.MatchString(s) }

// ValidEmail reports whether s is a single plain e-mail address.
func ValidEmail(s string) bool {
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " \r\n<>,;") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// NormalizeEmail trims and lower-cases an address for comparison and storage.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// Validate checks the event's fields and returns field errors keyed by JSON field name.
func (e *Event) Validate() *Error {
	f := map[string]string{}
	if strings.TrimSpace(e.Title) == "" {
		f["title"] = "error.required"
	} else if tooLong(e.Title, MaxTitle) {
		f["title"] = "error.too_long"
	}
	for name, v := range map[string]string{
		"occasion": e.Occasion, "theme": e.Theme, "venue_name": e.VenueName,
		"press_contact_name": e.PressContactName, "press_contact_phone": e.PressContactPhone,
	} {
		if tooLong(v, MaxShortText) {
			f[name] = "error.too_long"
		}
	}
	if tooLong(e.Summary, MaxSummary) {
		f["summary"] = "error.too_long"
	}
	if tooLong(e.VenueAddress, MaxSummary) {
		f["venue_address"] = "error.too_long"
	}
	if tooLong(e.Description, MaxDescription) {
		f["description"] = "error.too_long"
	}
	if e.Slug != "" && !ValidSlug(e.Slug) {
		f["slug"] = "error.slug"
	}
	if e.StartsAt.IsZero() {
		f["starts_at"] = "error.required"
	}
	if e.EndsAt.IsZero() {
		f["ends_at"] = "error.required"
	} else if !e.StartsAt.IsZero() && !e.EndsAt.After(e.StartsAt) {
		f["ends_at"] = "error.end_before_start"
	}
	if _, err := time.LoadLocation(e.Timezone); err != nil || e.Timezone == "" {
		f["timezone"] = "error.timezone"
	}
	if e.Capacity < 0 {
		f["capacity"] = "error.capacity_negative"
	} else if e.Capacity > 1000000 {
		f["capacity"] = "error.too_large_number"
	}
	if !e.RegistrationMode.Valid() {
		f["registration_mode"] = "error.choice"
	}
	if e.RegistrationOpensAt != nil && e.RegistrationClosesAt != nil && !e.RegistrationClosesAt.After(*e.RegistrationOpensAt) {
		f["registration_closes_at"] = "error.close_before_open"
	}
	if e.PressContactEmail != "" && !ValidEmail(e.PressContactEmail) {
		f["press_contact_email"] = "error.email"
	}
	if e.Lang != "fr" && e.Lang != "en" {
		f["language"] = "error.choice"
	}
	switch e.Status {
	case EventDraft, EventPublished, EventCancelled, EventArchived:
	default:
		f["status"] = "error.choice"
	}
	if len(f) > 0 {
		return FieldErrors(f)
	}
	return nil
}

// AgendaItem is one line of an event's programme.
type AgendaItem struct {
	ID        int64  `json:"id"`
	EventID   int64  `json:"event_id"`
	Position  int    `json:"position"`
	StartTime string `json:"start_time"` // "09:30", in the event's time zone
	Title     string `json:"title"`
	Speaker   string `json:"speaker"`
}

var clockRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// Validate checks an agenda item.
func (a *AgendaItem) Validate() *Error {
	f := map[string]string{}
	if strings.TrimSpace(a.Title) == "" {
		f["title"] = "error.required"
	} else if tooLong(a.Title, MaxShortText) {
		f["title"] = "error.too_long"
	}
	if a.StartTime != "" && !clockRe.MatchString(a.StartTime) {
		f["start_time"] = "error.clock"
	}
	if tooLong(a.Speaker, MaxShortText) {
		f["speaker"] = "error.too_long"
	}
	if len(f) > 0 {
		return FieldErrors(f)
	}
	return nil
}

// Document is a press-kit file. Its bytes live in the database so every instance serves it.
type Document struct {
	ID          int64     `json:"id"`
	EventID     int64     `json:"event_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Data        []byte    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
}

// MaxDocumentSize is the largest press-kit file accepted.
const MaxDocumentSize = 10 << 20

// AllowedDocumentTypes are the content types accepted for press-kit files, detected from content.
var AllowedDocumentTypes = map[string]string{
	"application/pdf": ".pdf",
	"image/png":       ".png",
	"image/jpeg":      ".jpg",
	"image/gif":       ".gif",
	"image/webp":      ".webp",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   ".docx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         ".xlsx",
	"application/vnd.oasis.opendocument.text":                                   ".odt",
	"application/msword": ".doc",
}

// locations caches time zones: time.LoadLocation reads and parses the zone file on
// every call, and pages and emails ask for the event's zone many times.
var locations sync.Map

// LoadLocation is time.LoadLocation with a cache of the zones found.
func LoadLocation(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}
