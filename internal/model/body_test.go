package model

import "testing"

func TestBodyTemplateWritesOutEachSlot(t *testing.T) {
	var w BodyWriter
	w.Literal("a\x01b ")
	w.Slot(0, false)
	w.Literal(" ")
	w.Slot(1, true)
	w.Slot(0, true)
	got, err := ExpandBody(w.String(), []string{"Zé'", "<x>"})
	if want := "a\x01b Zé' &lt;x&gt;Zé&#39;"; err != nil || got != want {
		t.Fatalf("ExpandBody = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"fin\x01", "\x012", "\x01z", "\x01c"} {
		if _, err := ExpandBody(bad, []string{"a", "b"}); err == nil {
			t.Errorf("ExpandBody(%q) took a malformed template", bad)
		}
	}
}
