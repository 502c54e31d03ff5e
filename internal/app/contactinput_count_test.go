package app

import "testing"

// TestParseCount: thousands separators are read as such only when every group after the
// first has three digits; what could be a decimal without a k or M is refused.
func TestParseCount(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"12000", 12000, true},
		{"0", 0, true},
		{" 12000 ", 12000, true},
		{"12.000", 12000, true},
		{"12,000", 12000, true},
		{"12 000", 12000, true},
		{"12\u00a0000", 12000, true},
		{"12\u202f000", 12000, true},
		{"1,500", 1500, true},
		{"1.500", 1500, true},
		{"1 500 000", 1500000, true},
		{"1.500.000", 1500000, true},
		{"1\u202f500\u202f000", 1500000, true},
		{"1 500\u00a0000", 1500000, true}, // spaces of either kind are one separator
		{"12k", 12000, true},
		{"12K", 12000, true},
		{"12 k", 12000, true},
		{"12\u00a0k", 12000, true},
		{"1,2k", 1200, true},
		{"1.5M", 1500000, true},
		{"1,5 M", 1500000, true},
		{"2,25m", 2250000, true},
		{"2000m", 2000000000, true},
		{"2 000 000 000", 2000000000, true},
		{"12000.0", 12000, true}, // a spreadsheet's export
		{"12000,00", 12000, true},
		{"12 000,00", 12000, true},

		{"", 0, false},
		{"12.5", 0, false}, // a decimal, or a typo for 12 500?
		{"1,50", 0, false}, // groups after the first have three digits
		{"1.5", 0, false},
		{"12 00", 0, false},
		{"1 5000", 0, false},
		{"1234.567", 0, false}, // a first group of four digits is no grouping
		{"0,500", 0, false},    // half, or five hundred?
		{"12000.5", 0, false},
		{"1.000.00", 0, false}, // the same mark for thousands and decimals: a typo
		{"100.000.0", 0, false},
		{"12000.", 0, false},
		{"1.500,5", 0, false}, // mixed separators
		{"1,500.000", 0, false},
		{"1.500 000", 0, false},
		{"12.", 0, false},
		{".500", 0, false},
		{"12..000", 0, false},
		{"-1", 0, false},
		{"+12", 0, false},
		{"12 abonnés", 0, false},
		{"k", 0, false},
		{"1,k", 0, false},
		{"1.2345k", 0, false}, // not a whole number
		{"1 500k", 0, false},
		{"1,2,3k", 0, false},
		{"12kk", 0, false},
		{"2 000 000 001", 0, false}, // beyond any audience
		{"3000m", 0, false},
		{"99999999999999999999", 0, false},
	} {
		got, ok := parseCount(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parseCount(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// The forms that take an audience or a reach refuse a doubtful number with their own
// message instead of storing a wrong one.
func TestCountFieldsRefuseDoubtfulNumbers(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // the stored audience, or "" when refused
	}{
		{"12.000", "12000"},
		{"1 500", "1500"},
		{"1,5k", "1500"},
		{"12.5", ""},
		{"1,50", ""},
	} {
		in := ContactInput{FirstName: "Kafui", LastName: "Adjo", Email: "kafui@blog.example.tg", Audience: c.in}
		f := map[string]string{}
		in.validate(f)
		if c.want == "" && f["audience"] != "error.number" || c.want != "" && (len(f) > 0 || in.Audience != c.want) {
			t.Errorf("audience %q: %q, errors %v", c.in, in.Audience, f)
		}
		n, ok := ParseReach(c.in)
		if want := c.want != ""; ok != want || ok && itoa(n) != c.want {
			t.Errorf("ParseReach(%q) = %d, %v", c.in, n, ok)
		}
	}
	if n, ok := ParseReach(""); n != 0 || !ok {
		t.Errorf("ParseReach(\"\") = %d, %v", n, ok)
	}
	if _, ok := ParseReach("1.500.000.000"); ok {
		t.Error("a reach beyond model.MaxReach was accepted")
	}
}
