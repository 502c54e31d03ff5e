package ticket

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode"

	ics "github.com/arran4/golang-ical"
)

// ICSEvent is what a guest's calendar needs to know about an event.
type ICSEvent struct {
	// UID identifies the entry across downloads, so that a calendar updates
	// the entry it already has instead of adding a second one; for example
	// "reg-42@relais.example.org".
	UID         string
	Title       string
	Description string // plain text; newlines are kept
	Location    string // venue name and address
	URL         string // the guest's ticket page; absolute http or https
	// OrganizerName and OrganizerEmail fill ORGANIZER; the name alone is
	// dropped, since ORGANIZER must be an address.
	OrganizerName  string
	OrganizerEmail string
	Start, End     time.Time
	// Created is when this calendar data was issued (DTSTAMP, CREATED and
	// LAST-MODIFIED), and gives the SEQUENCE (icsSequence). Pass a stored
	// time that moves forward with each change of the entry, such as the
	// last change of the event, not time.Now(), so that the same ticket
	// gives the same file and a changed one replaces it in calendars.
	Created time.Time
}

// sequenceEpoch is where SEQUENCE counts from, 2000-01-01T00:00:00Z in Unix
// seconds. Never move it: a calendar ignores an update whose SEQUENCE is
// lower than the one it holds.
const sequenceEpoch = 946684800

// icsSequence is the SEQUENCE of an entry issued at t: the seconds from
// sequenceEpoch to t, so that each change of the event (a later t) gives a
// higher number without storing a counter. Calendars replace an entry they
// hold under the same UID only with a higher SEQUENCE (Outlook keeps the old
// time otherwise). RFC 5545 §3.3.8 bounds an INTEGER to 32 bits signed: Unix
// seconds would overflow in 2038, seconds since 2000 last until 2068, then
// stay at the maximum. Two changes within one second share a number.
func icsSequence(t time.Time) int {
	s := t.Unix() - sequenceEpoch
	switch {
	case s < 0:
		return 0
	case s > math.MaxInt32:
		return math.MaxInt32
	}
	return int(s)
}

// googleTime is the UTC DATE-TIME form of RFC 5545, which the dates
// parameter of a Google Calendar link takes.
const googleTime = "20060102T150405Z"

// ICS renders ev as an RFC 5545 calendar (METHOD:PUBLISH, one VEVENT, times
// in UTC, CRLF line ends, lines folded at 75 octets), ready to be served as
// text/calendar or attached to the confirmation email.
func ICS(ev ICSEvent) ([]byte, error) {
	if err := ev.validate(); err != nil {
		return nil, err
	}
	cal := ics.NewCalendarFor("Relais")
	cal.SetProductId("-//Relais//FR")
	cal.SetMethod(ics.MethodPublish)

	e := cal.AddEvent(icsText(ev.UID))
	e.SetDtStampTime(ev.Created)
	e.SetCreatedTime(ev.Created)
	e.SetModifiedAt(ev.Created)
	e.SetSequence(icsSequence(ev.Created))
	e.SetStartAt(ev.Start)
	e.SetEndAt(ev.End)
	e.SetSummary(icsText(ev.Title))
	if ev.Description != "" {
		e.SetDescription(icsText(ev.Description))
	}
	if ev.Location != "" {
		e.SetLocation(icsText(ev.Location))
	}
	if ev.URL != "" {
		e.SetURL(ev.URL)
	}
	if ev.OrganizerEmail != "" {
		if ev.OrganizerName == "" {
			e.SetOrganizer("mailto:" + ev.OrganizerEmail)
		} else {
			// golang-ical v0.3.4 escapes parameter values with backslashes
			// ("CN=Ligue d\'Info\, Lomé"), which RFC 5545 does not know and
			// calendars display as is; a quoted value needs no escaping, so
			// the parameter is written into the property name, which the
			// library copies verbatim (and folds with the rest of the line).
			e.Properties = append(e.Properties, ics.IANAProperty{BaseProperty: ics.BaseProperty{
				IANAToken: string(ics.ComponentPropertyOrganizer) + ";" + string(ics.ParameterCn) + "=" + quotedParam(ev.OrganizerName),
				Value:     "mailto:" + ev.OrganizerEmail,
			}})
		}
	}

	var buf bytes.Buffer
	if err := cal.SerializeTo(&buf, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("ticket: write ICS: %w", err)
	}
	return buf.Bytes(), nil
}

func (ev ICSEvent) validate() error {
	switch {
	case strings.TrimSpace(ev.UID) == "":
		return errors.New("ticket: ICS event without UID")
	case strings.TrimSpace(ev.Title) == "":
		return errors.New("ticket: ICS event without title")
	case ev.Start.IsZero() || !ev.End.After(ev.Start):
		return fmt.Errorf("ticket: ICS event from %v to %v: end must follow start", ev.Start, ev.End)
	case ev.Created.IsZero():
		return errors.New("ticket: ICS event without creation time")
	}
	// URL and address are written unescaped (URI and CAL-ADDRESS values):
	// a line break in them would inject properties.
	if ev.URL != "" {
		u, err := url.Parse(ev.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			strings.ContainsFunc(ev.URL, unicode.IsSpace) {
			return fmt.Errorf("ticket: ICS event URL %q is not an absolute http(s) URL", ev.URL)
		}
	}
	if ev.OrganizerEmail != "" {
		at := strings.IndexByte(ev.OrganizerEmail, '@')
		if at <= 0 || at == len(ev.OrganizerEmail)-1 ||
			strings.ContainsFunc(ev.OrganizerEmail, func(r rune) bool {
				return r <= ' ' || r == 0x7f || strings.ContainsRune(`"(),:;<>[\]`, r)
			}) {
			return fmt.Errorf("ticket: ICS organizer email %q is not a plain address", ev.OrganizerEmail)
		}
	}
	return nil
}

// icsText prepares free text for a TEXT value, which golang-ical escapes
// (\ ; , and line feeds) but does not clean: RFC 5545 allows no control
// characters there besides the tab, and a bare CR would end the line.
func icsText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// quotedParam quotes a parameter value (RFC 5545 §3.1: quoted-string), which
// may then hold , ; and : but neither a double quote nor a line break.
func quotedParam(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\n' || r == '\t':
			return ' '
		}
		return r
	}, icsText(s))
	return `"` + s + `"`
}

// maxGoogleDetails caps the description in a Google Calendar link, in
// characters: accented text triples in percent-encoding, and links of more
// than a few kilobytes are refused by some browsers and by Google.
const maxGoogleDetails = 1000

// GoogleCalendarURL returns a link that opens Google Calendar's "new event"
// form filled with ev, for guests who do not know what to do with an ICS
// file. The details hold the description (shortened if long) followed by
// ev.URL, since the form has no field for a link.
func GoogleCalendarURL(ev ICSEvent) string {
	end := ev.End
	if end.IsZero() {
		end = ev.Start
	}
	details := ev.Description
	if r := []rune(details); len(r) > maxGoogleDetails {
		details = strings.TrimSpace(string(r[:maxGoogleDetails-1])) + "…"
	}
	if ev.URL != "" {
		if details != "" {
			details += "\n\n"
		}
		details += ev.URL
	}
	var b strings.Builder
	b.WriteString("https://calendar.google.com/calendar/render?action=TEMPLATE")
	b.WriteString("&text=" + url.QueryEscape(ev.Title))
	b.WriteString("&dates=" + ev.Start.UTC().Format(googleTime) + "/" + end.UTC().Format(googleTime))
	if details != "" {
		b.WriteString("&details=" + url.QueryEscape(details))
	}
	if ev.Location != "" {
		b.WriteString("&location=" + url.QueryEscape(ev.Location))
	}
	return b.String()
}
