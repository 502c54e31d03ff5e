package web

import (
	"testing"

	"relais/internal/app"
)

// The attendance rate as the report writes it, at its edges.
func TestReviewAttendancePct(t *testing.T) {
	for _, c := range []struct {
		lang                string
		admitted, confirmed int64
		want                string
	}{
		{"fr", 0, 0, "—"},
		{"en", 0, 0, "—"},
		{"fr", 0, 10, "0\u00a0%"},
		{"fr", 2, 3, "67\u00a0%"},
		{"en", 2, 3, "67%"},
		{"fr", 3, 3, "100\u00a0%"},
		{"fr", 199, 200, "99\u00a0%"},   // not 100 % with someone missing
		{"en", 1, 1000, "1%"},           // not 0 % once someone came
		{"fr", 1999, 2000, "99\u00a0%"}, // 99.95
	} {
		rep := &app.Report{Funnel: app.Funnel{Admitted: c.admitted, Confirmed: c.confirmed}}
		if c.confirmed > 0 {
			rep.AttendanceRate = float64(c.admitted) / float64(c.confirmed)
		}
		if got := attendancePct(c.lang, rep); got != c.want {
			t.Errorf("%s %d/%d: %q, want %q", c.lang, c.admitted, c.confirmed, got, c.want)
		}
	}
}
