package model

import (
	"strings"
	"unicode"
)

// foldRunes maps the accented and extra Latin letters met in French and in the languages
// of Togo (Ewe, Kabiyè: ɛ, ɔ, ɖ, ŋ, ʋ, ɣ, ƒ) to plain letters, so that searching "ayele"
// finds "Ayélé" on both databases (SQLite's LOWER folds ASCII only).
var foldRunes = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae",
	'ç': "c", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i",
	'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'œ': "oe",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'ÿ': "y", 'ß': "ss",
	'ɛ': "e", 'ɔ': "o", 'ɖ': "d", 'ŋ': "n", 'ʋ': "v", 'ɣ': "g", 'ƒ': "f", 'ǝ': "e", 'ə': "e",
	'ā': "a", 'ă': "a", 'ē': "e", 'ě': "e", 'ī': "i", 'ō': "o", 'ū': "u", 'ǎ': "a", 'ǐ': "i",
	'ǒ': "o", 'ǔ': "u", '’': "'",
}

// FoldText lower-cases s, removes accents and collapses spaces: the form in which
// contacts are searched and sorted.
func FoldText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		r = unicode.ToLower(r)
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		// Combining marks (a "é" written as e + ´) disappear.
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		space = false
		if f, ok := foldRunes[r]; ok {
			b.WriteString(f)
		} else {
			b.WriteRune(r)
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

// RefreshSearch recomputes the contact's search text (names, email, outlet, city and
// channel handles) and sort key (last name, first name, or the email when nameless).
// The store calls it before every write of a contact.
func (c *Contact) RefreshSearch() {
	parts := []string{c.FirstName, c.LastName, c.Email, c.Outlet, c.City, c.BlogURL}
	for _, ch := range c.Channels {
		parts = append(parts, ch.Handle, ch.URL)
	}
	c.SearchText = clipRunes(FoldText(strings.Join(parts, " ")), 1000)
	name := strings.TrimSpace(c.LastName + " " + c.FirstName)
	if name == "" {
		name = "~" + c.Email // after the named contacts
	}
	c.SortName = clipRunes(FoldText(name), 200)
}

func clipRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
