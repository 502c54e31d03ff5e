package mail_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"relais/internal/i18n"
	"relais/internal/mail"
	"relais/templates"
)

func newRenderer(t *testing.T) *mail.Renderer {
	t.Helper()
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	r, err := mail.NewRenderer(templates.FS, b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sampleData is what the app passes to every email, with the layout's optional parts.
func sampleData() map[string]any {
	return map[string]any{
		"Org": map[string]any{"Name": "Association des blogueurs du Togo", "Address": "Rue 123, Lomé",
			"Website": "https://blogueurs.example.org"},
		"PressContact":   struct{ Name, Email, Phone string }{"Afi Amouzou", "presse@example.org", "+228 90 00 00 00"},
		"UnsubscribeURL": "https://relais.example.org/u/tok",
		"SentAt":         time.Date(2017, 5, 17, 9, 0, 0, 0, time.UTC),
		"Timezone":       "Africa/Lome",
	}
}

func TestEveryEmailRendersInEveryLanguage(t *testing.T) {
	r := newRenderer(t)
	if len(r.Kinds()) == 0 {
		t.Fatal("no email kinds")
	}
	for _, kind := range r.Kinds() {
		for _, lang := range i18n.Langs {
			for name, data := range map[string]map[string]any{"full": sampleData(), "bare": {}} {
				t.Run(kind+"/"+lang+"/"+name, func(t *testing.T) {
					subject, html, text, err := r.Render(kind, lang, data)
					if err != nil {
						t.Fatal(err)
					}
					if subject == "" || strings.HasPrefix(subject, "mail.") || strings.ContainsAny(subject, "\r\n") {
						t.Fatalf("subject %q", subject)
					}
					for part, body := range map[string]string{"html": html, "text": text} {
						for _, bad := range []string{"<no value>", "mail.", "ZgotmplZ", "%!"} {
							if strings.Contains(body, bad) {
								t.Errorf("%s part contains %q:\n%s", part, bad, body)
							}
						}
					}
					if !strings.Contains(html, `<html lang="`+lang+`">`) {
						t.Error("html has no lang")
					}
					// Email clients load nothing from elsewhere, and many drop <style>.
					for _, bad := range []string{"<link", "<script", "<style", `src="http`, "url("} {
						if strings.Contains(html, bad) {
							t.Errorf("html contains %q", bad)
						}
					}
					if name == "full" {
						for _, want := range []string{"Association des blogueurs du Togo", "Rue 123, Lomé", "Afi Amouzou", "presse@example.org", "https://relais.example.org/u/tok"} {
							if !strings.Contains(html, want) || !strings.Contains(text, want) {
								t.Errorf("%q missing from the layout", want)
							}
						}
					}
				})
			}
		}
	}
}

func TestTestEmailSpeaksEachLanguage(t *testing.T) {
	r := newRenderer(t)
	frSubject, _, frText, err := r.Render("test", "fr", sampleData())
	if err != nil {
		t.Fatal(err)
	}
	enSubject, _, enText, _ := r.Render("test", "en", sampleData())
	if frSubject == enSubject || !strings.Contains(frText, "mercredi 17 mai 2017, 09:00") || !strings.Contains(enText, "Wednesday 17 May 2017, 09:00") {
		t.Fatalf("fr %q / en %q\n%s\n%s", frSubject, enSubject, frText, enText)
	}
	if s, _, _, _ := r.Render("test", "de", nil); s != frSubject {
		t.Fatalf("unsupported language: %q", s)
	}
	if _, _, _, err := r.Render("nope", "fr", nil); err == nil {
		t.Fatal("unknown kind rendered")
	}
}

func TestRendererFailsAtStartOnBrokenTemplates(t *testing.T) {
	b, _ := i18n.New()
	good := func() fstest.MapFS {
		fs := fstest.MapFS{}
		for _, f := range []string{"layout.html.tmpl", "layout.txt.tmpl", "test.html.tmpl", "test.txt.tmpl"} {
			data, err := templates.FS.ReadFile("emails/" + f)
			if err != nil {
				t.Fatal(err)
			}
			fs["emails/"+f] = &fstest.MapFile{Data: data}
		}
		return fs
	}
	if _, err := mail.NewRenderer(good(), b); err != nil {
		t.Fatalf("copy of the real templates: %v", err)
	}
	for name, change := range map[string]func(fstest.MapFS){
		"syntax error":      func(fs fstest.MapFS) { fs["emails/test.html.tmpl"].Data = []byte(`{{define "content"}}{{if}}{{end}}`) },
		"unknown function":  func(fs fstest.MapFS) { fs["emails/test.txt.tmpl"].Data = []byte(`{{define "content"}}{{nope}}{{end}}`) },
		"missing text part": func(fs fstest.MapFS) { delete(fs, "emails/test.txt.tmpl") },
		"missing subject": func(fs fstest.MapFS) {
			fs["emails/nosubject.html.tmpl"], fs["emails/nosubject.txt.tmpl"] = fs["emails/test.html.tmpl"], fs["emails/test.txt.tmpl"]
		},
	} {
		fs := good()
		change(fs)
		if _, err := mail.NewRenderer(fs, b); err == nil {
			t.Errorf("%s: NewRenderer succeeded", name)
		}
	}
}
