package app

import (
	"html/template"
	"regexp"
	"strings"
	"unicode"
)

// CampaignPlaceholders are the names a campaign's subject and body may use, in braces,
// in the order the form lists them.
var CampaignPlaceholders = []string{"first_name", "last_name", "event_title", "event_date", "ticket_url",
	"coverage_url", "press_contact"}

// urlPlaceholders hold links Relais makes itself; the others hold what people typed.
var urlPlaceholders = map[string]bool{"ticket_url": true, "coverage_url": true}

// placeholderRe finds {name}: letters, digits, _ and -, so that {prénom} or {first-name}
// are seen (and refused) rather than sent as they are. Braces around anything else
// (spaces, punctuation) are ordinary text.
var placeholderRe = regexp.MustCompile(`\{([\p{L}\p{N}_-]{1,40})\}`)

// safeURLRe is what a link made by Relais looks like: inserted as is into the Markdown,
// it stays one clickable link; anything else is escaped like a person's name.
var safeURLRe = regexp.MustCompile(`^https?://[A-Za-z0-9._~:/?#@%=&+-]+$`)

// markdownLinkRe is an inline link [label](url), written "label (url)" in the text part.
var markdownLinkRe = regexp.MustCompile(`\[([^\[\]\n]+)\]\(([^()\s]+)\)`)

// UnknownPlaceholders returns the {names} of src that are not campaign placeholders,
// braces included, once each in order of appearance.
func UnknownPlaceholders(src string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range placeholderRe.FindAllStringSubmatch(src, -1) {
		if !knownPlaceholder(m[1]) && !seen[m[0]] {
			seen[m[0]] = true
			out = append(out, m[0])
		}
	}
	return out
}

func knownPlaceholder(name string) bool {
	for _, p := range CampaignPlaceholders {
		if p == name {
			return true
		}
	}
	return false
}

// ExpandedBody is a campaign body written for one recipient.
type ExpandedBody struct {
	HTML template.HTML // the Markdown rendered, safe to insert in an email
	Text string        // the Markdown as text, links written "label (url)"
}

// ExpandPlaceholders writes a campaign's Markdown body for one recipient: each
// {placeholder} takes its value from vals (missing values are empty) and the result
// is rendered with RenderMarkdown. Values are escaped for Markdown before they are
// inserted, so a first name such as "**x**" or "<script>" shows as typed and can
// neither format nor inject anything (and raw HTML is dropped by RenderMarkdown in any
// case). It is a pure function; an unknown placeholder is an error, not a silent gap.
func ExpandPlaceholders(src string, vals map[string]string) (ExpandedBody, error) {
	if unknown := UnknownPlaceholders(src); len(unknown) > 0 {
		return ExpandedBody{}, unknownPlaceholderError("body", unknown)
	}
	md := expand(src, func(name string) string {
		v := oneLine(vals[name])
		if urlPlaceholders[name] && safeURLRe.MatchString(v) {
			// In angle brackets: an autolink as it stands, a link's destination inside
			// [label](…), and whole either way. Bare, the Markdown autolinker drops a
			// trailing "_" that a token may end with, and the link goes to another page.
			return "<" + v + ">"
		}
		return escapeMarkdown(v)
	})
	text := markdownLinkRe.ReplaceAllString(src, "$1 ($2)")
	text = expand(text, func(name string) string { return oneLine(vals[name]) })
	return ExpandedBody{HTML: RenderMarkdown(md), Text: text}, nil
}

// ExpandSubject writes a campaign's subject for one recipient: plain text on one line.
func ExpandSubject(src string, vals map[string]string) (string, error) {
	if unknown := UnknownPlaceholders(src); len(unknown) > 0 {
		return "", unknownPlaceholderError("subject", unknown)
	}
	return oneLine(expand(src, func(name string) string { return vals[name] })), nil
}

func expand(src string, value func(name string) string) string {
	return placeholderRe.ReplaceAllStringFunc(src, func(m string) string {
		name := m[1 : len(m)-1]
		if !knownPlaceholder(name) {
			return m
		}
		return value(name)
	})
}

// oneLine replaces line breaks and other control characters with spaces: a value never
// starts a Markdown block, and a subject never becomes two header lines.
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// markdownPunct is CommonMark's ASCII punctuation: each may be backslash-escaped.
const markdownPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// escapeMarkdown backslash-escapes every ASCII punctuation character, which CommonMark
// then shows literally: no emphasis, link, HTML, list or heading can come out of a value.
func escapeMarkdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		if r < 128 && strings.ContainsRune(markdownPunct, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
