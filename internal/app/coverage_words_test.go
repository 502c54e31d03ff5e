package app_test

import (
	"fmt"
	"testing"

	"relais/internal/app"
)

// Words pasted around the links ("Mon article :", "Merci.") are not links: only what
// looks like an address is checked, and a real address that is malformed is refused.
func TestCoverageLinksIgnoreTheWordsAround(t *testing.T) {
	type bad struct {
		line      int
		text, msg string
	}
	for _, tc := range []struct {
		name    string
		text    string
		urls    []string
		invalid []bad
	}{
		{"colon before the link", "Mon article : https://kafui.example.org/a", []string{"https://kafui.example.org/a"}, nil},
		{"thanks after the link", "https://x.com/a/status/1 Merci.", []string{"https://x.com/a/status/1"}, nil},
		{"sentence around", "Bonjour, voici mon article (https://kafui.example.org/a). Merci !", []string{"https://kafui.example.org/a"}, nil},
		{"colon stuck to the link", "Article: facebook.com/kafui/posts/2.", []string{"https://facebook.com/kafui/posts/2"}, nil},
		{"words with dots", "M.Dupont a lu Node.js v1.2, 3.5 sur 10:30 ; Merci.Bonne journée www.youtube.com/watch?v=abc",
			[]string{"https://www.youtube.com/watch?v=abc"}, nil},
		{"host alone, common domain", "voir monblog.tg et Kafui.example.org", []string{"https://monblog.tg", "https://kafui.example.org"}, nil},
		{"host and path, any domain", "kafui.africa/a kafui.bzh/b", []string{"https://kafui.africa/a", "https://kafui.bzh/b"}, nil},
		{"only words", "Merci.", nil, []bad{{1, "Merci.", "coverage.error.url"}}},
		{"only a colon", "Mes articles :\nhttps://x.com/a/status/1", []string{"https://x.com/a/status/1"}, []bad{{1, "Mes articles :", "coverage.error.url"}}},
		{"misspelt scheme", "Mon article : htp://x", nil, []bad{{1, "htp://x", "coverage.error.url_scheme"}}},
		{"scheme alone", "Lien : https://", nil, []bad{{1, "https://", "coverage.error.url"}}},
		{"other scheme", "javascript:alert(1) Merci", nil, []bad{{1, "javascript:alert(1", "coverage.error.url_scheme"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			urls, _, invalid := app.ParseCoverageLinks(tc.text)
			if fmt.Sprint(urls) != fmt.Sprint(tc.urls) {
				t.Errorf("urls %q, want %q", urls, tc.urls)
			}
			var got []bad
			for _, l := range invalid {
				got = append(got, bad{l.Line, l.Text, l.Message})
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.invalid) {
				t.Errorf("invalid %+v, want %+v", got, tc.invalid)
			}
		})
	}
}
