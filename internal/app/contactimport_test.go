package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/i18n"
	"relais/internal/mail"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
	"relais/templates"
)

// dirApp is an App on a fresh database of the driver, with a fixed clock.
func dirApp(t testing.TB, driver string) *app.App {
	t.Helper()
	st := storetest.Open(t, driver)
	a := app.New(st, config.Defaults(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	a.Now = func() time.Time { return now }
	st.Now = a.Now
	return a
}

// dirWin1252 encodes text as French Excel saves it.
func dirWin1252(t testing.TB, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirImport parses and imports data with the headers recognised automatically.
func dirImport(t testing.TB, a *app.App, data []byte, mode string) *app.ImportReport {
	t.Helper()
	f, err := app.ParseContactsCSV(data)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	rep, err := a.ImportContacts(context.Background(), app.Actor{Name: "test"}, f, app.GuessMapping(f.Header), mode)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

// dirContact is what a test compares of a contact.
type dirContact struct {
	Email, First, Last, Phone, Outlet, BlogURL, City, Country, Lang, Notes string
	Audience                                                               int
	Tags                                                                   string
	Channels                                                               string
}

// dirDirectory reads the whole directory, by email.
func dirDirectory(t testing.TB, a *app.App) map[string]dirContact {
	t.Helper()
	cs, _, err := a.Store.ListContacts(context.Background(), store.ContactFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dirContact{}
	for _, c := range cs {
		var chans []string
		for _, ch := range c.Channels {
			chans = append(chans, ch.Platform+"="+ch.Handle+"|"+ch.URL)
		}
		sort.Strings(chans)
		tags := append([]string(nil), c.Tags...)
		sort.Strings(tags)
		out[c.Email] = dirContact{Email: c.Email, First: c.FirstName, Last: c.LastName, Phone: c.Phone, Outlet: c.Outlet,
			BlogURL: c.BlogURL, City: c.City, Country: c.Country, Lang: c.Lang, Notes: c.Notes, Audience: c.Audience,
			Tags: strings.Join(tags, ","), Channels: strings.Join(chans, " ")}
	}
	return out
}

func dirLines(ls []app.ImportLine) string {
	var out []string
	for _, l := range ls {
		s := fmt.Sprintf("%d:%s", l.Line, l.Reason)
		if l.FirstLine > 0 {
			s += fmt.Sprintf("@%d", l.FirstLine)
		}
		if l.Reason == app.ReasonTooLong || l.Reason == app.ReasonBadURL {
			s += "(" + l.Field + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func dirCheckReport(t *testing.T, rep *app.ImportReport, imported, merged, skipped int, rejected, skippedLines string) {
	t.Helper()
	if rep.Imported != imported || rep.Merged != merged || rep.Skipped != skipped {
		t.Errorf("counts: imported %d merged %d skipped %d, want %d %d %d", rep.Imported, rep.Merged, rep.Skipped,
			imported, merged, skipped)
	}
	if got := dirLines(rep.Rejected); got != rejected {
		t.Errorf("rejected: %q\nwant      %q", got, rejected)
	}
	if got := dirLines(rep.SkippedLines); got != skippedLines {
		t.Errorf("skipped lines: %q, want %q", got, skippedLines)
	}
}

func dirCheckDirectory(t *testing.T, a *app.App, want map[string]dirContact) {
	t.Helper()
	got := dirDirectory(t, a)
	for email, w := range want {
		w.Email = email
		if w.Lang == "" {
			w.Lang = "fr"
		}
		if g, ok := got[email]; !ok {
			t.Errorf("%s: missing", email)
		} else if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", email, g, w)
		}
	}
	for email := range got {
		if _, ok := want[email]; !ok {
			t.Errorf("%s: not expected in the directory", email)
		}
	}
}

// The French Excel file: ";" separated, Windows-1252 (é, è, ç, œ), a quoted cell with
// a separator, another with a line break, an empty line, a line of separators only,
// bad and missing addresses, a bad phone and the same address again in other capitals.
const dirExcelFile = "Prénom;Nom;E-mail;Téléphone;Média;Ville;Facebook;Abonnés;Étiquettes;Notes\r\n" + // 1
	"Kafui;Adjo;kafui@blog.example.org;90 12 34 56;Le blog de Kafui;Lomé;@kafui;12 000;tech, Lomé;\r\n" + // 2
	"Edem;Kossi; EDEM@Blog.Example.org ;;\"TechTogo; le média\";Kpalimé;;8500;tech;\"Première ligne\r\n" + // 3
	"deuxième ligne\"\r\n" + // 4
	"\r\n" + // 5
	"Ama;Mensah;pas-une-adresse;;;;;;;\r\n" + // 6
	"Yao;Agbeko;;;;;;;;\r\n" + // 7
	"Cécile;Œuvrard;cecile@blog.example.org;;Ça bouge;Sokodé;;;société;élève très motivée, cœur ouvert, français\r\n" + // 8
	"edem;;edem@blog.example.org;;;Lomé;facebook.com/edem;;vidéo, TECH;\r\n" + // 9
	"Komlan;Amegah;komlan@blog.example.org;12;;;;;;\r\n" + // 10
	";;;;;;;;;\r\n" + // 11
	"Sena;Ahiadzro;sena@blog.example.org;+228 91 00 00 01;;Lomé;;5k;;\r\n" // 12

var dirExcelContacts = map[string]dirContact{
	"kafui@blog.example.org": {First: "Kafui", Last: "Adjo", Phone: "+22890123456", Outlet: "Le blog de Kafui", City: "Lomé",
		Audience: 12000, Tags: "Lomé,tech", Channels: "facebook=@kafui|"},
	"cecile@blog.example.org": {First: "Cécile", Last: "Œuvrard", Outlet: "Ça bouge", City: "Sokodé", Tags: "société",
		Notes: "élève très motivée, cœur ouvert, français"},
	"sena@blog.example.org": {First: "Sena", Last: "Ahiadzro", Phone: "+22891000001", City: "Lomé", Audience: 5000},
}

func TestImportFrenchExcelFile(t *testing.T) {
	data := dirWin1252(t, dirExcelFile)
	if !bytes.Contains(data, []byte{0x9C}) || !bytes.Contains(data, []byte{0xE7}) || !bytes.Contains(data, []byte{0xE8}) {
		t.Fatal("the test file is not Windows-1252")
	}
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver+"/merge", func(t *testing.T) {
			a := dirApp(t, driver)
			rep := dirImport(t, a, data, app.DuplicatesMerge)
			dirCheckReport(t, rep, 4, 1, 0, "6:bad_email 7:missing_email 10:bad_phone", "")
			want := map[string]dirContact{}
			for k, v := range dirExcelContacts {
				want[k] = v
			}
			// Line 9 completed line 3: no field overwritten, a tag and a platform added.
			want["edem@blog.example.org"] = dirContact{First: "Edem", Last: "Kossi", Outlet: "TechTogo; le média",
				City: "Kpalimé", Audience: 8500, Tags: "tech,vidéo", Notes: "Première ligne\ndeuxième ligne",
				Channels: "facebook=facebook.com/edem|https://facebook.com/edem"}
			dirCheckDirectory(t, a, want)
		})
		t.Run(driver+"/skip", func(t *testing.T) {
			a := dirApp(t, driver)
			rep := dirImport(t, a, data, app.DuplicatesSkip)
			dirCheckReport(t, rep, 4, 0, 0, "6:bad_email 7:missing_email 9:duplicate_in_file@3 10:bad_phone", "")
			want := map[string]dirContact{}
			for k, v := range dirExcelContacts {
				want[k] = v
			}
			want["edem@blog.example.org"] = dirContact{First: "Edem", Last: "Kossi", Outlet: "TechTogo; le média",
				City: "Kpalimé", Audience: 8500, Tags: "tech", Notes: "Première ligne\ndeuxième ligne"}
			dirCheckDirectory(t, a, want)
		})
	}
}

// A Google Sheets export: ",", UTF-8 with a byte order mark, English headers, quoted
// cells with commas; then the same people again, against the directory.
func TestImportGoogleSheetsFileAgainstTheDirectory(t *testing.T) {
	first := "\uFEFFFirst name,Last name,Email,Phone,Website,City,Twitter,Followers,Tags\n" +
		"Kafui,Adjo,kafui@blog.example.org,,kafui.tg,\"Lomé, Togo\",@kafui_tg,\"1,5k\",\"tech, influenceur\"\n" +
		"Abla,Lawson,abla@blog.example.org,,,Lomé,,,\n"
	again := "First name,Last name,Email,City,Instagram,Tags\n" +
		"Kafui,Adjo-Mensah,KAFUI@BLOG.EXAMPLE.ORG,Kara,@kafui.insta,vidéo\n" + // 2: completes, never overwrites
		"Nouveau,Venu,nouveau@blog.example.org,Lomé,,\n" + // 3
		"Abla,,Abla@Blog.Example.org,,,\n" // 4: nothing new for Abla
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a := dirApp(t, driver)
			rep := dirImport(t, a, []byte(first), app.DuplicatesMerge)
			dirCheckReport(t, rep, 2, 0, 0, "", "")
			base := map[string]dirContact{
				"kafui@blog.example.org": {First: "Kafui", Last: "Adjo", BlogURL: "https://kafui.tg", City: "Lomé, Togo",
					Audience: 1500, Tags: "influenceur,tech", Channels: "x=@kafui_tg|"},
				"abla@blog.example.org": {First: "Abla", Last: "Lawson", City: "Lomé"},
			}
			dirCheckDirectory(t, a, base)

			rep = dirImport(t, a, []byte(again), app.DuplicatesSkip)
			dirCheckReport(t, rep, 1, 0, 2, "", "2:exists 4:exists")
			base["nouveau@blog.example.org"] = dirContact{First: "Nouveau", Last: "Venu", City: "Lomé"}
			dirCheckDirectory(t, a, base)

			// Merging the same file: the new contact of the first pass is merged too.
			rep = dirImport(t, a, []byte(again), app.DuplicatesMerge)
			dirCheckReport(t, rep, 0, 3, 0, "", "")
			k := base["kafui@blog.example.org"]
			k.Tags, k.Channels = "influenceur,tech,vidéo", "instagram=@kafui.insta| x=@kafui_tg|"
			base["kafui@blog.example.org"] = k
			dirCheckDirectory(t, a, base)
		})
	}
}

func TestImportEncodingsAndSeparators(t *testing.T) {
	const want = "Élodie Ça Sokodé"
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(
		[]byte("Prénom\tNom\tCourriel\tVille\r\nÉlodie\tÇa\telodie@example.tg\tSokodé\r\n"))
	for name, data := range map[string][]byte{
		"utf-8 ;":          []byte("Prénom;Nom;Courriel;Ville\nÉlodie;Ça;elodie@example.tg;Sokodé\n"),
		"utf-8 bom ,":      []byte("\uFEFFprénom,NOM,e-mail,ville\r\nÉlodie,Ça,elodie@example.tg,Sokodé"),
		"windows-1252 tab": dirWin1252(t, "Prénom\tNom\tEmail\tCity\nÉlodie\tÇa\telodie@example.tg\tSokodé\n"),
		"utf-16 tab":       utf16,
		"sep= line":        []byte("sep=,\nPrénom,Nom,Email,Ville\nÉlodie,Ça,elodie@example.tg,Sokodé\n"),
		"old mac":          []byte("Prénom;Nom;Email;Ville\rÉlodie;Ça;elodie@example.tg;Sokodé\r"),
	} {
		t.Run(name, func(t *testing.T) {
			f, err := app.ParseContactsCSV(data)
			if err != nil {
				t.Fatal(err)
			}
			rows, rejected := app.ReadContactRows(f, app.GuessMapping(f.Header))
			if len(rejected) != 0 || len(rows) != 1 {
				t.Fatalf("rows %v rejected %v (header %q, sep %q)", rows, rejected, f.Header, f.Separator)
			}
			c := rows[0].Contact
			if got := c.FirstName + " " + c.LastName + " " + c.City; got != want || c.Email != "elodie@example.tg" {
				t.Fatalf("got %q %q", got, c.Email)
			}
			if wantLine := map[bool]int{true: 3, false: 2}[name == "sep= line"]; rows[0].Line != wantLine {
				t.Fatalf("line %d, want %d", rows[0].Line, wantLine)
			}
		})
	}
}

func TestImportRefusesWhatIsNotACSV(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	cases := map[string]struct {
		data []byte
		code string
		msg  string
	}{
		"png":   {png, model.EInvalid, "contacts.import.error.binary"},
		"xlsx":  {[]byte("PK\x03\x04\x14\x00\x06\x00"), model.EInvalid, "contacts.import.error.xlsx"},
		"empty": {[]byte(" \r\n\r\n"), model.EInvalid, "contacts.import.error.empty"},
		"large": {bytes.Repeat([]byte("a;b;c@example.tg\n"), app.MaxImportBytes/17+1), model.ETooLarge, "contacts.import.error.too_large"},
	}
	for _, driver := range storetest.Drivers(t) {
		a := dirApp(t, driver)
		for name, c := range cases {
			t.Run(driver+"/"+name, func(t *testing.T) {
				_, err := app.ParseContactsCSV(c.data)
				if model.ErrorCode(err) != c.code || model.ErrorMessage(err) != c.msg {
					t.Fatalf("err %v, want %s %s", err, c.code, c.msg)
				}
				_, _, err = a.KeepContactImport(context.Background(), 1, name, c.data)
				if model.ErrorCode(err) != c.code {
					t.Fatalf("keep: %v", err)
				}
			})
		}
		if got := dirDirectory(t, a); len(got) != 0 {
			t.Fatalf("%s: the directory changed: %v", driver, got)
		}
	}
}

func TestImportHeaderOnlyAndMalformedLines(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			a := dirApp(t, driver)
			rep := dirImport(t, a, []byte("Prénom;Nom;E-mail\r\n"), app.DuplicatesMerge)
			dirCheckReport(t, rep, 0, 0, 0, "", "")
			if rep.Rejected == nil {
				t.Fatal("rejected must be an empty list, not null")
			}
			// A stray quote, a line with more cells than the header, an unclosed quote
			// at the end: each is reported at its line, the rest is imported.
			data := "Prénom;Nom;E-mail\n" +
				"A;B\"x;a@example.tg\n" + // 2
				"C;D;c@example.tg;en trop\n" + // 3
				"E;F;e@example.tg;\n" + // 4: an empty extra cell is fine
				"G;\"H;g@example.tg\n" + // 5: never closed
				"I;J;i@example.tg\n"
			rep = dirImport(t, a, []byte(data), app.DuplicatesMerge)
			dirCheckReport(t, rep, 1, 0, 0, "2:malformed 3:extra_cells 5:malformed", "")
			dirCheckDirectory(t, a, map[string]dirContact{"e@example.tg": {First: "E", Last: "F"}})
		})
	}
}

func TestGuessMapping(t *testing.T) {
	header := []string{"Prénom(s)", "NOM", "Adresse e-mail", "Tél.", "Nom du média", "Site web", "Ville", "Pays",
		"Page Facebook", "X (Twitter)", "Instagram", "TikTok", "YouTube", "LinkedIn", "WhatsApp", "Nombre d'abonnés",
		"Mots-clés", "Langue", "Remarques", "Colonne inconnue", "E-mail"}
	want := []string{"first_name", "last_name", "email", "phone", "outlet", "blog_url", "city", "country",
		"channel.facebook", "channel.x", "channel.instagram", "channel.tiktok", "channel.youtube", "channel.linkedin",
		"channel.whatsapp", "audience", "tags", "language", "notes", "", ""}
	if got := app.GuessMapping(header); !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if got := app.GuessMapping([]string{"Nom complet", "Courriel"}); !reflect.DeepEqual(got, []string{"name", "email"}) {
		t.Fatalf("full name: %q", got)
	}
	f, _ := app.ParseContactsCSV([]byte("Nom complet;Courriel;Langue\nADJO Kafui;k@example.tg;English\nAma Mensah;a@example.tg;\n"))
	rows, _ := app.ReadContactRows(f, app.GuessMapping(f.Header))
	if c := rows[0].Contact; c.FirstName != "Kafui" || c.LastName != "ADJO" || c.Lang != "en" {
		t.Fatalf("family name first: %+v", c)
	}
	if c := rows[1].Contact; c.FirstName != "Ama" || c.LastName != "Mensah" {
		t.Fatalf("first name first: %+v", c)
	}
	for _, m := range [][]string{{"first_name"}, {"email", "email"}, {"email", "nope"}} {
		if err := app.ValidateMapping(m); model.ErrorCode(err) != model.EInvalid {
			t.Errorf("%q accepted", m)
		}
	}
}

// An export of the directory imports back as it is (the headers are the import's own).
func TestImportBackAnExport(t *testing.T) {
	a := dirApp(t, "sqlite")
	rep := dirImport(t, a, dirWin1252(t, dirExcelFile), app.DuplicatesMerge)
	if rep.Imported != 4 {
		t.Fatalf("imported %d", rep.Imported)
	}
	before := dirDirectory(t, a)
	if len(before) != 4 {
		t.Fatalf("directory: %v", before)
	}
	// The tags of the CSV export are joined with ", ": the round trip is checked in the
	// web tests, which read the real export; here the reading side alone.
	f, err := app.ParseContactsCSV([]byte("\uFEFFPrénom;Nom;E-mail;Téléphone;Abonnés;Étiquettes;X (Twitter)\r\n" +
		"Kafui;Adjo;kafui@blog.example.org;'+228 90 12 34 56;12000;tech, Lomé;\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	rows, rejected := app.ReadContactRows(f, app.GuessMapping(f.Header))
	if len(rejected) != 0 || rows[0].Contact.Phone != "+22890123456" {
		t.Fatalf("a neutralised cell: %v %+v", rejected, rows)
	}
}

func FuzzParseContactsCSV(f *testing.F) {
	f.Add([]byte(dirExcelFile))
	f.Add([]byte("\uFEFFFirst name,Last name,Email\nA,\"B, C\",a@example.tg\n"))
	f.Add([]byte("Nom complet;Courriel\n\"ADJO\nKafui\";k@example.tg\n\"open;x\n"))
	f.Add([]byte("sep=\t\nPrénom\tEmail\tTags\nÉ\te@example.tg\ta,b;c|d\n"))
	f.Add([]byte("\xff\xfeP\x00r\x00\n\x00"))
	f.Add([]byte("Email;Facebook;Abonnés;Site\nx@y.tg;facebook.com/x;1,5 M;http://[::1\n"))
	f.Add([]byte{0x89, 'P', 'N', 'G', 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := app.ParseContactsCSV(data)
		if err != nil {
			if model.ErrorCode(err) == model.EInternal {
				t.Fatalf("not a *model.Error: %v", err)
			}
			return
		}
		mapping := app.GuessMapping(file.Header)
		if len(mapping) != len(file.Header) {
			t.Fatal("one mapping per column")
		}
		rows, rejected := app.ReadContactRows(file, mapping)
		for _, r := range rows {
			if r.Line <= file.HeaderAt || !model.ValidEmail(r.Contact.Email) {
				t.Fatalf("row %+v", r)
			}
		}
		_, _, rep := app.PlanImport(rows, map[string]*model.Contact{}, app.DuplicatesSkip)
		if rep.Imported+len(rep.Rejected) != len(rows) {
			t.Fatalf("lines lost: %d rows, %+v", len(rows), rep)
		}
		_ = rejected
	})
}

// The demo directory: about forty tagged bloggers with their platforms, some of whom
// never registered; loading the demo twice changes nothing.
func TestDemoDirectory(t *testing.T) {
	// The demo places its sessions around the real date.
	a := app.New(storetest.Open(t, "sqlite"), config.Defaults(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	if a.Mail, err = mail.NewRenderer(templates.FS, b); err != nil {
		t.Fatal(err)
	}
	a.I18n = b
	ctx := context.Background()
	for range 2 {
		if _, err := a.LoadDemo(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cs, total, err := a.Store.ListContacts(ctx, store.ContactFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if total < 38 || total > 45 {
		t.Fatalf("%d contacts", total)
	}
	for _, c := range cs {
		if len(c.Channels) == 0 || len(c.Tags) == 0 && c.City == "Lomé" {
			t.Errorf("%s: channels %v tags %v", c.Email, c.Channels, c.Tags)
		}
	}
	for _, tag := range []string{"tech", "société", "Lomé", "influenceur", "vidéo"} {
		if _, n, _ := a.Store.ListContacts(ctx, store.ContactFilter{Tag: tag}); n < 3 {
			t.Errorf("tag %s: %d contacts", tag, n)
		}
	}
	_, never, _ := a.Store.ListContacts(ctx, store.ContactFilter{History: store.HistoryNeverInvited})
	_, attended, _ := a.Store.ListContacts(ctx, store.ContactFilter{History: store.HistoryAttended})
	c, err := a.Store.FindContactByEmail(ctx, app.Slugify("Mawuena.Agbodjan")+"@blog.example.org")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := a.ContactHistoryOf(ctx, c.ID, 0)
	if len(h.Registrations) != 0 || never == 0 {
		t.Fatalf("extra contact registered %v; never invited %d, attended %d", h.Registrations, never, attended)
	}
	t.Logf("demo directory: %d contacts, %d never invited, %d attended a session", total, never, attended)
}
