package web

import (
	"strconv"
	"strings"
)

// Charts of the event report are drawn on the server as inline SVG: this file computes
// the geometry, templates/partials/charts.html writes the <svg> through html/template
// (so every label is escaped). No script, no library, and the page prints as it shows.
// Each chart carries a <title> and a <desc> for screen readers, and its data also
// comes as a table beside it.

// chart is one bar chart, ready to draw.
type chart struct {
	ID     string
	Title  string
	Desc   string
	Width  int
	Height int
	Bars   []chartBar
	Ticks  []chartTick
	Axis   chartLine
	// Headers of the data table: what a bar is, and what its value counts.
	LabelHeader, ValueHeader string
	// DataTitle names the data table's disclosure ("Données du graphique").
	DataTitle string
	Empty     bool
}

type chartBar struct {
	X, Y, W, H     string
	Label          string
	Value          int64
	ValueText      string
	LabelX, LabelY string
	LabelAnchor    string
	ShowLabel      bool
	ValueX, ValueY string
	ValueAnchor    string
	ShowValue      bool
}

type chartTick struct {
	X1, X2, Y  string
	TX, TY     string
	Label      string
	TextAnchor string
}

type chartLine struct{ X1, Y1, X2, Y2 string }

// chartPoint is one bar's data.
type chartPoint struct {
	Label string
	Value int64
}

func px(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// niceMax rounds a maximum up to 1, 2, 4, 6 or 8 times a power of ten, so that the
// axis and its middle line read in whole, round numbers.
func niceMax(v int64) int64 {
	if v <= 1 {
		return 1
	}
	p := int64(1)
	for p*10 < v {
		p *= 10
	}
	for _, m := range []int64{1, 2, 4, 6, 8, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// columnChart draws vertical bars, one per point, left to right (time series). With
// many bars only some labels are written under the axis; every bar keeps its own
// <title> with its label and value.
func columnChart(id, title, desc string, points []chartPoint, format func(int64) string) chart {
	const width, height, left, right, top, bottom = 640, 260, 44.0, 8.0, 20.0, 44.0
	ch := chart{ID: id, Title: title, Desc: desc, Width: width, Height: height, Empty: len(points) == 0}
	var top1 int64
	for _, p := range points {
		top1 = max(top1, p.Value)
	}
	ymax := niceMax(top1)
	plotW, plotH := float64(width)-left-right, float64(height)-top-bottom
	base := top + plotH
	ch.Axis = chartLine{X1: px(left), Y1: px(base), X2: px(float64(width) - right), Y2: px(base)}
	ticks := []int64{0, ymax}
	if ymax >= 2 {
		ticks = []int64{0, ymax / 2, ymax}
	}
	for _, v := range ticks {
		y := base - plotH*float64(v)/float64(ymax)
		ch.Ticks = append(ch.Ticks, chartTick{X1: px(left), X2: px(float64(width) - right), Y: px(y),
			TX: px(left - 6), TY: px(y + 4), Label: format(v), TextAnchor: "end"})
	}
	if len(points) == 0 {
		return ch
	}
	slot := plotW / float64(len(points))
	every := (len(points) + 11) / 12 // at most about twelve labels under the axis
	for i, p := range points {
		h := plotH * float64(p.Value) / float64(ymax)
		x := left + slot*float64(i)
		cx := x + slot/2
		w := min(slot*0.8, 48) // a few bars stay bars, not blocks
		b := chartBar{X: px(cx - w/2), Y: px(base - h), W: px(w), H: px(h), Label: p.Label, Value: p.Value,
			ValueText: format(p.Value), LabelX: px(cx), LabelY: px(base + 16), LabelAnchor: "middle",
			ShowLabel: i%every == 0, ValueX: px(cx), ValueY: px(base - h - 4), ValueAnchor: "middle",
			ShowValue: len(points) <= 31 && p.Value > 0}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

// rowChart draws horizontal bars, one per point, top to bottom (a funnel, a ranking),
// with the label on the left and the value at the end of the bar.
func rowChart(id, title, desc string, points []chartPoint, format func(int64) string) chart {
	const width, label, right, row, pad = 640, 190.0, 70.0, 30.0, 8.0
	height := int(pad*2 + row*float64(len(points)))
	ch := chart{ID: id, Title: title, Desc: desc, Width: width, Height: max(height, 40), Empty: len(points) == 0}
	var top1 int64
	for _, p := range points {
		top1 = max(top1, p.Value)
	}
	if top1 == 0 {
		top1 = 1
	}
	plotW := float64(width) - label - right
	ch.Axis = chartLine{X1: px(label), Y1: px(pad), X2: px(label), Y2: px(float64(ch.Height) - pad)}
	for i, p := range points {
		y := pad + row*float64(i)
		w := plotW * float64(p.Value) / float64(top1)
		ch.Bars = append(ch.Bars, chartBar{X: px(label), Y: px(y + 4), W: px(w), H: px(row - 8), Label: p.Label,
			Value: p.Value, ValueText: format(p.Value), LabelX: px(label - 8), LabelY: px(y + row/2 + 5),
			LabelAnchor: "end", ShowLabel: true, ValueX: px(label + w + 6), ValueY: px(y + row/2 + 5),
			ValueAnchor: "start", ShowValue: true})
	}
	return ch
}

// formatCount writes a whole number as each language groups digits: 12 500 in French
// (with a narrow no-break space), 12,500 in English.
func formatCount(lang string, n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if lang == "fr" {
		sep = "\u202f"
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
