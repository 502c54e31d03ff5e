package app_test

import (
	"strings"
	"testing"

	"relais/internal/app"
	"relais/internal/model"
)

func campValues(first string) map[string]string {
	return map[string]string{"first_name": first, "last_name": "Mensah", "event_title": "Les blogueurs et la fibre",
		"event_date": "mercredi 17 mai 2017, 09:00 – 12:00", "ticket_url": "https://relais.example.tg/t/Ab_c-9",
		"coverage_url": "https://relais.example.tg/t/Ab_c-9#couverture", "press_contact": "Afi Amouzou, presse@example.tg"}
}

func TestUnknownPlaceholdersAreRefusedByName(t *testing.T) {
	body := "Bonjour {prenom} {first_name} {Prénom} {prenom}, voir {ticket-url}. Accolades libres : { first_name } {} {a b}"
	if got := strings.Join(app.UnknownPlaceholders(body), " "); got != "{prenom} {Prénom} {ticket-url}" {
		t.Fatalf("unknown: %q", got)
	}
	_, err := app.ExpandPlaceholders(body, campValues("Ama"))
	me, ok := err.(*model.Error)
	if !ok || me.Code != model.EInvalid || me.Message != "campaign.error.unknown_placeholder" ||
		me.Args["Names"] != "{prenom}, {Prénom}, {ticket-url}" || me.Fields["body"] == "" {
		t.Fatalf("error: %#v", err)
	}
	if _, err := app.ExpandSubject("Merci {nom}", nil); model.ErrorCode(err) != model.EInvalid {
		t.Fatalf("subject: %v", err)
	}
	for _, p := range app.CampaignPlaceholders {
		if u := app.UnknownPlaceholders("{" + p + "}"); len(u) != 0 {
			t.Errorf("{%s} refused", p)
		}
	}
}

// TestPlaceholderValuesCannotInject: values are shown as typed, whatever Markdown or HTML
// they hold; the links Relais makes stay links; the organizer's Markdown is rendered.
func TestPlaceholderValuesCannotInject(t *testing.T) {
	body := "Bonjour **{first_name}** {last_name},\n\n[Votre billet]({ticket_url}) · {coverage_url}\n\n{first_name}\n\n- {press_contact}"
	for _, first := range []string{"<script>alert(1)</script>", "**x**", "[clic](javascript:alert(1))", "<img src=x onerror=alert(1)>",
		"# Titre", "`code`", "&lt;script&gt;", "a\n\n<script>b</script>", "_x_ ~~y~~ <b>z</b>", "1. un"} {
		out, err := app.ExpandPlaceholders(body, campValues(first))
		if err != nil {
			t.Fatal(err)
		}
		html := strings.ToLower(string(out.HTML))
		for _, bad := range []string{"<script", "<img", `href="javascript`, "<b>", "<em>x", "<del>", "<h1", "<code>code", "<ol"} {
			if strings.Contains(html, bad) {
				t.Errorf("%q: HTML contains %q:\n%s", first, bad, out.HTML)
			}
		}
		if strings.Count(html, "<strong>") != 1 {
			t.Errorf("%q: the organizer's bold is lost or another added:\n%s", first, out.HTML)
		}
		if !strings.Contains(string(out.HTML), `<a href="https://relais.example.tg/t/Ab_c-9">Votre billet</a>`) ||
			!strings.Contains(string(out.HTML), `<a href="https://relais.example.tg/t/Ab_c-9#couverture">`) {
			t.Errorf("%q: links lost:\n%s", first, out.HTML)
		}
		if !strings.Contains(out.Text, strings.ReplaceAll(first, "\n", " ")) || !strings.Contains(out.Text, "Votre billet (https://relais.example.tg/t/Ab_c-9)") {
			t.Errorf("%q: text part:\n%s", first, out.Text)
		}
	}
	out, _ := app.ExpandPlaceholders("{first_name}", campValues("**x** <i>"))
	if got := strings.TrimSpace(string(out.HTML)); got != "<p>**x** &lt;i&gt;</p>" {
		t.Errorf("shown as typed: %s", got)
	}
	if s, _ := app.ExpandSubject("Merci {first_name} !", campValues("Ama\r\nBcc: x@example.org")); strings.ContainsAny(s, "\r\n") {
		t.Errorf("a subject on two lines: %q", s)
	}
}

func FuzzExpandPlaceholders(f *testing.F) {
	f.Add("Bonjour {first_name}, merci !", "Ama")
	f.Add("**{first_name}** [lien]({ticket_url}) {coverage_url}", "<script>alert(1)</script>")
	f.Add("<script>alert(1)</script> {first_name}", "x")
	f.Add("[a]({first_name})", "javascript:alert(1)")
	f.Add("`{first_name}` <{ticket_url}> ![i]({first_name})", "<SCRIPT src=//x>")
	f.Add("{prenom} {first_name", "{last_name}")
	f.Add("> {first_name}\n\n| a | b |\n|---|---|\n| {first_name} | x |", "<scr<script>ipt>")
	f.Fuzz(func(t *testing.T, body, first string) {
		out, err := app.ExpandPlaceholders(body, campValues(first))
		if err != nil {
			if len(app.UnknownPlaceholders(body)) == 0 {
				t.Fatalf("error without an unknown placeholder: %v", err)
			}
			return
		}
		if (strings.Contains(strings.ToLower(body), "<script") || strings.Contains(strings.ToLower(first), "<script")) &&
			strings.Contains(strings.ToLower(string(out.HTML)), "<script") {
			t.Fatalf("<script in the HTML:\nbody %q\nfirst %q\n%s", body, first, out.HTML)
		}
		if r := unsafeHTML(string(out.HTML)); r != "" { // markdown_fuzz_test.go
			t.Fatalf("unsafe HTML (%s):\nbody %q\nfirst %q\n%s", r, body, first, out.HTML)
		}
		if s, err := app.ExpandSubject(body, campValues(first)); err != nil || strings.ContainsAny(s, "\r\n") {
			t.Fatalf("subject %q: %v", s, err)
		}
	})
}

// TestURLPlaceholdersStayWhole: a token may end with "_", which Markdown's autolinking
// would leave out of the link; bare or as a link's destination, the URL stays whole.
func TestURLPlaceholdersStayWhole(t *testing.T) {
	url := "https://relais.example.tg/t/AbCd-Ef_"
	for _, src := range []string{"Votre billet : {ticket_url}", "[Votre billet]({ticket_url})", "Billet : {ticket_url}."} {
		got, err := app.ExpandPlaceholders(src, map[string]string{"ticket_url": url})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got.HTML), `href="`+url+`"`) {
			t.Errorf("%q: %s", src, got.HTML)
		}
		if !strings.Contains(got.Text, url) {
			t.Errorf("%q, text: %s", src, got.Text)
		}
	}
}
