package app

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net/mail"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"

	"relais/internal/model"
	"relais/internal/store"
)

// This file reads the contact lists organizers really have: saved from French Excel
// (";", Windows-1252 or UTF-8 with a byte order mark), from Google Sheets (",", UTF-8)
// or as Excel's "Unicode text" (tabs, UTF-16). Everything here is a pure function of
// its input, so that it can be fuzzed; the database side is in contacts.go.

// MaxImportBytes is the largest CSV file accepted.
const MaxImportBytes = 5 << 20

// maxImportColumns bounds the width of a file (one mapping choice per column).
const maxImportColumns = 100

// Directory fields a CSV column can fill. Channels are "channel.<platform>".
const (
	FieldIgnore    = ""
	FieldFirstName = "first_name"
	FieldLastName  = "last_name"
	FieldFullName  = "name"
	FieldEmail     = "email"
	FieldPhone     = "phone"
	FieldOutlet    = "outlet"
	FieldBlogURL   = "blog_url"
	FieldCity      = "city"
	FieldCountry   = "country"
	FieldLanguage  = "language"
	FieldAudience  = "audience"
	FieldTags      = "tags"
	FieldNotes     = "notes"
	channelPrefix  = "channel."
)

// ImportFields lists the fields a column may be mapped to, in the order offered.
func ImportFields() []string {
	out := []string{FieldFirstName, FieldLastName, FieldFullName, FieldEmail, FieldPhone, FieldOutlet, FieldBlogURL,
		FieldCity, FieldCountry, FieldLanguage, FieldAudience, FieldTags, FieldNotes}
	for _, p := range model.Platforms {
		out = append(out, channelPrefix+p)
	}
	return out
}

func validImportField(f string) bool {
	for _, g := range ImportFields() {
		if g == f {
			return true
		}
	}
	return false
}

// Duplicate handling, for lines whose address is already in the directory or earlier in the file.
const (
	DuplicatesMerge = "merge" // fill the empty fields, add tags and channels
	DuplicatesSkip  = "skip"  // keep what is there; a repeat inside the file is rejected
)

// Reasons for a rejected (or skipped) line.
const (
	ReasonMalformed     = "malformed"         // not readable as CSV (a quote left open…)
	ReasonMissingEmail  = "missing_email"     //
	ReasonBadEmail      = "bad_email"         //
	ReasonBadPhone      = "bad_phone"         //
	ReasonBadURL        = "bad_url"           // Field says which column
	ReasonBadAudience   = "bad_audience"      //
	ReasonTooLong       = "too_long"          // Field says which column
	ReasonExtraCells    = "extra_cells"       // more filled cells than the header has columns
	ReasonDuplicateFile = "duplicate_in_file" // FirstLine is where the address first appears
	ReasonExists        = "exists"            // skipped: the address is in the directory
)

// ImportLine is a line of the file that was not imported, and why. Line is the file's
// physical line (the header is line 1 when it is the first); a record whose quoted
// cell spans several lines counts as the line it starts on.
type ImportLine struct {
	Line      int    `json:"line"`
	Reason    string `json:"reason"`
	Field     string `json:"field,omitempty"`
	Email     string `json:"email,omitempty"`
	FirstLine int    `json:"first_line,omitempty"`
}

// CSVFile is a decoded, parsed file: its header, its data records and the lines that
// could not be read as CSV.
type CSVFile struct {
	Encoding  string // utf-8, utf-8-bom, windows-1252, utf-16
	Separator rune
	Header    []string
	HeaderAt  int
	Rows      []CSVRow
	Malformed []ImportLine
}

// CSVRow is one data record and the line it starts on. Empty lines are not rows.
type CSVRow struct {
	Line  int
	Cells []string
}

// Fatal problems with a file: nothing is imported.
var (
	errImportEmpty   = &model.Error{Code: model.EInvalid, Message: "contacts.import.error.empty"}
	errImportUnread  = &model.Error{Code: model.EInvalid, Message: "contacts.import.error.unreadable"}
	errImportBinary  = &model.Error{Code: model.EInvalid, Message: "contacts.import.error.binary"}
	errImportXLSX    = &model.Error{Code: model.EInvalid, Message: "contacts.import.error.xlsx"}
	errImportTooBig  = &model.Error{Code: model.ETooLarge, Message: "contacts.import.error.too_large"}
	errImportTooWide = &model.Error{Code: model.EInvalid, Message: "contacts.import.error.too_wide"}
)

// ParseContactsCSV decodes and parses a contacts file. A file that is too large, empty
// or not text is refused with a *model.Error; lines that are not valid CSV are kept
// in Malformed and the rest is read.
func ParseContactsCSV(data []byte) (*CSVFile, error) {
	if len(data) > MaxImportBytes {
		return nil, errImportTooBig
	}
	text, enc, err := decodeCSVText(data)
	if err != nil {
		return nil, err
	}
	f := &CSVFile{Encoding: enc}
	// A file written with old Mac line ends only.
	if !strings.Contains(text, "\n") && strings.Contains(text, "\r") {
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	// Excel's "sep=;" first line names the separator.
	skipped := 0
	if first, rest, ok := strings.Cut(text, "\n"); ok || len(text) > 0 {
		first = strings.TrimSuffix(first, "\r")
		if sep, ok := strings.CutPrefix(strings.ToLower(first), "sep="); ok && utf8.RuneCountInString(sep) == 1 {
			f.Separator, _ = utf8.DecodeRuneInString(sep)
			text, skipped = rest, 1
		}
	}
	if f.Separator == 0 {
		f.Separator = detectSeparator(text)
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = f.Separator
	r.FieldsPerRecord = -1
	// `"Kafui", "Adjo"`: a space after the separator, before a quoted cell, as files
	// written by hand or by some tools have. Not with tabs: the reader would take an
	// empty cell's tab for a space to skip.
	r.TrimLeadingSpace = !unicode.IsSpace(f.Separator)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			f.Malformed = append(f.Malformed, ImportLine{Line: pe.StartLine + skipped, Reason: ReasonMalformed})
			continue
		} else if err != nil {
			return nil, errImportBinary
		}
		line, _ := r.FieldPos(0)
		line += skipped
		if blankRecord(rec) {
			continue
		}
		if f.Header == nil {
			if len(rec) > maxImportColumns {
				return nil, errImportTooWide
			}
			f.Header, f.HeaderAt = trimCells(rec), line
			// A malformed line before the header is not a contact.
			f.Malformed = nil
			continue
		}
		f.Rows = append(f.Rows, CSVRow{Line: line, Cells: rec})
	}
	if f.Header == nil && len(f.Malformed) > 0 {
		// Not empty: a quote left open (often on the first line) swallowed the rest.
		return nil, errImportUnread
	}
	if f.Header == nil {
		return nil, errImportEmpty
	}
	f.skipTitleRows()
	return f, nil
}

// titleRowsMax is how far down the file a header is looked for below title lines.
const titleRowsMax = 10

// skipTitleRows moves the header down when the file opens with title lines ("Liste des
// blogueurs 2026", a date…), as spreadsheets often do: when the first line names no
// email column and one of the next lines reads as a header that does, that line is
// the header and what is above it is not read.
func (f *CSVFile) skipTitleRows() {
	if hasEmailColumn(f.Header) {
		return
	}
	for i, row := range f.Rows[:min(len(f.Rows), titleRowsMax)] {
		if len(row.Cells) > maxImportColumns || !looksLikeHeader(row.Cells) {
			continue
		}
		f.Header, f.HeaderAt, f.Rows = trimCells(row.Cells), row.Line, f.Rows[i+1:]
		kept := f.Malformed[:0]
		for _, m := range f.Malformed {
			if m.Line > row.Line {
				kept = append(kept, m)
			}
		}
		f.Malformed = kept
		return
	}
}

// looksLikeHeader reports whether a line of the file names an email column and at
// least one other field, and holds no address: a contact's line that mentions
// "email" in its notes is not a header.
func looksLikeHeader(cells []string) bool {
	named := 0
	for _, c := range cells {
		if strings.Contains(c, "@") {
			return false
		}
		if guessField(c) != FieldIgnore {
			named++
		}
	}
	return named >= 2 && hasEmailColumn(cells)
}

func hasEmailColumn(header []string) bool {
	for _, h := range header {
		if guessField(h) == FieldEmail {
			return true
		}
	}
	return false
}

// decodeCSVText turns the file's bytes into text: UTF-8 (a byte order mark is dropped),
// UTF-16 with its byte order mark, or else Windows-1252, which is what French Excel
// writes. Bytes that no text file holds (NUL, most control characters) mean that the
// file is not a CSV at all.
func decodeCSVText(data []byte) (string, string, error) {
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "", "", errImportEmpty
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return "", "", errImportXLSX
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		dec := xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder()
		b, err := dec.Bytes(data)
		if err != nil || looksBinary(b) {
			return "", "", errImportBinary
		}
		return string(b), "utf-16", nil
	}
	if looksBinary(data) {
		return "", "", errImportBinary
	}
	if b, ok := bytes.CutPrefix(data, []byte("\xEF\xBB\xBF")); ok {
		if !utf8.Valid(b) {
			return "", "", errImportBinary
		}
		return string(b), "utf-8-bom", nil
	}
	if utf8.Valid(data) {
		return string(data), "utf-8", nil
	}
	b, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return "", "", errImportBinary
	}
	return string(b), "windows-1252", nil
}

// looksBinary reports whether data holds a NUL byte, or control characters (other than
// tab, line ends, form feed and the old end-of-file mark) in more than 1% of its first 64 KB.
func looksBinary(data []byte) bool {
	if bytes.IndexByte(data, 0) >= 0 {
		return true
	}
	head := data[:min(len(data), 64<<10)]
	n := 0
	for _, b := range head {
		if (b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' && b != 0x1A) || b == 0x7F {
			n++
		}
	}
	return n*100 > len(head)
}

// detectSeparator picks ";", "," or tab: the one that appears most often, outside
// quotes, in the first non-empty line that holds one (";" wins a tie: French Excel is
// the usual source). A title typed above the header holds none; past titleRowsMax
// lines, the file has one column.
func detectSeparator(text string) rune {
	counts := map[rune]int{}
	quoted, seen, lines := false, false, 0
	for _, r := range text {
		if r == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if r == '\n' {
			if seen {
				lines++
				if len(counts) > 0 || lines > titleRowsMax {
					break
				}
				seen = false
			}
			continue
		}
		if r != '\r' && !unicode.IsSpace(r) {
			seen = true
		}
		if r == ';' || r == ',' || r == '\t' {
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{';', ',', '\t'} {
		if counts[r] > counts[best] || (counts[r] == counts[best] && counts[r] > 0 && r == ';') {
			best = r
		}
	}
	return best
}

func blankRecord(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func trimCells(rec []string) []string {
	out := make([]string, len(rec))
	for i, c := range rec {
		out[i] = strings.TrimSpace(c)
	}
	return out
}

// headerNames maps a header, folded to lower-case letters and digits without accents,
// to a field: French and English names, and the usual variants.
var headerNames = map[string]string{
	"prenom": FieldFirstName, "prenoms": FieldFirstName, "firstname": FieldFirstName, "first": FieldFirstName,
	"givenname": FieldFirstName,
	"nom":       FieldLastName, "lastname": FieldLastName, "last": FieldLastName, "surname": FieldLastName,
	"nomdefamille": FieldLastName, "familyname": FieldLastName,
	"nomcomplet": FieldFullName, "nometprenom": FieldFullName, "nometprenoms": FieldFullName, "prenometnom": FieldFullName,
	"nomprenom": FieldFullName, "nomprenoms": FieldFullName, "prenomnom": FieldFullName, "fullname": FieldFullName,
	"prenomsetnom": FieldFullName, "prenomsetnoms": FieldFullName, "prenomsnom": FieldFullName, "prenomsnoms": FieldFullName,
	"prenometnoms": FieldFullName, "prenomnoms": FieldFullName,
	"name": FieldFullName, "noms": FieldFullName, "blogueur": FieldFullName, "blogueuse": FieldFullName,
	"nomdublogueur": FieldFullName, "nomdelablogueuse": FieldFullName, "influenceur": FieldFullName,
	"email": FieldEmail, "mail": FieldEmail, "courriel": FieldEmail, "adresseemail": FieldEmail, "adressemail": FieldEmail,
	"emailaddress": FieldEmail, "adressecourriel": FieldEmail, "adresseelectronique": FieldEmail, "mel": FieldEmail,
	"telephone": FieldPhone, "tel": FieldPhone, "phone": FieldPhone, "phonenumber": FieldPhone, "mobile": FieldPhone,
	"portable": FieldPhone, "numero": FieldPhone, "numerodetelephone": FieldPhone, "cellulaire": FieldPhone, "gsm": FieldPhone,
	"media": FieldOutlet, "medias": FieldOutlet, "outlet": FieldOutlet, "nomdublog": FieldOutlet, "blogname": FieldOutlet,
	"organe": FieldOutlet, "organedepresse": FieldOutlet, "nomdumedia": FieldOutlet, "publication": FieldOutlet,
	"structure": FieldOutlet, "organisation": FieldOutlet,
	"blog": FieldBlogURL, "site": FieldBlogURL, "website": FieldBlogURL, "siteweb": FieldBlogURL, "siteinternet": FieldBlogURL,
	"url": FieldBlogURL, "blogurl": FieldBlogURL, "urldublog": FieldBlogURL, "adressedublog": FieldBlogURL, "lien": FieldBlogURL,
	"web":   FieldBlogURL,
	"ville": FieldCity, "city": FieldCity, "localite": FieldCity, "town": FieldCity,
	"pays": FieldCountry, "country": FieldCountry,
	"langue": FieldLanguage, "language": FieldLanguage, "lang": FieldLanguage,
	"abonnes": FieldAudience, "followers": FieldAudience, "audience": FieldAudience, "nombredabonnes": FieldAudience,
	"nbabonnes": FieldAudience, "subscribers": FieldAudience, "reach": FieldAudience, "portee": FieldAudience,
	"tags": FieldTags, "tag": FieldTags, "etiquettes": FieldTags, "etiquette": FieldTags, "motscles": FieldTags,
	"categories": FieldTags, "categorie": FieldTags, "labels": FieldTags,
	"notes": FieldNotes, "note": FieldNotes, "remarques": FieldNotes, "remarque": FieldNotes, "commentaires": FieldNotes,
	"commentaire": FieldNotes, "comments": FieldNotes, "comment": FieldNotes, "observations": FieldNotes,
	"facebook": channelPrefix + "facebook", "fb": channelPrefix + "facebook",
	"x": channelPrefix + "x", "twitter": channelPrefix + "x", "xtwitter": channelPrefix + "x", "twitterx": channelPrefix + "x",
	"instagram": channelPrefix + "instagram", "insta": channelPrefix + "instagram", "ig": channelPrefix + "instagram",
	"tiktok": channelPrefix + "tiktok", "youtube": channelPrefix + "youtube", "yt": channelPrefix + "youtube",
	"linkedin": channelPrefix + "linkedin", "whatsapp": channelPrefix + "whatsapp", "chainewhatsapp": channelPrefix + "whatsapp",
}

// headerContains recognises longer headers by a word they contain ("Page Facebook",
// "E-mail professionnel"), after exact names and prefixes failed.
var headerContains = [][2]string{
	{"email", FieldEmail}, {"courriel", FieldEmail}, {"telephone", FieldPhone},
	{"facebook", channelPrefix + "facebook"}, {"twitter", channelPrefix + "x"}, {"instagram", channelPrefix + "instagram"},
	{"tiktok", channelPrefix + "tiktok"}, {"youtube", channelPrefix + "youtube"}, {"linkedin", channelPrefix + "linkedin"},
	{"whatsapp", channelPrefix + "whatsapp"}, {"abonnes", FieldAudience}, {"followers", FieldAudience},
}

func headerKey(h string) string {
	var b strings.Builder
	for _, r := range model.FoldText(h) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// guessField recognises one header, or returns FieldIgnore.
func guessField(h string) string {
	k := headerKey(h)
	if k == "" {
		return FieldIgnore
	}
	if f, ok := headerNames[k]; ok {
		return f
	}
	// "Nombre d'abonnés Facebook" is an audience, "Nom du blog (lien)" an outlet…
	best := ""
	for name := range headerNames {
		if len(name) >= 4 && strings.HasPrefix(k, name) && len(name) > len(best) {
			best = name
		}
	}
	contained := FieldIgnore
	for _, hc := range headerContains {
		if strings.Contains(k, hc[0]) {
			contained = hc[1]
			break
		}
	}
	if best != "" {
		// "Lien Facebook", "Site TikTok": the address of a channel, not of the blog.
		if f := headerNames[best]; f != FieldBlogURL || !strings.HasPrefix(contained, channelPrefix) {
			return f
		}
	}
	return contained
}

// GuessMapping proposes a field for each column from its header. A field goes to the
// first column that names it; later ones are ignored.
func GuessMapping(header []string) []string {
	out := make([]string, len(header))
	used := map[string]bool{}
	for i, h := range header {
		f := guessField(h)
		if f != FieldIgnore && !used[f] {
			out[i] = f
			used[f] = true
		}
	}
	return out
}

// ValidateMapping checks an organizer's mapping: known fields, each at most once, and
// an email column.
func ValidateMapping(mapping []string) error {
	used := map[string]bool{}
	for _, f := range mapping {
		if f == FieldIgnore {
			continue
		}
		if !validImportField(f) {
			return &model.Error{Code: model.EInvalid, Message: "contacts.import.error.mapping_unknown"}
		}
		if used[f] {
			return &model.Error{Code: model.EInvalid, Message: "contacts.import.error.mapping_twice"}
		}
		used[f] = true
	}
	if !used[FieldEmail] {
		return &model.Error{Code: model.EInvalid, Message: "contacts.import.error.no_email_column"}
	}
	return nil
}

// ImportRow is a line of the file read into a contact.
type ImportRow struct {
	Line    int
	Contact model.Contact
}

// ReadContactRows turns the file's records into contacts with the mapping (validated
// with ValidateMapping), normalising as the contact form does. It returns the valid
// rows and the rejected lines (the file's malformed lines included), by line.
func ReadContactRows(f *CSVFile, mapping []string) ([]ImportRow, []ImportLine) {
	rows := make([]ImportRow, 0, len(f.Rows))
	rejected := append([]ImportLine(nil), f.Malformed...)
	for _, rec := range f.Rows {
		c, bad := readContact(rec.Cells, mapping)
		if bad != nil {
			bad.Line = rec.Line
			rejected = append(rejected, *bad)
			continue
		}
		rows = append(rows, ImportRow{Line: rec.Line, Contact: c})
	}
	sortLines(rejected)
	return rows, rejected
}

func sortLines(ls []ImportLine) {
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].Line < ls[j].Line })
}

// importLimits are the longest values the directory keeps, in characters.
var importLimits = []struct {
	field string
	max   int
}{{FieldFirstName, 100}, {FieldLastName, 100}, {FieldFullName, 201}, {FieldOutlet, 200}, {FieldCity, 100},
	{FieldCountry, 100}, {FieldNotes, 5000}}

// readContact reads one record; a non-nil *ImportLine says why it is rejected.
func readContact(cells []string, mapping []string) (model.Contact, *ImportLine) {
	var c model.Contact
	for i := len(mapping); i < len(cells); i++ {
		if strings.TrimSpace(cells[i]) != "" {
			return c, &ImportLine{Reason: ReasonExtraCells}
		}
	}
	val := map[string]string{}
	for i, f := range mapping {
		if f == FieldIgnore || i >= len(cells) {
			continue
		}
		// Invisible characters that copying from a web page, WhatsApp or a phone's
		// contacts leaves in a cell (zero width space, direction marks around a number)
		// go at the ends of every cell and anywhere in an address or a number: kept,
		// they make a valid number unreadable, and an address that looks like one of the
		// directory but is another, which no mail reaches.
		v := strings.TrimFunc(cells[i], func(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) })
		if f == FieldEmail || f == FieldPhone || f == FieldBlogURL || f == FieldAudience || f == FieldLanguage ||
			strings.HasPrefix(f, channelPrefix) {
			v = dropFormatChars(v)
		}
		// A cell that a spreadsheet export protected against formulas ("'+228 90…").
		if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@", rune(v[1])) {
			v = v[1:]
		}
		if f != FieldNotes {
			v = strings.Join(strings.Fields(v), " ")
		}
		val[f] = v
	}
	email := cleanEmail(val[FieldEmail])
	bad := func(reason, field string) (model.Contact, *ImportLine) {
		return c, &ImportLine{Reason: reason, Field: field, Email: clipText(val[FieldEmail], 254)}
	}
	switch {
	case email == "":
		return bad(ReasonMissingEmail, FieldEmail)
	case !model.ValidEmail(email):
		return bad(ReasonBadEmail, FieldEmail)
	}
	for _, l := range importLimits {
		if utf8.RuneCountInString(val[l.field]) > l.max {
			return bad(ReasonTooLong, l.field)
		}
	}
	c.Email = email
	c.FirstName, c.LastName = val[FieldFirstName], val[FieldLastName]
	if full := val[FieldFullName]; full != "" && c.FirstName == "" && c.LastName == "" {
		c.FirstName, c.LastName = splitFullName(full)
		if utf8.RuneCountInString(c.FirstName) > 100 || utf8.RuneCountInString(c.LastName) > 100 {
			return bad(ReasonTooLong, FieldFullName)
		}
	}
	c.Outlet, c.City, c.Country, c.Notes = val[FieldOutlet], val[FieldCity], val[FieldCountry], val[FieldNotes]
	c.Lang = importLang(val[FieldLanguage])
	var ok bool
	if c.Phone, ok = NormalizePhone(val[FieldPhone]); !ok {
		return bad(ReasonBadPhone, FieldPhone)
	}
	if c.BlogURL, ok = NormalizeURL(val[FieldBlogURL]); !ok {
		return bad(ReasonBadURL, FieldBlogURL)
	}
	if a := val[FieldAudience]; a != "" {
		n, ok := parseCount(a)
		if !ok {
			return bad(ReasonBadAudience, FieldAudience)
		}
		c.Audience = n
	}
	tags, ok := SplitTags(val[FieldTags])
	if !ok {
		return bad(ReasonTooLong, FieldTags)
	}
	c.Tags = tags
	for _, p := range model.Platforms {
		f := channelPrefix + p
		ch, ok := importChannel(p, val[f])
		if !ok {
			return bad(ReasonBadURL, f)
		}
		if ch != nil {
			if utf8.RuneCountInString(ch.Handle) > 200 {
				return bad(ReasonTooLong, f)
			}
			c.Channels = append(c.Channels, *ch)
		}
	}
	return c, nil
}

// dropFormatChars removes the invisible formatting characters (Unicode class Cf) of s.
func dropFormatChars(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}

// cleanEmail reads "mailto:a@b.tg" and "Ama <a@b.tg>" as a@b.tg, lower-cased.
func cleanEmail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	if strings.Contains(s, "<") {
		if a, err := mail.ParseAddress(s); err == nil {
			s = a.Address
		}
	}
	return model.NormalizeEmail(s)
}

// splitFullName splits "Kafui Adjo" as first name, last name, and "ADJO Kafui" (the
// family name written in capitals first, as on many French lists) the other way round.
func splitFullName(s string) (first, last string) {
	words := strings.Fields(s)
	switch len(words) {
	case 0:
		return "", ""
	case 1:
		return "", words[0]
	}
	isUpper := func(w string) bool {
		letters := 0
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters++
				if !unicode.IsUpper(r) {
					return false
				}
			}
		}
		return letters > 1
	}
	if isUpper(words[0]) && !isUpper(words[len(words)-1]) {
		n := 1
		for n < len(words)-1 && isUpper(words[n]) {
			n++
		}
		return strings.Join(words[n:], " "), strings.Join(words[:n], " ")
	}
	return words[0], strings.Join(words[1:], " ")
}

// importLang reads "fr", "Français", "anglais", "English"…; anything else is left empty
// (the default language applies).
func importLang(s string) string {
	switch headerKey(s) {
	case "fr", "fra", "fre", "francais", "french":
		return "fr"
	case "en", "eng", "anglais", "english":
		return "en"
	}
	return ""
}

// maxTag is the longest tag, in characters.
const maxTag = 50

// SplitTags reads "tech, Lomé; influenceur" as tags: trimmed, inner spaces collapsed,
// duplicates (without case) dropped. ok is false when a tag is too long.
func SplitTags(s string) ([]string, bool) {
	var out []string
	seen := map[string]bool{}
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' || r == '\n' }) {
		t = strings.Join(strings.Fields(t), " ")
		if t == "" {
			continue
		}
		if utf8.RuneCountInString(t) > maxTag {
			return nil, false
		}
		if k := strings.ToLower(t); !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out, true
}

// importChannel reads a channel cell: a handle ("@kafui"), a page ("facebook.com/kafui",
// "https://…") or a number (WhatsApp). ok is false for a malformed address.
func importChannel(platform, v string) (*model.ContactChannel, bool) {
	if v == "" {
		return nil, true
	}
	ch := &model.ContactChannel{Platform: platform, Handle: v}
	lower := strings.ToLower(v)
	if strings.Contains(lower, "://") || strings.HasPrefix(lower, "www.") || looksLikePage(lower) {
		u, ok := NormalizeURL(v)
		if !ok {
			return nil, false
		}
		ch.URL = u
	}
	return ch, true
}

// looksLikePage reports whether v is a page address without its scheme ("tiktok.com/@ama").
func looksLikePage(v string) bool {
	host, _, ok := strings.Cut(v, "/")
	return ok && strings.Contains(host, ".") && !strings.ContainsAny(host, " @")
}

func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// ImportReport says what an import did. Every data line of the file is counted once:
// Imported + Merged + Skipped + len(Rejected).
type ImportReport struct {
	Imported     int          `json:"imported"` // new contacts
	Merged       int          `json:"merged"`   // lines merged into a contact of the directory or an earlier line
	Skipped      int          `json:"skipped"`  // lines whose address is in the directory (mode skip)
	Rejected     []ImportLine `json:"rejected"`
	SkippedLines []ImportLine `json:"skipped_lines"`
}

// PlanImport decides, line by line, what becomes of the valid rows: a new contact, a
// merge into a contact of the directory (existing, keyed by normalised email) or into
// an earlier line of the file, a skip or a rejection. It changes nothing in existing:
// merges work on copies.
func PlanImport(rows []ImportRow, existing map[string]*model.Contact, mode string) ([]*model.Contact, []store.ContactMerge, ImportReport) {
	var creates []*model.Contact
	var merges []store.ContactMerge
	rep := ImportReport{Rejected: []ImportLine{}, SkippedLines: []ImportLine{}}
	type target struct {
		firstLine int
		created   *model.Contact // a new contact of this import
		merge     int            // else an index in merges, or -1 for a skipped contact
	}
	seen := map[string]*target{}
	for _, row := range rows {
		c := row.Contact
		if t := seen[c.Email]; t != nil {
			if mode != DuplicatesMerge {
				rep.Rejected = append(rep.Rejected, ImportLine{Line: row.Line, Reason: ReasonDuplicateFile,
					Email: c.Email, FirstLine: t.firstLine})
				continue
			}
			rep.Merged++
			if t.created != nil {
				mergeContact(t.created, &c)
			} else if t.merge >= 0 {
				m := &merges[t.merge]
				changed, tags, chans := mergeContact(m.Contact, &c)
				m.Changed = m.Changed || changed
				m.AddTags, m.AddChannels = append(m.AddTags, tags...), append(m.AddChannels, chans...)
			}
			continue
		}
		if old := existing[c.Email]; old != nil {
			if mode != DuplicatesMerge {
				rep.Skipped++
				rep.SkippedLines = append(rep.SkippedLines, ImportLine{Line: row.Line, Reason: ReasonExists, Email: c.Email})
				seen[c.Email] = &target{firstLine: row.Line, merge: -1}
				continue
			}
			cp := *old
			cp.Channels = append([]model.ContactChannel(nil), old.Channels...)
			cp.Tags = append([]string(nil), old.Tags...)
			changed, tags, chans := mergeContact(&cp, &c)
			merges = append(merges, store.ContactMerge{Contact: &cp, Changed: changed, AddTags: tags, AddChannels: chans})
			seen[c.Email] = &target{firstLine: row.Line, merge: len(merges) - 1}
			rep.Merged++
			continue
		}
		nc := c
		creates = append(creates, &nc)
		seen[c.Email] = &target{firstLine: row.Line, created: &nc}
		rep.Imported++
	}
	return creates, merges, rep
}

// mergeContact fills dst's empty fields from src and adds the tags (compared without
// case) and the channels of platforms dst does not have yet. It returns whether a field
// changed and what was added.
func mergeContact(dst, src *model.Contact) (changed bool, addTags []string, addChans []model.ContactChannel) {
	fill := func(d *string, s string) {
		if *d == "" && s != "" {
			*d, changed = s, true
		}
	}
	fill(&dst.FirstName, src.FirstName)
	fill(&dst.LastName, src.LastName)
	fill(&dst.Phone, src.Phone)
	fill(&dst.Outlet, src.Outlet)
	fill(&dst.BlogURL, src.BlogURL)
	fill(&dst.City, src.City)
	fill(&dst.Country, src.Country)
	fill(&dst.Lang, src.Lang)
	fill(&dst.Notes, src.Notes)
	if dst.Audience == 0 && src.Audience > 0 {
		dst.Audience, changed = src.Audience, true
	}
	have := map[string]bool{}
	for _, t := range dst.Tags {
		have[strings.ToLower(t)] = true
	}
	for _, t := range src.Tags {
		if k := strings.ToLower(t); !have[k] {
			have[k] = true
			dst.Tags = append(dst.Tags, t)
			addTags = append(addTags, t)
		}
	}
	platforms := map[string]bool{}
	for _, ch := range dst.Channels {
		platforms[ch.Platform] = true
	}
	for _, ch := range src.Channels {
		if !platforms[ch.Platform] {
			platforms[ch.Platform] = true
			dst.Channels = append(dst.Channels, ch)
			addChans = append(addChans, ch)
		}
	}
	return changed, addTags, addChans
}
