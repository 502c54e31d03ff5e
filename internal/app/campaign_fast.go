package app

import (
	"context"
	"crypto/rand"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"relais/internal/model"
	"relais/internal/store"
)

// Writing a campaign's messages from one rendering. Rendering a campaign email for one
// recipient runs the Markdown renderer and the HTML and text templates; for ten thousand
// recipients that was most of the time the organizer waited after clicking "send". The
// campaignWriter renders each variant of the email (language, kind of ticket link) once,
// for a made-up recipient whose name and tokens are unique markers, and writes every
// recipient's message by putting their values where the markers came out.
//
// That is only right when the values behave exactly like the markers, so:
//
//   - a value goes in only when it is plain: a name of letters, digits and marks with
//     single spaces, hyphens, apostrophes and a period before a space inside, starting
//     with a letter; a token of letters, digits, '-' and '_'. No such value can open or
//     close anything in Markdown or HTML, whatever surrounds it. Any other recipient
//     (an empty or unusual name) is rendered the ordinary way;
//   - the body may put a recipient's placeholder only between spaces, line ends,
//     emphasis marks, brackets, quotes and closing punctuation, never glued to other text
//     (where "&{first_name};" could become an entity), or the whole campaign is rendered
//     the ordinary way;
//   - each variant is rendered twice, with the markers and with the markers followed by a
//     sample holding every kind of character a value may hold. Both renderings must be
//     identical but for the samples, each of which must come out as is or HTML-escaped:
//     that is how a value is then written at that place. Anything else (a marker that the
//     templates transform, drop, or put in a link's address) leaves the variant to the
//     ordinary way;
//   - the first recipient of each variant, and every campFastCheckEvery-th after, is also
//     rendered the ordinary way and compared: a difference logs a warning and the rest of
//     the variant is rendered the ordinary way.

// campFastCheckEvery is how often a message written from the markers is compared with
// the ordinary rendering.
const campFastCheckEvery = 128

// The values of one recipient that change from message to message.
const (
	campFastFirst = iota // first name
	campFastLast         // last name
	campFastToken        // ticket or invitation token, in {ticket_url} and {coverage_url}
	campFastUnsub        // unsubscribe token
	campFastSlots
)

// campFastPart is literal text followed by a recipient's value (slot < 0: none).
type campFastPart struct {
	lit  string
	slot int
	html bool // the value is HTML-escaped there
}

// campFastField is one field of the message (subject, HTML body…) as parts.
type campFastField []campFastPart

func (f campFastField) write(vals, escaped *[campFastSlots]string) string {
	n := 0
	for _, p := range f {
		n += len(p.lit)
		if p.slot >= 0 {
			n += len(escaped[p.slot])
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range f {
		b.WriteString(p.lit)
		switch {
		case p.slot < 0:
		case p.html:
			b.WriteString(escaped[p.slot])
		default:
			b.WriteString(vals[p.slot])
		}
	}
	return b.String()
}

// campFastKey is a variant of a campaign's email: the language and the kind of link
// {ticket_url} holds ('t' ticket, 'i' invitation, 'e' event page), with a token holding
// '_' apart (such a link is escaped as text in the Markdown rather than inserted as is).
type campFastKey struct {
	lang       string
	link       byte
	underscore bool
}

// campFastTemplate is one variant rendered with markers.
type campFastTemplate struct {
	proto                                model.Message // fields common to every recipient
	subject, html, text, toName, headers campFastField
	uses                                 int
	// body is the variant's bodies, stored once for its messages (nil: each message
	// carries its own, as the tests' writers do).
	body *model.BodyTemplate
}

// bodyTemplate writes the variant's bodies as a model.BodyTemplate.
func (t *campFastTemplate) bodyTemplate() *model.BodyTemplate {
	text := func(f campFastField) string {
		var w model.BodyWriter
		for _, p := range f {
			w.Literal(p.lit)
			if p.slot >= 0 {
				w.Slot(p.slot, p.html)
			}
		}
		return w.String()
	}
	return &model.BodyTemplate{HTMLBody: text(t.html), TextBody: text(t.text)}
}

// fill writes the message of one recipient, vals in their slots, but for its recipient's
// address, ids and attachments.
func (t *campFastTemplate) fill(vals *[campFastSlots]string) model.Message {
	var escaped [campFastSlots]string
	for i, v := range vals {
		escaped[i] = template.HTMLEscapeString(v)
	}
	m := t.proto
	m.Subject = t.subject.write(vals, &escaped)
	if t.body != nil {
		m.BodyTemplate, m.BodyValues = t.body, slices.Clone(vals[:])
	} else {
		m.HTMLBody, m.TextBody = t.html.write(vals, &escaped), t.text.write(vals, &escaped)
	}
	m.ToName, m.Headers = t.toName.write(vals, &escaped), t.headers.write(vals, &escaped)
	return m
}

// campaignWriter writes the messages of one campaign, recipient after recipient.
type campaignWriter struct {
	a        *App
	c        *model.Campaign
	ev       *model.Event
	settings *model.Settings
	kit      []model.Attachment
	docs     []documentLink
	marker   string                            // prefix of every marker
	shared   bool                              // each variant's bodies are stored once (model.BodyTemplate)
	fastBody bool                              // the body's placeholders are where values can go in as is
	lineHead bool                              // one of them may begin a line, where "1." would start a list
	tmpls    map[campFastKey]*campFastTemplate // nil: that variant is rendered the ordinary way

	checkEvery int // compare one message in so many with the ordinary rendering (0: never, for tests)
	fast, slow int // messages written each way, for tests
}

func (a *App) newCampaignWriter(c *model.Campaign, ev *model.Event, settings *model.Settings,
	kit []model.Attachment, docs []documentLink) *campaignWriter {
	w := &campaignWriter{a: a, c: c, ev: ev, settings: settings, kit: kit, docs: docs,
		marker: "Qz" + strings.ToLower(rand.Text()[:12]), tmpls: map[campFastKey]*campFastTemplate{},
		checkEvery: campFastCheckEvery}
	w.fastBody, w.lineHead = campFastBodyOK(c.Body)
	return w
}

// message writes the campaign's message for r.
func (w *campaignWriter) message(ctx context.Context, r *store.CampaignRecipient) (*model.Message, error) {
	m, err := w.fastMessage(ctx, r)
	if err != nil {
		return nil, err
	}
	if m != nil {
		w.fast++
		return m, nil
	}
	w.slow++
	return w.slowMessage(ctx, r)
}

// slowMessage renders the message for r the ordinary way.
func (w *campaignWriter) slowMessage(ctx context.Context, r *store.CampaignRecipient) (*model.Message, error) {
	em, err := w.a.campaignEmail(w.c, w.ev, r, w.settings, w.kit, w.docs)
	if err != nil {
		return nil, err
	}
	return w.a.buildMessage(ctx, em)
}

// fastMessage writes the message for r from its variant's rendering, or returns nil
// when r's values or the variant do not allow it.
func (w *campaignWriter) fastMessage(ctx context.Context, r *store.CampaignRecipient) (*model.Message, error) {
	if !w.fastBody || !campFastNameOK(r.FirstName, !w.lineHead) || !campFastNameOK(r.LastName, !w.lineHead) ||
		!campFastTokenOK(r.UnsubscribeToken, false) {
		return nil, nil
	}
	var vals [campFastSlots]string
	vals[campFastFirst], vals[campFastLast], vals[campFastUnsub] = r.FirstName, r.LastName, r.UnsubscribeToken
	key := campFastKey{lang: recipientLang(r, w.ev, w.a.Config.Lang), link: 'e'}
	switch {
	case r.ManageToken != nil && *r.ManageToken != "":
		key.link, vals[campFastToken] = 't', *r.ManageToken
	case r.InvitationToken != nil && *r.InvitationToken != "":
		key.link, vals[campFastToken] = 'i', *r.InvitationToken
	}
	if key.link != 'e' {
		if !campFastTokenOK(vals[campFastToken], true) {
			return nil, nil
		}
		key.underscore = strings.Contains(vals[campFastToken], "_")
	}
	t, ok := w.tmpls[key]
	if !ok {
		var err error
		if t, err = w.compile(ctx, key); err != nil {
			return nil, err
		}
		w.tmpls[key] = t
	}
	if t == nil {
		return nil, nil
	}
	m := t.fill(&vals)
	contactID := r.ContactID
	m.IdempotencyKey = CampaignKey(w.c.ID) + strconv.FormatInt(r.ContactID, 10)
	m.ToEmail, m.ContactID = r.Email, &contactID
	m.Attachments = append([]model.Attachment(nil), w.kit...)
	t.uses++
	if w.checkEvery > 0 && t.uses%w.checkEvery == 1 {
		slow, err := w.slowMessage(ctx, r)
		if err != nil {
			return nil, err
		}
		if !campFastSame(&m, slow) {
			w.warn("campaign: the message written from markers differs from the rendered one; rendering the rest of this variant one by one",
				"campaign", w.c.ID, "contact", r.ContactID, "lang", key.lang)
			w.tmpls[key] = nil
			return nil, nil
		}
	}
	return &m, nil
}

func (w *campaignWriter) warn(msg string, args ...any) {
	if w.a.Log != nil {
		w.a.Log.Warn(msg, args...)
	}
}

// campFastSamples follow the markers in the second rendering: every kind of character a
// value may hold, and where it may hold it.
var campFastSamples = [campFastSlots]string{
	campFastFirst: "-d’Ar'c K. Zé2e\u0301",
	campFastLast:  "-d’Ar'c K. Zé2e\u0301",
	campFastToken: "-Az09",
	campFastUnsub: "_-A_z09-",
}

// compile renders the variant key with markers, or returns nil when values cannot be
// put in its rendering as they are.
func (w *campaignWriter) compile(ctx context.Context, key campFastKey) (*campFastTemplate, error) {
	var markers, samples [campFastSlots]string
	for i, suffix := range [campFastSlots]string{"Fa", "La", "Ta", "Ua"} {
		markers[i] = w.marker + suffix
	}
	if key.underscore {
		markers[campFastToken] = w.marker + "T_a"
	}
	for i := range samples {
		samples[i] = markers[i] + campFastSamples[i]
	}
	probe := func(vals *[campFastSlots]string) (*model.Message, error) {
		lang := key.lang
		r := &store.CampaignRecipient{ContactID: 0, Email: "exemple@example.org", FirstName: vals[campFastFirst],
			LastName: vals[campFastLast], UnsubscribeToken: vals[campFastUnsub], RegLang: &lang}
		switch key.link {
		case 't':
			r.ManageToken = &vals[campFastToken]
		case 'i':
			r.InvitationToken = &vals[campFastToken]
		}
		return w.slowMessage(ctx, r)
	}
	a, err := probe(&markers)
	if err != nil {
		return nil, err
	}
	b, err := probe(&samples)
	if err != nil {
		return nil, err
	}
	if a.Lang != key.lang || len(a.Attachments) != len(w.kit) {
		return nil, nil
	}
	t := markedTemplate(w.marker, a, b, &markers, &campFastSamples)
	if t == nil {
		return nil, nil
	}
	if w.shared {
		t.body = t.bodyTemplate()
		if err := w.a.Store.CreateBodyTemplate(ctx, t.body); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// markedTemplate makes a template of x, rendered with markers (each beginning with
// prefix), and y, rendered with each marker followed by its sample, or returns nil when
// they differ anywhere but at the values, or a marker reaches the sender.
func markedTemplate(prefix string, x, y *model.Message, markers, samples *[campFastSlots]string) *campFastTemplate {
	if x.Kind != y.Kind || x.Lang != y.Lang || x.FromEmail != y.FromEmail || x.FromName != y.FromName ||
		x.ReplyTo != y.ReplyTo || strings.Contains(x.FromName+x.FromEmail+x.ReplyTo, prefix) {
		return nil
	}
	t := &campFastTemplate{proto: *x}
	for _, f := range []struct {
		out  *campFastField
		a, b string
	}{
		{&t.subject, x.Subject, y.Subject}, {&t.html, x.HTMLBody, y.HTMLBody}, {&t.text, x.TextBody, y.TextBody},
		{&t.toName, x.ToName, y.ToName}, {&t.headers, sortedLines(x.Headers), sortedLines(y.Headers)},
	} {
		var ok bool
		if *f.out, ok = splitMarked(prefix, f.a, f.b, markers, samples); !ok {
			return nil
		}
	}
	t.proto.Subject, t.proto.HTMLBody, t.proto.TextBody, t.proto.ToName, t.proto.Headers = "", "", "", "", ""
	t.proto.ToEmail, t.proto.IdempotencyKey, t.proto.ContactID, t.proto.Attachments = "", "", nil, nil
	return t
}

// splitMarked cuts a, rendered with markers (each beginning with prefix), into parts at
// each marker, checking against b, rendered with each marker followed by its sample, how
// the value comes out there: as is, or HTML-escaped. ok is false when b is anything else.
func splitMarked(prefix, a, b string, markers, samples *[campFastSlots]string) (f campFastField, ok bool) {
	for {
		i := strings.Index(a, prefix)
		if i < 0 {
			if a != b {
				return nil, false
			}
			return append(f, campFastPart{lit: a, slot: -1}), true
		}
		slot := -1
		for s, m := range markers {
			if strings.HasPrefix(a[i:], m) {
				slot = s
				break
			}
		}
		if slot < 0 {
			return nil, false
		}
		lit, marker := a[:i], markers[slot]
		if !strings.HasPrefix(b, lit) || !strings.HasPrefix(b[len(lit):], marker) {
			return nil, false
		}
		a, b = a[i+len(marker):], b[len(lit)+len(marker):]
		sample := samples[slot]
		part := campFastPart{lit: lit, slot: slot}
		switch {
		case strings.HasPrefix(b, sample):
			b = b[len(sample):]
		case strings.HasPrefix(b, template.HTMLEscapeString(sample)):
			b, part.html = b[len(template.HTMLEscapeString(sample)):], true
		default:
			return nil, false
		}
		f = append(f, part)
	}
}

// campFastNameOK reports whether a name can be put in a rendering as it is: letters,
// digits and marks, with single spaces, hyphens, apostrophes and periods (followed by a
// space) between them; it starts with a letter, or with a digit when digitFirst (no
// placeholder begins a line, where "12" before ". " would make a numbered list).
func campFastNameOK(s string, digitFirst bool) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	prev := ' '
	for i, r := range s {
		switch {
		case unicode.IsLetter(r):
		case unicode.IsDigit(r):
			if i == 0 && !digitFirst {
				return false
			}
		case unicode.IsMark(r):
			if i == 0 {
				return false
			}
		case r == ' ' || r == '-' || r == '\'' || r == '’' || r == '.':
			if i == 0 || (r == ' ' && prev == ' ') {
				return false
			}
		default:
			return false
		}
		if prev == '.' && r != ' ' {
			return false
		}
		prev = r
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(last) || unicode.IsDigit(last) || unicode.IsMark(last)
}

// campFastTokenOK reports whether a token can be put in a rendering as it is: letters,
// digits, '-' and '_' (what NewToken makes). A token in a link of the Markdown body
// (link) also ends with a letter or a digit, as the markers do: the end of a link found
// in text depends on its last character.
func campFastTokenOK(s string, link bool) bool {
	if s == "" || len(s) > 100 || (link && !isAlnum(s[len(s)-1])) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// campFastRecipientPlaceholders are the placeholders whose value changes with the recipient.
var campFastRecipientPlaceholders = map[string]bool{"first_name": true, "last_name": true, "ticket_url": true, "coverage_url": true}

// campFastBodyOK reports whether every recipient's placeholder in the Markdown body
// stands apart: after a line start, a space, an emphasis mark, an opening bracket or a
// quote, and before a line end, a space, an emphasis mark, a closing bracket, a quote or
// punctuation that ends a phrase ('.' and ':' followed by a space or a line end).
// lineHead tells whether one may begin a line's text, after nothing but spaces and the
// marks of quotes, lists and headings.
func campFastBodyOK(body string) (ok, lineHead bool) {
	for _, loc := range placeholderRe.FindAllStringSubmatchIndex(body, -1) {
		if !campFastRecipientPlaceholders[body[loc[2]:loc[3]]] {
			continue
		}
		line := body[strings.LastIndexByte(body[:loc[0]], '\n')+1 : loc[0]]
		if strings.Trim(line, " \t>-*+#0123456789.)") == "" {
			lineHead = true
		}
		if loc[0] > 0 {
			before, _ := utf8.DecodeLastRuneInString(body[:loc[0]])
			if !unicode.IsSpace(before) && !strings.ContainsRune("*_~(\"'«“‘", before) {
				return false, lineHead
			}
		}
		if rest := body[loc[1]:]; rest != "" {
			after, n := utf8.DecodeRuneInString(rest)
			switch {
			case unicode.IsSpace(after) || strings.ContainsRune("*_~),;!?\"'»”’", after):
			case after == '.' || after == ':':
				if next, _ := utf8.DecodeRuneInString(rest[n:]); rest[n:] != "" && !unicode.IsSpace(next) {
					return false, lineHead
				}
			default:
				return false, lineHead
			}
		}
	}
	return true, lineHead
}

// sortedLines puts the lines of s in order (extra headers come from a map, in any order).
func sortedLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	slices.Sort(lines)
	return strings.Join(lines, "")
}

// campFastSame reports whether a message written from markers is the rendered one.
// sameBodies reports whether m's bodies, written out, are want's.
func sameBodies(m, want *model.Message) bool {
	html, text, err := m.Bodies()
	return err == nil && html == want.HTMLBody && text == want.TextBody
}

func campFastSame(m, want *model.Message) bool {
	eq := func(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return m.Kind == want.Kind && m.IdempotencyKey == want.IdempotencyKey && m.ToEmail == want.ToEmail &&
		m.ToName == want.ToName && m.FromEmail == want.FromEmail && m.FromName == want.FromName &&
		m.ReplyTo == want.ReplyTo && m.Subject == want.Subject && sameBodies(m, want) &&
		sortedLines(m.Headers) == sortedLines(want.Headers) && m.Lang == want.Lang &&
		eq(m.EventID, want.EventID) && eq(m.ContactID, want.ContactID) && eq(m.CampaignID, want.CampaignID) &&
		len(m.Attachments) == len(want.Attachments)
}
