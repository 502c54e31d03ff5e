package app

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"relais/internal/model"
)

// fuzzQuestions has one question of every kind; the even ones are required.
var fuzzQuestions = func() []model.Question {
	var qs []model.Question
	for i, k := range model.QuestionKinds {
		qs = append(qs, model.Question{ID: int64(i + 1), Kind: k, Required: i%2 == 0,
			Options: "Oui\nNon\n La fibre optique \nÉ"})
	}
	return qs
}()

// storable is what both databases accept in a text column: valid UTF-8 without NUL
// (PostgreSQL refuses both, which would turn a visitor's typo into a 500).
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// FuzzValidateRegistration drives the registration form's validation (what app.Register,
// the walk-in and the staff forms run before touching the database) with any input: it
// never panics; what it accepts is normalised, storable and accepted again unchanged.
func FuzzValidateRegistration(f *testing.F) {
	f.Add("Kafui", "Adjo", " Kafui.Adjo@Blog.example.TG ", "90 12 34 56", "Togo Tech", "monblog.tg", "12 000", "Lomé", "@kafui", "Oui", "La fibre optique")
	f.Add("", " ", "pas-une-adresse", "+33 6 12 34 56 78", "", "http://[::1", "1,5 M", "", "https://x.com/kafui", "yes", "3,14")
	f.Add("<script>alert(1)</script>", "O'Brien", "a@b.c", "0022890123456", "x", "javascript:alert(1)", "-1", "Kara", "ftp://x", "no", "+228 70 00 00 00")
	f.Add("É\u0301", "\x00", "x@\xff.tg", "\xff", "\u202e", "https://é.tg/\xff", "12k", "\x1b[31m", "\x00", "Non\x00", "\xff")
	f.Add(strings.Repeat("a", 101), "b", "a@b.tg", "", "", "", "", "", "", strings.Repeat("é", 301), "")
	f.Fuzz(func(t *testing.T, first, last, email, phone, outlet, blog, audience, city, handle, a1, a2 string) {
		in := ContactInput{FirstName: first, LastName: last, Email: email, Phone: phone, Outlet: outlet,
			BlogURL: blog, Audience: audience, City: city,
			Channels: []model.ContactChannel{{Platform: "x", Handle: handle}, {Platform: "blog", Handle: a2}}}
		answers := map[int64][]string{}
		for _, q := range fuzzQuestions {
			answers[q.ID] = []string{a1, a2}
			if q.ID%3 == 0 {
				answers[q.ID] = []string{a2}
			}
		}
		fields := map[string]string{}
		in.validate(fields)
		js := validateAnswers(fuzzQuestions, answers, fields)

		var out map[string]any
		if err := json.Unmarshal([]byte(js), &out); err != nil {
			t.Fatalf("answers are not a JSON object: %v: %q", err, js)
		}
		for _, q := range fuzzQuestions {
			key := itoa(int(q.ID))
			if _, bad := fields["q"+key]; q.Required && !bad && out[key] == nil {
				t.Fatalf("required question %d accepted without an answer", q.ID)
			}
		}
		if len(fields) > 0 {
			return
		}
		for name, v := range map[string]string{"first_name": in.FirstName, "last_name": in.LastName, "email": in.Email,
			"phone": in.Phone, "outlet": in.Outlet, "blog_url": in.BlogURL, "audience": in.Audience, "city": in.City, "answers": js} {
			if !storable(v) {
				t.Fatalf("%s accepted but not storable: %q", name, v)
			}
			if v != strings.TrimSpace(v) {
				t.Fatalf("%s accepted untrimmed: %q", name, v)
			}
		}
		for _, ch := range in.Channels {
			if !storable(ch.Handle) || !storable(ch.URL) || !model.ValidPlatform(ch.Platform) {
				t.Fatalf("channel accepted: %+v", ch)
			}
		}
		if in.FirstName == "" || in.LastName == "" || !model.ValidEmail(in.Email) || in.Email != strings.ToLower(in.Email) {
			t.Fatalf("accepted: %+v", in)
		}
		if in.Phone != "" && in.Phone[0] != '+' || in.BlogURL != "" && !ValidHTTPURL(in.BlogURL) {
			t.Fatalf("accepted: phone %q, blog %q", in.Phone, in.BlogURL)
		}
		if strings.Trim(in.Audience, "0123456789") != "" {
			t.Fatalf("audience %q", in.Audience)
		}

		// What was accepted and normalised passes again, unchanged: a form shown back to
		// its author with these values is never refused.
		again := in
		again.Channels = append([]model.ContactChannel(nil), in.Channels...)
		fields2 := map[string]string{}
		again.validate(fields2)
		given := map[int64][]string{}
		for _, q := range fuzzQuestions {
			switch v := out[itoa(int(q.ID))].(type) {
			case string:
				given[q.ID] = []string{v}
			case []any:
				for _, x := range v {
					given[q.ID] = append(given[q.ID], x.(string))
				}
			}
		}
		js2 := validateAnswers(fuzzQuestions, given, fields2)
		if len(fields2) > 0 || !reflect.DeepEqual(again, in) || js2 != js {
			t.Fatalf("accepted once, not twice: %v\n%+v\n%+v\n%s\n%s", fields2, in, again, js, js2)
		}
	})
}
