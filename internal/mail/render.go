package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"relais/internal/i18n"
)

// Renderer writes emails from templates/emails: for each kind a KIND.html.tmpl and a
// KIND.txt.tmpl, each defining "content", framed by layout.html.tmpl and layout.txt.tmpl.
// The subject is the catalogue message mail.KIND.subject. Templates are parsed once per
// language, so that `t` needs no language argument, on the first email of their kind
// and language: a process holds only the sets it sends (all of them held 1.8 MB).
type Renderer struct {
	b     *i18n.Bundle
	kinds []string
	sets  map[string]map[string]func() (*emailTemplates, error) // lang → kind → templates, parsed once
}

type emailTemplates struct {
	html *htmltemplate.Template
	text *texttemplate.Template
}

// NewRenderer parses every email template in fsys (the templates package's FS). It fails
// when a template does not parse, a kind lacks its HTML or text part, or a subject is
// missing from a catalogue: better at start-up than when the first email is due.
func NewRenderer(fsys fs.FS, b *i18n.Bundle) (*Renderer, error) {
	files, err := fs.Glob(fsys, "emails/*.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("mail: templates: %w", err)
	}
	r := &Renderer{b: b, sets: map[string]map[string]func() (*emailTemplates, error){}}
	for _, f := range files {
		if kind := strings.TrimSuffix(path.Base(f), ".html.tmpl"); kind != "layout" {
			r.kinds = append(r.kinds, kind)
		}
	}
	if len(r.kinds) == 0 {
		return nil, fmt.Errorf("mail: templates: no email in emails/")
	}
	parse := func(lang, kind string) (*emailTemplates, error) {
		h, err := htmltemplate.New("layout.html.tmpl").Funcs(htmlFuncs(b, lang)).
			ParseFS(fsys, "emails/layout.html.tmpl", "emails/"+kind+".html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("mail: templates: %w", err)
		}
		t, err := texttemplate.New("layout.txt.tmpl").Funcs(textFuncs(b, lang)).
			ParseFS(fsys, "emails/layout.txt.tmpl", "emails/"+kind+".txt.tmpl")
		if err != nil {
			return nil, fmt.Errorf("mail: templates: %w", err)
		}
		if h.Lookup("content") == nil || t.Lookup("content") == nil {
			return nil, fmt.Errorf("mail: templates: %s does not define \"content\"", kind)
		}
		return &emailTemplates{html: h, text: t}, nil
	}
	for _, kind := range r.kinds {
		// The sets of all languages are the same files with other helpers: one parse
		// checks them, then goes.
		if _, err := parse(i18n.Langs[0], kind); err != nil {
			return nil, err
		}
	}
	for _, lang := range i18n.Langs {
		r.sets[lang] = map[string]func() (*emailTemplates, error){}
		for _, kind := range r.kinds {
			if id := subjectID(kind); !b.Has(lang, id) {
				return nil, fmt.Errorf("mail: catalogue %s has no %s", lang, id)
			}
			r.sets[lang][kind] = sync.OnceValues(func() (*emailTemplates, error) { return parse(lang, kind) })
		}
	}
	return r, nil
}

// Kinds lists the kinds of email there are templates for, sorted.
func (r *Renderer) Kinds() []string { return slices.Sorted(slices.Values(r.kinds)) }

// Render writes one email in lang (the default language when lang is not supported).
// data is what the templates see, plus Lang; the layout also uses Org (Name, Address,
// Website), PressContact (Name, Email, Phone) and UnsubscribeURL when given. The subject
// is mail.KIND.subject filled from data's top-level keys.
func (r *Renderer) Render(kind, lang string, data map[string]any) (subject, html, text string, err error) {
	lang = i18n.Supported(lang)
	load := r.sets[lang][kind]
	if load == nil {
		return "", "", "", fmt.Errorf("mail: no email template %q", kind)
	}
	set, err := load()
	if err != nil {
		return "", "", "", err
	}
	d := make(map[string]any, len(data)+1)
	for k, v := range data {
		d[k] = v
	}
	d["Lang"] = lang
	h, t := renderBufs.Get().(*bytes.Buffer), renderBufs.Get().(*bytes.Buffer)
	defer putRenderBuf(h)
	defer putRenderBuf(t)
	if err := set.html.Execute(h, d); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s (%s): %w", kind, lang, err)
	}
	if err := set.text.Execute(t, d); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s (%s): %w", kind, lang, err)
	}
	pairs := make([]any, 0, 2*len(d))
	for k, v := range d {
		pairs = append(pairs, k, v)
	}
	// Collapse ASCII white space only: French typography keeps its non-breaking spaces.
	subject = strings.Join(strings.FieldsFunc(r.b.T(lang, subjectID(kind), pairs...), func(c rune) bool {
		return c == ' ' || c == '\t' || c == '\n' || c == '\r'
	}), " ")
	return subject, h.String(), t.String(), nil
}

// renderBufs keeps the buffers emails are written into. A confirmation's HTML is about
// 10 KB: growing a new buffer to that size for every email was a quarter of the memory
// a registration allocated, and the collector's work with it.
var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putRenderBuf gives b back, unless an unusually large email grew it.
func putRenderBuf(b *bytes.Buffer) {
	if b.Cap() <= 256<<10 {
		b.Reset()
		renderBufs.Put(b)
	}
}

func subjectID(kind string) string { return "mail." + kind + ".subject" }

// funcs are the helpers both kinds of template share, bound to one language.
func funcs(b *i18n.Bundle, lang string) map[string]any {
	return map[string]any{
		"t": func(id string, kv ...any) string { return b.T(lang, id, kv...) },
		"date": func(t time.Time, loc ...any) string {
			return i18n.Date(t, location(loc), lang)
		},
		"datetime": func(t time.Time, loc ...any) string {
			return i18n.DateTime(t, location(loc), lang)
		},
		// "range" is a template keyword, hence daterange.
		"daterange": func(start, end time.Time, loc ...any) string {
			return i18n.Range(start, end, location(loc), lang)
		},
	}
}

func htmlFuncs(b *i18n.Bundle, lang string) htmltemplate.FuncMap {
	fm := htmltemplate.FuncMap(funcs(b, lang))
	// html/template lets only http, https and mailto through in URLs; cid: names an
	// inline part of this very email.
	fm["cid"] = func(id string) htmltemplate.URL { return htmltemplate.URL("cid:" + id) }
	return fm
}

func textFuncs(b *i18n.Bundle, lang string) texttemplate.FuncMap {
	fm := texttemplate.FuncMap(funcs(b, lang))
	fm["cid"] = func(id string) string { return "cid:" + id }
	return fm
}

// location reads the optional zone argument of the date helpers: a *time.Location or a
// zone name ("Africa/Lome"); UTC otherwise.
func location(args []any) *time.Location {
	if len(args) == 0 {
		return time.UTC
	}
	switch l := args[0].(type) {
	case *time.Location:
		if l != nil {
			return l
		}
	case string:
		if loc, err := time.LoadLocation(l); err == nil {
			return loc
		}
	}
	return time.UTC
}
