package ticket

import (
	"strings"
	"testing"
)

func TestReferenceAlphabet(t *testing.T) {
	if len(ReferenceAlphabet) != 25 {
		t.Fatalf("alphabet has %d characters, want 25", len(ReferenceAlphabet))
	}
	for i, c := range ReferenceAlphabet {
		if strings.ContainsRune("0O1IL2Z5S8B", c) {
			t.Errorf("alphabet holds look-alike %q", c)
		}
		if strings.IndexRune(ReferenceAlphabet, c) != i {
			t.Errorf("alphabet holds %q twice", c)
		}
	}
	if referenceCutoff != 250 {
		t.Errorf("referenceCutoff = %d, want 250", referenceCutoff)
	}
}

func TestNewReference(t *testing.T) {
	const draws = 10_000
	counts := make(map[rune]int)
	for range draws {
		ref := NewReference()
		if len(ref) != ReferenceLength {
			t.Fatalf("NewReference() = %q: want %d characters", ref, ReferenceLength)
		}
		for _, c := range ref {
			if !strings.ContainsRune(ReferenceAlphabet, c) {
				t.Fatalf("NewReference() = %q: %q is not in the alphabet", ref, c)
			}
			counts[c]++
		}
		typed := strings.ToLower(ref[:2]) + " " + ref[2:3] + "-" + strings.ToLower(ref[3:]) + " "
		if got, ok := NormalizeReference(typed); !ok || got != ref {
			t.Fatalf("NormalizeReference(%q) = %q, %v; want %q", typed, got, ok, ref)
		}
	}
	// 60,000 characters, 2,400 expected each (σ ≈ 48): ±400 only fails on a
	// real bias, such as a character never drawn or drawn twice as often.
	for _, c := range ReferenceAlphabet {
		if n := counts[c]; n < 2000 || n > 2800 {
			t.Errorf("%q drawn %d times in %d characters, want about 2400", c, n, draws*ReferenceLength)
		}
	}
}

func TestFillReference(t *testing.T) {
	tests := []struct {
		name   string
		random []byte
		want   string
	}{
		{"first and last", []byte{0, 24, 25, 49, 225, 249}, "A9A9A9"},
		{"bytes 250..255 rejected", []byte{250, 251, 0, 252, 253, 254, 255, 1, 2, 3, 4, 5}, "ACDEFG"},
		{"extra bytes unused", []byte{0, 1, 2, 3, 4, 5, 6, 7}, "ACDEFG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := make([]byte, ReferenceLength)
			if n := fillReference(ref, 0, tt.random); n != ReferenceLength || string(ref) != tt.want {
				t.Errorf("fillReference(%v) = %q (n=%d), want %q", tt.random, ref[:n], n, tt.want)
			}
		})
	}
	t.Run("too few bytes continues later", func(t *testing.T) {
		ref := make([]byte, ReferenceLength)
		n := fillReference(ref, 0, []byte{255, 0, 1, 250})
		n = fillReference(ref, n, []byte{2, 3, 4, 5})
		if n != ReferenceLength || string(ref) != "ACDEFG" {
			t.Errorf("got %q (n=%d), want ACDEFG", ref[:n], n)
		}
	})
}

func TestNormalizeReference(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when refused
	}{
		{"ACDEFG", "ACDEFG"},
		{"acdefg", "ACDEFG"},
		{"ACD-EFG", "ACDEFG"},
		{"acd efg", "ACDEFG"},
		{"  A C D - E F G\n", "ACDEFG"},
		{"ACD–EFG", "ACDEFG"},      // en dash from a phone keyboard
		{"ACD\u00a0EFG", "ACDEFG"}, // no-break space from a copy
		{"34-6-79-9", "346799"},
		{"", ""},
		{"---", ""},
		{"ABCDE", ""},   // B is a look-alike (and too short)
		{"ABCDE0", ""},  // B and 0
		{"ABCDEFG", ""}, // B (and too long)
		{"ACDEF", ""},   // too short, valid characters
		{"ACDEFGH", ""}, // too long, valid characters
		{"ACDEF0", ""},  // 0 could be O or Q: refused, not guessed
		{"ACDEFO", ""},  // O
		{"ACDEF1", ""},  // 1
		{"ACDEFI", ""},  // I
		{"ACDEFL", ""},  // L
		{"ACDEFS", ""},  // S
		{"ACDEF5", ""},  // 5
		{"ACDEFZ", ""},  // Z
		{"ACDEF8", ""},  // 8
		{"ACDEF_", ""},  // punctuation other than dashes
		{"ACDEFé", ""},  // non-ASCII
		{"ACDEFＧ", ""},  // full-width G
		{"ACD.EFG", ""}, // dot
		{"ACDEFGACDEFG", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := NormalizeReference(tt.in)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("NormalizeReference(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.want != "")
			}
		})
	}
}

func TestFormatReference(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ACDEFG", "ACD-EFG"},
		{"acd efg", "ACD-EFG"},
		{"ACD-EFG", "ACD-EFG"},
		{"ABCDEF", "ABCDEF"}, // not a reference: unchanged
		{"", ""},
	}
	for _, tt := range tests {
		if got := FormatReference(tt.in); got != tt.want {
			t.Errorf("FormatReference(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalizeReference(f *testing.F) {
	for _, s := range []string{"ACDEFG", "acd-efg", " 34 67 9A ", "ABCDE0", "ACD–EFG", "ACDEFＧ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, ok := NormalizeReference(s)
		if !ok {
			if ref != "" {
				t.Fatalf("NormalizeReference(%q) refused but returned %q", s, ref)
			}
			return
		}
		if len(ref) != ReferenceLength || strings.Trim(ref, ReferenceAlphabet) != "" {
			t.Fatalf("NormalizeReference(%q) = %q: not canonical", s, ref)
		}
		for _, form := range []string{ref, FormatReference(ref), strings.ToLower(ref)} {
			if again, ok := NormalizeReference(form); !ok || again != ref {
				t.Fatalf("NormalizeReference(%q) = %q, %v; want %q", form, again, ok, ref)
			}
		}
	})
}
