package model

import (
	"errors"
	"strings"
	"text/template"
	"time"
)

// BodyTemplate holds the bodies shared by many messages that differ only by a few values
// (a campaign's, one per language and kind of link): each message stores its values, and
// the bodies once for all. A campaign of ten thousand messages wrote their ten thousand
// copies, most of the time and disk its queuing took.
//
// HTMLBody and TextBody are text with slots, written by a BodyWriter: BodySlotMark
// followed by '0'+i stands for value i as it is, by 'a'+i for value i HTML-escaped, and
// by BodySlotMark itself for a literal BodySlotMark.
type BodyTemplate struct {
	ID        int64
	HTMLBody  string `gorm:"not null"`
	TextBody  string `gorm:"not null"`
	CreatedAt time.Time
}

// BodySlotMark starts a slot in a BodyTemplate's text.
const BodySlotMark = '\x01'

// BodyWriter writes the text of a BodyTemplate.
type BodyWriter struct{ strings.Builder }

// Literal writes s as it is.
func (w *BodyWriter) Literal(s string) {
	for {
		i := strings.IndexByte(s, BodySlotMark)
		if i < 0 {
			w.WriteString(s)
			return
		}
		w.WriteString(s[:i+1])
		w.WriteByte(BodySlotMark)
		s = s[i+1:]
	}
}

// Slot writes the place of value i (0 to 9), HTML-escaped there when escaped.
func (w *BodyWriter) Slot(i int, escaped bool) {
	c := byte('0' + i)
	if escaped {
		c = byte('a' + i)
	}
	w.WriteByte(BodySlotMark)
	w.WriteByte(c)
}

var errBodyTemplate = errors.New("model: malformed body template")

// ExpandBody writes a BodyTemplate's text with vals in its slots.
func ExpandBody(tmpl string, vals []string) (string, error) {
	var b strings.Builder
	b.Grow(len(tmpl) + 64)
	for {
		i := strings.IndexByte(tmpl, BodySlotMark)
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), nil
		}
		b.WriteString(tmpl[:i])
		if i+1 >= len(tmpl) {
			return "", errBodyTemplate
		}
		switch c := tmpl[i+1]; {
		case c == BodySlotMark:
			b.WriteByte(BodySlotMark)
		case c >= '0' && c <= '9' && int(c-'0') < len(vals):
			b.WriteString(vals[c-'0'])
		case c >= 'a' && c <= 'j' && int(c-'a') < len(vals):
			b.WriteString(template.HTMLEscapeString(vals[c-'a']))
		default:
			return "", errBodyTemplate
		}
		tmpl = tmpl[i+2:]
	}
}

// Bodies returns the message's HTML and text bodies: its own, or its template's with
// its values.
func (m *Message) Bodies() (html, text string, err error) {
	if m.BodyTemplate == nil {
		return m.HTMLBody, m.TextBody, nil
	}
	if html, err = ExpandBody(m.BodyTemplate.HTMLBody, m.BodyValues); err != nil {
		return "", "", err
	}
	text, err = ExpandBody(m.BodyTemplate.TextBody, m.BodyValues)
	return html, text, err
}
