package app_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"relais/internal/app"
)

// unsafeHTML returns what in s could run script in a browser or a mail client: a
// script-capable element, an on… event handler, a style attribute, or a link or source
// whose URL is javascript:, vbscript:, file: or data: (but inline images). Empty: safe.
func unsafeHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return "" // io.EOF: the tokenizer reads any input to the end
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "style", "form", "base", "meta", "link", "svg", "math":
				return "<" + tok.Data + "> element"
			}
			for _, at := range tok.Attr {
				key := strings.ToLower(at.Key)
				if strings.HasPrefix(key, "on") || key == "style" || key == "srcdoc" || key == "formaction" {
					return tok.Data + " has attribute " + at.Key
				}
				if key == "href" || key == "src" || key == "action" || key == "xlink:href" {
					if dangerousURL(at.Val) {
						return tok.Data + " " + at.Key + "=" + at.Val
					}
				}
			}
		}
	}
}

// dangerousURL reads the URL as a browser does: leading spaces and controls dropped,
// tabs and line breaks removed anywhere, scheme compared without case.
func dangerousURL(v string) bool {
	v = strings.TrimLeft(v, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	v = strings.ToLower(strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(v))
	// A raster image cannot run script wherever it is opened (goldmark lets these through,
	// in images and links alike); SVG, HTML and the rest can.
	for _, ok := range []string{"data:image/png;", "data:image/gif;", "data:image/jpeg;", "data:image/webp;"} {
		if strings.HasPrefix(v, ok) {
			return false
		}
	}
	for _, scheme := range []string{"javascript:", "vbscript:", "file:", "data:"} {
		if strings.HasPrefix(v, scheme) {
			return true
		}
	}
	return false
}

func TestUnsafeHTMLSeesWhatItShould(t *testing.T) {
	for _, s := range []string{`<script>x</script>`, `<a href="JaVa&#x09;script:alert(1)">`, `<img src=x onerror=alert(1)>`,
		`<p style="x">`, `<a href=" javascript:x">`, `<img src="data:text/html,x">`, `<img src="data:image/svg+xml,x">`} {
		if unsafeHTML(s) == "" {
			t.Errorf("%s: not seen", s)
		}
	}
	for _, s := range []string{`<p>&lt;script&gt; onload=x javascript:alert(1)</p>`, `<a href="https://x.tg/?q=javascript:">x</a>`,
		`<img src="data:image/png;base64,AAAA" alt="x">`, `<a href="dAtA:imAge/png;">`} {
		if r := unsafeHTML(s); r != "" {
			t.Errorf("%s: %s", s, r)
		}
	}
}

// FuzzRenderMarkdown: whatever an organizer types as an event description or a
// campaign body, no script, event handler or javascript: link comes out.
func FuzzRenderMarkdown(f *testing.F) {
	for _, s := range []string{
		"# Journée mondiale des télécommunications\n\n**17 mai** à [Lomé](https://example.tg), www.example.tg",
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"[x](javascript:alert(1)) [y](JAVASCRIPT:alert(1)) [z](java&#x09;script:alert(1)) <javascript:alert(1)>",
		"![i](data:text/html;base64,PHNjcmlwdD4=) ![p](data:image/png;base64,AAAA)",
		"[a]( vbscript:x ) [b](file:///etc/passwd) [c](&#106;avascript:alert(1))",
		"<a href=\"javascript:alert(1)\" onclick=\"x\">a</a>\n\n<div\nonmouseover=\"x\">",
		"| a | b |\n|---|---|\n| <svg onload=alert(1)> | ~~x~~ |",
		"[x]: javascript:alert(1)\n\n[x] ![y][x]",
		"```html\n<script>x</script>\n```\n\n`<script>`",
		"<!-- x --><style>*{}</style>\n\n<iframe src=//x>",
		"\x00\xff<scr\x00ipt>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out := string(app.RenderMarkdown(src))
		if r := unsafeHTML(out); r != "" {
			t.Fatalf("unsafe HTML (%s) from %q:\n%s", r, src, out)
		}
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Fatalf("<script from %q:\n%s", src, out)
		}
	})
}
