package i18n

import (
	"fmt"
	"time"
)

var (
	frDays   = []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
		"septembre", "octobre", "novembre", "décembre"}
)

// Date writes a day the way lang does: "mercredi 17 mai 2017" or "Wednesday 17 May 2017".
func Date(t time.Time, loc *time.Location, lang string) string {
	t = t.In(loc)
	if Supported(lang) == "fr" {
		day := fmt.Sprint(t.Day())
		if t.Day() == 1 {
			day = "1er"
		}
		return fmt.Sprintf("%s %s %s %d", frDays[t.Weekday()], day, frMonths[t.Month()-1], t.Year())
	}
	return t.Format("Monday 2 January 2006")
}

// ShortDate writes "17 mai 2017" or "17 May 2017".
func ShortDate(t time.Time, loc *time.Location, lang string) string {
	t = t.In(loc)
	if Supported(lang) == "fr" {
		return fmt.Sprintf("%d %s %d", t.Day(), frMonths[t.Month()-1], t.Year())
	}
	return t.Format("2 January 2006")
}

// Clock writes a time of day on 24 hours, as both languages do here: "09:00".
func Clock(t time.Time, loc *time.Location) string { return t.In(loc).Format("15:04") }

// DateTime writes "mercredi 17 mai 2017, 09:00".
func DateTime(t time.Time, loc *time.Location, lang string) string {
	return Date(t, loc, lang) + ", " + Clock(t, loc)
}

// Range writes an event's span: "mercredi 17 mai 2017, 09:00 – 12:00" on one day, with both
// dates when it spans several days.
func Range(start, end time.Time, loc *time.Location, lang string) string {
	s, e := start.In(loc), end.In(loc)
	if s.Year() == e.Year() && s.YearDay() == e.YearDay() {
		return Date(s, loc, lang) + ", " + Clock(s, loc) + " – " + Clock(e, loc)
	}
	return DateTime(s, loc, lang) + " – " + DateTime(e, loc, lang)
}
