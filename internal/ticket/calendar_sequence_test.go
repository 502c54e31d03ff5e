package ticket

import (
	"bytes"
	"math"
	"strconv"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
)

// icsStamps parses a calendar file and returns its SEQUENCE, DTSTAMP and LAST-MODIFIED.
func icsStamps(t *testing.T, data []byte) (seq int, stamp, modified time.Time) {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	e := cal.Events()[0]
	p := e.GetProperty(ics.ComponentPropertySequence)
	if p == nil {
		t.Fatalf("no SEQUENCE:\n%s", data)
	}
	if seq, err = strconv.Atoi(p.Value); err != nil {
		t.Fatalf("SEQUENCE %q: %v", p.Value, err)
	}
	if stamp, err = e.GetDtStampTime(); err != nil {
		t.Fatal(err)
	}
	if modified, err = e.GetLastModifiedAt(); err != nil {
		t.Fatal(err)
	}
	return seq, stamp, modified
}

// A changed event keeps its UID and carries a higher SEQUENCE, which calendars need to
// replace the entry they hold; DTSTAMP says when that version was issued, in UTC.
func TestICSSequenceGrowsWithEachChange(t *testing.T) {
	ev := sampleEvent()
	first, err := ICS(ev)
	if err != nil {
		t.Fatal(err)
	}
	seq1, stamp1, mod1 := icsStamps(t, first)
	if want := int(ev.Created.Unix() - sequenceEpoch); seq1 != want {
		t.Errorf("SEQUENCE %d, want %d", seq1, want)
	}
	if !stamp1.Equal(ev.Created) || !mod1.Equal(ev.Created) || !bytes.Contains(first, []byte("DTSTAMP:20170502T093000Z\r\n")) {
		t.Errorf("DTSTAMP %v, LAST-MODIFIED %v, want %v in UTC:\n%s", stamp1, mod1, ev.Created, first)
	}

	moved := ev
	moved.Start, moved.End = ev.Start.Add(24*time.Hour), ev.End.Add(24*time.Hour)
	moved.Created = ev.Created.Add(time.Second).In(paris)
	later, err := ICS(moved)
	if err != nil {
		t.Fatal(err)
	}
	seq2, stamp2, _ := icsStamps(t, later)
	if seq2 <= seq1 || !stamp2.After(stamp1) {
		t.Errorf("after a change: SEQUENCE %d then %d, DTSTAMP %v then %v", seq1, seq2, stamp1, stamp2)
	}
	if !bytes.Contains(later, []byte("UID:"+ev.UID+"\r\n")) {
		t.Errorf("the changed event has another UID:\n%s", later)
	}
}

func TestICSSequenceFitsAnInteger(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC), 0},
		{time.Date(2000, 1, 1, 1, 0, 0, 0, paris), 0},
		{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), 849088800},
		{time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC), 1200798848}, // past Unix time's 32 bits
		{time.Date(2068, 1, 19, 3, 14, 7, 0, time.UTC), math.MaxInt32},
		{time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt32},
	} {
		if got := icsSequence(tc.at); got != tc.want {
			t.Errorf("icsSequence(%v) = %d, want %d", tc.at, got, tc.want)
		}
	}
}
