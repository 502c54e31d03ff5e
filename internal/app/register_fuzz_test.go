package app

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
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
	f.Add("Kafui", "Adjo", " Kafui.Adjo@Blog.example.TG ", "90 12 34 56", "Togo Tech", "monblog.tg", "12 000", "Lomé", "@kafui", "Oui", "Non")
	f.Add("", " ", "pas-une-adresse", "+33 6 12 34 56 78", "", "http://[::1", "1,5 M", "", "https://x.com/kafui", "yes", "3,14")
	f.Add("<script>alert(1)</script>", "O'Brien", "a@b.c", "0022890123456", "x", "javascript:alert(1)", "-1", "Kara", "ftp://x", "no", "+228 70 00 00 00")
	f.Add("É\u0301", "\x00", "x@\xff.tg", "\xff", "\u202e", "https://é.tg/\xff", "12k", "\x1b[31m", "\x00", "Non\x00", "\xff")
	f.Add("Ama\nBcc: x@example.org", "B\xff", "a@b.tg", "", "\r", "https://a.tg/\xff", "", "", "", "a\r\nb\x00", "")
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
		if len(fields) == 0 {
			checkContact(t, in)
		}
		afields := map[string]string{}
		js := validateAnswers(fuzzQuestions, answers, afields)
		checkAnswers(t, js, afields)
	})
}

// isOneLine reports a value a one-line field may keep: storable, trimmed, no control character.
func isOneLine(s string) bool {
	return storable(s) && s == strings.TrimSpace(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

func checkContact(t *testing.T, in ContactInput) {
	t.Helper()
	for name, v := range map[string]string{"first_name": in.FirstName, "last_name": in.LastName, "email": in.Email,
		"phone": in.Phone, "outlet": in.Outlet, "blog_url": in.BlogURL, "audience": in.Audience, "city": in.City} {
		if !isOneLine(v) {
			t.Fatalf("%s accepted as %q: not one storable line", name, v)
		}
	}
	for _, ch := range in.Channels {
		if !isOneLine(ch.Handle) || !isOneLine(ch.URL) || !model.ValidPlatform(ch.Platform) {
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
	// What was accepted and normalised passes again, unchanged: a form shown back to its
	// author with these values is never refused.
	again := in
	again.Channels = append([]model.ContactChannel(nil), in.Channels...)
	fields := map[string]string{}
	again.validate(fields)
	if len(fields) > 0 || !reflect.DeepEqual(again, in) {
		t.Fatalf("accepted once, not twice: %v\n%+v\n%+v", fields, in, again)
	}
}

func checkAnswers(t *testing.T, js string, fields map[string]string) {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(js), &out); err != nil {
		t.Fatalf("answers are not a JSON object: %v: %q", err, js)
	}
	given := map[int64][]string{}
	for _, q := range fuzzQuestions {
		key := itoa(int(q.ID))
		if _, bad := fields["q"+key]; bad {
			continue
		}
		if q.Required && out[key] == nil {
			t.Fatalf("required question %d accepted without an answer", q.ID)
		}
		var vals []string
		switch v := out[key].(type) {
		case string:
			vals = []string{v}
		case []any:
			for _, x := range v {
				vals = append(vals, x.(string))
			}
		}
		for _, v := range vals {
			ok := isOneLine(v)
			if q.Kind == model.QLongText {
				ok = storable(v) && v == strings.TrimSpace(v) &&
					strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) < 0
			}
			if !ok {
				t.Fatalf("answer to question %d (%s) accepted as %q", q.ID, q.Kind, v)
			}
		}
		given[q.ID] = vals
	}
	// The accepted answers, sent again, are accepted again and stored the same.
	again := map[string]string{}
	js2 := validateAnswers(fuzzQuestions, given, again)
	for f := range again {
		if _, bad := fields[f]; !bad && !strings.HasPrefix(again[f], "error.required") {
			t.Fatalf("accepted answers refused the second time: %s %s", f, again[f])
		}
	}
	var out2 map[string]any
	json.Unmarshal([]byte(js2), &out2)
	for k, v := range out2 {
		if !reflect.DeepEqual(out[k], v) {
			t.Fatalf("answer %s: %#v then %#v", k, out[k], v)
		}
	}
}
