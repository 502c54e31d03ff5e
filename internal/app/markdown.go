package app

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// markdown renders organizers' text. Raw HTML in the source is dropped (goldmark's
// default without html.WithUnsafe) and dangerous link schemes are neutralised.
var markdown = goldmark.New(
	// Table alignment as an align attribute: a style attribute would be blocked by the
	// pages' CSP (no inline style) and is refused by the safety checks of the fuzz targets.
	goldmark.WithExtensions(extension.Linkify, extension.Strikethrough,
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute))),
	goldmark.WithRendererOptions(html.WithHardWraps()),
)

// RenderMarkdown turns Markdown into safe HTML.
func RenderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(buf.String())
}
