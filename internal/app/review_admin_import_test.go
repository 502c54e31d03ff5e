package app_test

import (
	"context"
	"reflect"
	"testing"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
)

// Cells copied from a web page, WhatsApp or a phone's contacts carry invisible
// characters: a zero width space after an address, direction marks around a number.
// The address is the directory's own, the number a valid one.
func TestReviewImportInvisibleCharacters(t *testing.T) {
	data := dirWin1252(t, "Prénom;Nom;E-mail;Téléphone;Ville\r\n"+
		"Kafui;Adjo;kafui@blog.example.org;90 12 34 56;Lomé\r\n") // 2
	again := []byte("Prénom;Nom;E-mail;Téléphone;Site;Facebook;Ville\r\n" +
		"Kafui;Adjo;\u200bKafui@Blog.example.org\u200b;;;;\r\n" + // 2: the same address
		"Ama;Mensah;ama@blog.example.org\u200e;\u202a+228 91 00 00 01\u202c;\u200bama.tg;\u200b@ama;Lomé\u200b\r\n") // 3
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a := dirApp(t, driver)
			dirCheckReport(t, dirImport(t, a, data, app.DuplicatesMerge), 1, 0, 0, "", "")
			dirCheckReport(t, dirImport(t, a, again, app.DuplicatesMerge), 1, 1, 0, "", "")
			dirCheckDirectory(t, a, map[string]dirContact{
				"kafui@blog.example.org": {First: "Kafui", Last: "Adjo", Phone: "+22890123456", City: "Lomé"},
				"ama@blog.example.org": {First: "Ama", Last: "Mensah", Phone: "+22891000001", BlogURL: "https://ama.tg",
					City: "Lomé", Channels: "facebook=@ama|"},
			})
		})
	}
}

// The registration form reads a pasted address and number the same way.
func TestReviewRegisterInvisibleCharacters(t *testing.T) {
	a, _ := regApp(t, "sqlite")
	ev := regEvent(t, a, 10, model.ModeOpen)
	in := app.RegistrationInput{ContactInput: app.ContactInput{FirstName: "Ama", LastName: "Mensah",
		Email: "ama@blog.example.org\u200b", Phone: "\u202a+228 91 00 00 01\u202c"}, Consent: true, Lang: "fr"}
	res, err := a.Register(context.Background(), ev.ID, in)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	c, err := a.Store.FindContact(context.Background(), res.Registration.ContactID)
	if err != nil || c.Email != "ama@blog.example.org" || c.Phone != "+22891000001" {
		t.Fatalf("contact %+v %v", c, err)
	}
}

// A spreadsheet often opens with a title line (and an empty one) above the header:
// the header is the line that names the email column, and the lines keep their numbers.
func TestReviewImportTitleLinesAboveHeader(t *testing.T) {
	data := dirWin1252(t, "Liste des blogueurs invités – novembre 2026;;;\r\n"+ // 1
		"Mise à jour : \"brouillon;;;\r\n"+ // 2: unreadable, above the header
		";;;\r\n"+ // 3
		"Prénom;Nom;Courriel;Ville\r\n"+ // 4
		"Kafui;Adjo;kafui@blog.example.org;Lomé\r\n"+ // 5
		"Ama;Mensah;;Kara\r\n") // 6
	f, err := app.ParseContactsCSV(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Prénom", "Nom", "Courriel", "Ville"}; !reflect.DeepEqual(f.Header, want) || f.HeaderAt != 4 {
		t.Fatalf("header %q at %d", f.Header, f.HeaderAt)
	}
	rows, rejected := app.ReadContactRows(f, app.GuessMapping(f.Header))
	if len(rows) != 1 || rows[0].Line != 5 || rows[0].Contact.Email != "kafui@blog.example.org" || rows[0].Contact.City != "Lomé" {
		t.Fatalf("rows %+v", rows)
	}
	if got := dirLines(rejected); got != "6:missing_email" {
		t.Fatalf("rejected %s", got)
	}
	// A title typed in a text editor holds no separator: the header's is the file's.
	f, err = app.ParseContactsCSV([]byte("Liste des blogueurs\n\nPrénom;Nom;Courriel\nKafui;Adjo, dit K;kafui@blog.example.org\n"))
	if err != nil || f.Separator != ';' || f.HeaderAt != 3 || len(f.Rows) != 1 {
		t.Fatalf("%+v %v", f, err)
	}
	if rows, rejected := app.ReadContactRows(f, app.GuessMapping(f.Header)); len(rows) != 1 || len(rejected) != 0 ||
		rows[0].Contact.LastName != "Adjo, dit K" || rows[0].Line != 4 {
		t.Fatalf("rows %+v rejected %+v", rows, rejected)
	}
	// A file whose first line names no email column and no other line does either
	// keeps its first line as the header: the organizer maps the columns. A contact's
	// line that speaks of email is not a header.
	f, err = app.ParseContactsCSV([]byte("Nom;Adresse;Ville;Notes\nAdjo;kafui@blog.example.org;Lomé;\n" +
		"Mensah;;Kara;Courriel\nLawson;;Kara;Email, téléphone\n"))
	if err != nil || f.HeaderAt != 1 || len(f.Rows) != 3 {
		t.Fatalf("%+v %v", f, err)
	}
}

// Link columns named after a platform are the platform's, not the blog's; "Prénoms
// et nom" is a whole name.
func TestReviewGuessMappingLinksAndNames(t *testing.T) {
	header := []string{"Prénoms et nom", "Courriel", "Lien Facebook", "Lien TikTok", "Site web", "URL Instagram",
		"Nombre d'abonnés Facebook", "Lien du blog"}
	want := []string{"name", "email", "channel.facebook", "channel.tiktok", "blog_url", "channel.instagram", "audience", ""}
	if got := app.GuessMapping(header); !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if got := app.GuessMapping([]string{"Email", "Lien du blog", "Lien Facebook"}); !reflect.DeepEqual(got,
		[]string{"email", "blog_url", "channel.facebook"}) {
		t.Fatalf("blog link: %q", got)
	}
	f, _ := app.ParseContactsCSV([]byte("Prénoms et nom;Courriel;Lien Facebook\nKafui ADJO;k@example.tg;facebook.com/kafui\n"))
	rows, _ := app.ReadContactRows(f, app.GuessMapping(f.Header))
	if c := rows[0].Contact; c.FirstName != "Kafui" || c.LastName != "ADJO" || c.BlogURL != "" ||
		len(c.Channels) != 1 || c.Channels[0].Platform != "facebook" {
		t.Fatalf("contact %+v", c)
	}
}

// A file written by hand or by some tools puts a space after the separator, before a
// quoted cell: it is read, not refused as empty.
func TestReviewImportSpaceBeforeQuotedCell(t *testing.T) {
	for name, data := range map[string]string{
		"comma":     "\"Prénom\", \"Nom\", \"Email\"\r\n\"Kafui\", \"Adjo, dit K\", \"kafui@blog.example.org\"\r\n",
		"semicolon": "Prénom; Nom; Email\r\nKafui; \"Adjo, dit K\"; kafui@blog.example.org\r\n",
		// With tabs, an empty cell stays a cell.
		"tab": "Prénom\tNom\tVille\tEmail\r\nKafui\tAdjo, dit K\t\tkafui@blog.example.org\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			f, err := app.ParseContactsCSV([]byte(data))
			if err != nil {
				t.Fatal(err)
			}
			rows, rejected := app.ReadContactRows(f, app.GuessMapping(f.Header))
			if len(rows) != 1 || len(rejected) != 0 {
				t.Fatalf("rows %+v rejected %+v (header %q)", rows, rejected, f.Header)
			}
			if c := rows[0].Contact; c.FirstName != "Kafui" || c.LastName != "Adjo, dit K" || c.Email != "kafui@blog.example.org" {
				t.Fatalf("contact %+v", c)
			}
		})
	}
}
