package app

import (
	"slices"
	"testing"
)

// The same publication pasted with http and with https, in one text, is one link and
// one duplicate; other differences still make distinct links.
func TestReviewPublicParseCoverageLinksSchemes(t *testing.T) {
	urls, dups, invalid := ParseCoverageLinks("http://kafui.tg/article\nhttps://kafui.tg/article\nHTTPS://KAFUI.TG/article\nhttps://kafui.tg/autre")
	if want := []string{"http://kafui.tg/article", "https://kafui.tg/autre"}; !slices.Equal(urls, want) {
		t.Fatalf("urls %q, want %q", urls, want)
	}
	if len(dups) != 2 || len(invalid) != 0 {
		t.Fatalf("dups %q, invalid %+v", dups, invalid)
	}
	for in, want := range map[string]string{"https://a.tg/x": "http://a.tg/x", "http://a.tg/x": "https://a.tg/x", "ftp://a.tg": "ftp://a.tg"} {
		if got := otherScheme(in); got != want {
			t.Errorf("otherScheme(%q) = %q, want %q", in, got, want)
		}
	}
}
