package ticket

import (
	"strings"
	"testing"
)

func TestNewCode(t *testing.T) {
	const draws = 10_000
	seen := make(map[string]bool, draws)
	var and, or [codeBytes]byte
	for i := range and {
		and[i] = 0xff
	}
	for range draws {
		code := NewCode()
		if seen[code] {
			t.Fatalf("NewCode repeated %q", code)
		}
		seen[code] = true
		if len(code) != CodeLength || !strings.HasPrefix(code, CodePrefix) {
			t.Fatalf("NewCode() = %q: want %d characters starting with %q", code, CodeLength, CodePrefix)
		}
		if got, ok := ParseCode(code); !ok || got != code {
			t.Fatalf("ParseCode(%q) = %q, %v; want it back", code, got, ok)
		}
		if got, ok := ParseCode(" " + strings.ToLower(code) + "\r\n"); !ok || got != code {
			t.Fatalf("ParseCode(lower-case %q) = %q, %v; want %q", code, got, ok, code)
		}
		raw, err := codeEncoding.DecodeString(code[len(CodePrefix):])
		if err != nil || len(raw) != codeBytes {
			t.Fatalf("code %q decodes to %d bytes, %v", code, len(raw), err)
		}
		for i, b := range raw {
			and[i] &= b
			or[i] |= b
		}
	}
	// Every one of the 160 bits must have been seen both set and clear: a
	// code built from fewer random bytes (padded, truncated, a counter) fails.
	for i := range and {
		if and[i] != 0 || or[i] != 0xff {
			t.Errorf("byte %d: AND %08b, OR %08b over %d codes; want every bit to vary", i, and[i], or[i], draws)
		}
	}
}

func TestParseCode(t *testing.T) {
	const valid = "RLS1-MZXW6YTBOI4DQNJSGE3TGMZXGI2DANBS"
	tests := []struct {
		name string
		in   string
		want string // "" when refused
	}{
		{"canonical", valid, valid},
		{"lower case", strings.ToLower(valid), valid},
		{"mixed case", "rls1-MzXw6YTBOI4DQNJSGE3TGMZXGI2DANBS", valid},
		{"scanner suffix", valid + "\r\n", valid},
		{"spaces around", "  \t" + valid + " ", valid},
		{"empty", "", ""},
		{"prefix only", CodePrefix, ""},
		{"no prefix", valid[len(CodePrefix):], ""},
		{"other version", "RLS2-" + valid[len(CodePrefix):], ""},
		{"prefix without dash", "RLS1M" + valid[len(CodePrefix):], ""},
		{"one short", valid[:len(valid)-1], ""},
		{"one long", valid + "A", ""},
		{"padding", valid[:len(valid)-1] + "=", ""},
		{"digit 1 not base32", valid[:len(valid)-1] + "1", ""},
		{"digit 8 not base32", valid[:len(valid)-1] + "8", ""},
		{"space inside", valid[:20] + " " + valid[21:], ""},
		{"dotless i", valid[:len(valid)-2] + "ı", ""}, // 'ı' upper-cases to 'I' in Unicode
		{"URL in a QR", "https://example.org/RLS1-MZXW6YTBOI4DQNJSGE3TG", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseCode(tt.in)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("ParseCode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.want != "")
			}
		})
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{
		"RLS1-MZXW6YTBOI4DQNJSGE3TGMZXGI2DANBS",
		"rls1-mzxw6ytboi4dqnjsge3tgmzxgi2danbs\n",
		"RLS1-", "", "RLS1-MZXW6YTBOI4DQNJSGE3TGMZXGI2DANB=",
		"RLS1-MZXW6YTBOI4DQNJSGE3TGMZXGI2DANBı",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := ParseCode(s)
		if !ok {
			if code != "" {
				t.Fatalf("ParseCode(%q) refused but returned %q", s, code)
			}
			return
		}
		if len(code) != CodeLength || !strings.HasPrefix(code, CodePrefix) {
			t.Fatalf("ParseCode(%q) = %q: not canonical", s, code)
		}
		if again, ok := ParseCode(code); !ok || again != code {
			t.Fatalf("ParseCode(%q) = %q, %v; canonical form must parse to itself", code, again, ok)
		}
		if !strings.EqualFold(strings.TrimSpace(s), code) {
			t.Fatalf("ParseCode(%q) = %q: more than case and spaces changed", s, code)
		}
	})
}
