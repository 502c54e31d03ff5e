package ticket

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
)

var paris = time.FixedZone("CEST", 2*3600)

func sampleEvent() ICSEvent {
	return ICSEvent{
		UID:            "reg-42@relais.example.org",
		Title:          "Journée mondiale des télécommunications, 17 mai; Lomé\nSession « blogueurs »",
		Description:    "Programme :\r\n- 10 h, accueil; café\n- 10 h 30, table ronde, « Internet pour tous »\\n\n" + strings.Repeat("Ça se passe à Lomé. ", 8),
		Location:       "Salle Kékéli, CCL; 12 rue du Commerce, Lomé",
		URL:            "https://relais.example.org/t/Zm9vYmFy?lang=fr",
		OrganizerName:  `Ligue d'Information "LIT", Lomé: presse`,
		OrganizerEmail: "presse@ligue.example.tg",
		Start:          time.Date(2017, 5, 17, 10, 0, 0, 0, paris),
		End:            time.Date(2017, 5, 17, 14, 0, 0, 0, paris),
		Created:        time.Date(2017, 5, 2, 9, 30, 0, 0, time.UTC),
	}
}

func TestICS(t *testing.T) {
	ev := sampleEvent()
	data, err := ICS(ev)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(data)

	t.Run("lines", func(t *testing.T) {
		if !strings.HasPrefix(raw, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(raw, "END:VCALENDAR\r\n") {
			t.Errorf("not a VCALENDAR:\n%s", raw)
		}
		for i, line := range strings.Split(strings.TrimSuffix(raw, "\r\n"), "\r\n") {
			if len(line) > 75 {
				t.Errorf("line %d has %d octets, want at most 75: %q", i+1, len(line), line)
			}
			if strings.ContainsAny(line, "\r\n") {
				t.Errorf("line %d holds a bare CR or LF: %q", i+1, line)
			}
			if !utf8.ValidString(line) {
				t.Errorf("line %d was folded inside a UTF-8 character: %q", i+1, line)
			}
		}
	})

	t.Run("escaped text", func(t *testing.T) {
		unfolded := strings.ReplaceAll(raw, "\r\n ", "")
		for _, want := range []string{
			"PRODID:-//Relais//FR\r\n",
			"METHOD:PUBLISH\r\n",
			"VERSION:2.0\r\n",
			"UID:reg-42@relais.example.org\r\n",
			"DTSTART:20170517T080000Z\r\n",
			"DTEND:20170517T120000Z\r\n",
			"DTSTAMP:20170502T093000Z\r\n",
			`SUMMARY:Journée mondiale des télécommunications\, 17 mai\; Lomé\nSession « blogueurs »` + "\r\n",
			`LOCATION:Salle Kékéli\, CCL\; 12 rue du Commerce\, Lomé` + "\r\n",
			`DESCRIPTION:Programme :\n- 10 h\, accueil\; café\n- 10 h 30\, table ronde\, « Internet pour tous »\\n\n`,
			"URL:https://relais.example.org/t/Zm9vYmFy?lang=fr\r\n",
			`ORGANIZER;CN="Ligue d'Information 'LIT', Lomé: presse":mailto:presse@ligue.example.tg` + "\r\n",
		} {
			if !strings.Contains(unfolded, want) {
				t.Errorf("ICS lacks %q:\n%s", want, raw)
			}
		}
	})

	t.Run("parses back", func(t *testing.T) {
		cal, err := ics.ParseCalendar(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		props := map[string]string{}
		for _, p := range cal.CalendarProperties {
			props[p.IANAToken] = p.Value
		}
		if props["PRODID"] != "-//Relais//FR" || props["METHOD"] != "PUBLISH" {
			t.Errorf("calendar properties %v", props)
		}
		events := cal.Events()
		if len(events) != 1 {
			t.Fatalf("%d events, want 1", len(events))
		}
		e := events[0]
		wantDescription := strings.ReplaceAll(ev.Description, "\r\n", "\n")
		for prop, want := range map[ics.ComponentProperty]string{
			ics.ComponentPropertyUniqueId:    ev.UID,
			ics.ComponentPropertySummary:     ev.Title,
			ics.ComponentPropertyDescription: wantDescription,
			ics.ComponentPropertyLocation:    ev.Location,
			ics.ComponentPropertyUrl:         ev.URL,
			ics.ComponentPropertyOrganizer:   "mailto:" + ev.OrganizerEmail,
		} {
			if p := e.GetProperty(prop); p == nil || p.Value != want {
				t.Errorf("%s = %+v, want %q", prop, p, want)
			}
		}
		if p := e.GetProperty(ics.ComponentPropertyOrganizer); p != nil {
			if cn := p.ICalParameters["CN"]; len(cn) != 1 || cn[0] != `Ligue d'Information 'LIT', Lomé: presse` {
				t.Errorf("organizer CN = %q", cn)
			}
		}
		start, err := e.GetStartAt()
		if err != nil || !start.Equal(ev.Start) {
			t.Errorf("start = %v, %v; want %v", start, err, ev.Start)
		}
		end, err := e.GetEndAt()
		if err != nil || !end.Equal(ev.End) {
			t.Errorf("end = %v, %v; want %v", end, err, ev.End)
		}
	})

	t.Run("same input, same file", func(t *testing.T) {
		again, err := ICS(ev)
		if err != nil || !bytes.Equal(again, data) {
			t.Errorf("second rendering differs (%v)", err)
		}
	})
}

func TestICSOptionalFields(t *testing.T) {
	ev := sampleEvent()
	ev.Description, ev.Location, ev.URL, ev.OrganizerName = "", "", "", ""
	data, err := ICS(ev)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(data)
	for _, absent := range []string{"DESCRIPTION", "LOCATION", "URL", "CN="} {
		if strings.Contains(raw, absent) {
			t.Errorf("ICS holds %s although it was empty:\n%s", absent, raw)
		}
	}
	if !strings.Contains(raw, "ORGANIZER:mailto:presse@ligue.example.tg\r\n") {
		t.Errorf("ICS lacks the bare organizer:\n%s", raw)
	}
}

func TestICSCleansControlCharacters(t *testing.T) {
	ev := sampleEvent()
	ev.Title = "Bonjour\rLomé\x00\x1b[31m\xff"
	ev.OrganizerName = "Ligue\r\nBEGIN:VEVENT"
	data, err := ICS(ev)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(data)
	if !strings.Contains(raw, `SUMMARY:Bonjour\nLomé[31m`+"\uFFFD\r\n") {
		t.Errorf("control characters not cleaned:\n%q", raw)
	}
	if strings.Count(raw, "\r\nBEGIN:VEVENT") != 1 || !strings.Contains(raw, `CN="Ligue BEGIN:VEVENT"`) {
		t.Errorf("line break in the organizer name escaped its parameter:\n%s", raw)
	}
}

func TestICSRefuses(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*ICSEvent)
	}{
		{"no UID", func(ev *ICSEvent) { ev.UID = " " }},
		{"no title", func(ev *ICSEvent) { ev.Title = "" }},
		{"no start", func(ev *ICSEvent) { ev.Start = time.Time{} }},
		{"no end", func(ev *ICSEvent) { ev.End = time.Time{} }},
		{"end before start", func(ev *ICSEvent) { ev.End = ev.Start.Add(-time.Hour) }},
		{"no creation time", func(ev *ICSEvent) { ev.Created = time.Time{} }},
		{"relative URL", func(ev *ICSEvent) { ev.URL = "/t/abc" }},
		{"javascript URL", func(ev *ICSEvent) { ev.URL = "javascript:alert(1)" }},
		{"URL with a line break", func(ev *ICSEvent) { ev.URL = "https://x.example/\r\nATTENDEE:mailto:a@b" }},
		{"email with a line break", func(ev *ICSEvent) { ev.OrganizerEmail = "a@b.tg\r\nX-EVIL:1" }},
		{"email with a name", func(ev *ICSEvent) { ev.OrganizerEmail = "Ligue <a@b.tg>" }},
		{"email without @", func(ev *ICSEvent) { ev.OrganizerEmail = "presse" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := sampleEvent()
			tt.modify(&ev)
			if data, err := ICS(ev); err == nil {
				t.Errorf("ICS accepted the event:\n%s", data)
			}
		})
	}
}

func TestGoogleCalendarURL(t *testing.T) {
	ev := sampleEvent()
	link := GoogleCalendarURL(ev)
	if !strings.HasPrefix(link, "https://calendar.google.com/calendar/render?action=TEMPLATE&text=") ||
		!strings.Contains(link, "&dates=20170517T080000Z/20170517T120000Z&") {
		t.Errorf("GoogleCalendarURL = %s", link)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for key, want := range map[string]string{
		"action":   "TEMPLATE",
		"text":     ev.Title,
		"dates":    "20170517T080000Z/20170517T120000Z",
		"details":  ev.Description + "\n\n" + ev.URL,
		"location": ev.Location,
	} {
		if got := q.Get(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}

	t.Run("long description shortened, link kept", func(t *testing.T) {
		ev := sampleEvent()
		ev.Description = strings.Repeat("é", 5000)
		u, err := url.Parse(GoogleCalendarURL(ev))
		if err != nil {
			t.Fatal(err)
		}
		details := u.Query().Get("details")
		if n := utf8.RuneCountInString(details); n > maxGoogleDetails+2+len(ev.URL) {
			t.Errorf("details has %d characters", n)
		}
		if !strings.HasSuffix(details, "…\n\n"+ev.URL) {
			t.Errorf("details end %q", details[len(details)-80:])
		}
	})

	t.Run("only title and dates", func(t *testing.T) {
		ev := ICSEvent{Title: "Atelier", Start: time.Date(2026, 12, 1, 23, 30, 0, 0, paris), End: time.Date(2026, 12, 2, 1, 0, 0, 0, paris)}
		want := "https://calendar.google.com/calendar/render?action=TEMPLATE&text=Atelier&dates=20261201T213000Z/20261201T230000Z"
		if got := GoogleCalendarURL(ev); got != want {
			t.Errorf("GoogleCalendarURL = %s, want %s", got, want)
		}
	})
}
