package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"relais/internal/model"
	"relais/internal/store"
)

// ChannelInput is one channel as typed on the contact form or sent to the API.
type ChannelInput struct {
	Platform  string
	Handle    string
	URL       string
	Followers string
}

// ContactForm is what an organizer sets on a contact of the directory, by the form or
// the API. Field errors are keyed by the form's (and the API's) field names; a channel's
// by "channels.N" (N from 0, in the order given).
type ContactForm struct {
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Outlet    string
	BlogURL   string
	City      string
	Country   string
	Lang      string
	Audience  string
	Notes     string
	Tags      []string
	Channels  []ChannelInput
}

// ContactFormOf fills a form with a contact's values.
func ContactFormOf(c *model.Contact) ContactForm {
	f := ContactForm{FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone, Outlet: c.Outlet,
		BlogURL: c.BlogURL, City: c.City, Country: c.Country, Lang: c.Lang, Notes: c.Notes,
		Tags: append([]string(nil), c.Tags...)}
	if c.Audience > 0 {
		f.Audience = strconv.Itoa(c.Audience)
	}
	for _, ch := range c.Channels {
		in := ChannelInput{Platform: ch.Platform, Handle: ch.Handle, URL: ch.URL}
		if ch.Followers > 0 {
			in.Followers = strconv.Itoa(ch.Followers)
		}
		f.Channels = append(f.Channels, in)
	}
	return f
}

// apply validates the form and writes it into c; it returns the field errors.
func (in *ContactForm) apply(c *model.Contact) map[string]string {
	errs := map[string]string{}
	text := func(dst *string, v, field string, max int) {
		v = strings.TrimSpace(v)
		if utf8.RuneCountInString(v) > max {
			errs[field] = "error.too_long"
		}
		*dst = v
	}
	text(&c.FirstName, in.FirstName, "first_name", 100)
	text(&c.LastName, in.LastName, "last_name", 100)
	text(&c.Outlet, in.Outlet, "outlet", 200)
	text(&c.City, in.City, "city", 100)
	text(&c.Country, in.Country, "country", 100)
	text(&c.Notes, strings.ReplaceAll(in.Notes, "\r\n", "\n"), "notes", 5000)
	c.Email = model.NormalizeEmail(in.Email)
	if c.Email == "" {
		errs["email"] = "error.required"
	} else if !model.ValidEmail(c.Email) {
		errs["email"] = "error.email"
	}
	var ok bool
	if c.Phone, ok = NormalizePhone(in.Phone); !ok {
		errs["phone"] = "error.phone"
	}
	if c.BlogURL, ok = NormalizeURL(in.BlogURL); !ok {
		errs["blog_url"] = "error.url_any"
	}
	switch l := strings.TrimSpace(in.Lang); l {
	case "fr", "en":
		c.Lang = l
	case "":
	default:
		errs["language"] = "error.choice"
	}
	c.Audience = 0
	if a := strings.TrimSpace(in.Audience); a != "" {
		if c.Audience, ok = parseCount(a); !ok {
			errs["audience"] = "error.number"
		}
	}
	tags, ok := SplitTags(strings.Join(in.Tags, ","))
	if !ok {
		errs["tags"] = "contacts.error.tag_too_long"
	}
	c.Tags = tags
	c.Channels = nil
	for i, ch := range in.Channels {
		field := "channels." + strconv.Itoa(i)
		out := model.ContactChannel{Platform: strings.TrimSpace(ch.Platform), Handle: strings.TrimSpace(ch.Handle)}
		url := strings.TrimSpace(ch.URL)
		if out.Handle == "" && url == "" {
			continue
		}
		if !model.ValidPlatform(out.Platform) {
			errs[field] = "error.choice"
			continue
		}
		if utf8.RuneCountInString(out.Handle) > 200 {
			errs[field] = "error.too_long"
			continue
		}
		if url == "" && strings.Contains(out.Handle, "://") {
			url = out.Handle
		}
		if url != "" {
			if out.URL, ok = NormalizeURL(url); !ok {
				errs[field] = "error.url_any"
				continue
			}
		}
		if out.Handle == "" {
			out.Handle = out.URL
		}
		if f := strings.TrimSpace(ch.Followers); f != "" {
			if out.Followers, ok = parseCount(f); !ok {
				errs[field] = "error.number"
				continue
			}
		}
		c.Channels = append(c.Channels, out)
	}
	return errs
}

var errEmailTaken = &model.Error{Code: model.EConflict, Message: "contacts.error.email_taken",
	Fields: map[string]string{"email": "contacts.error.email_taken"}}

// CreateContact adds a contact to the directory. An address already in the directory
// is a conflict (EConflict, with the email field marked).
func (a *App) CreateContact(ctx context.Context, actor Actor, in ContactForm) (*model.Contact, error) {
	c := &model.Contact{}
	if errs := in.apply(c); len(errs) > 0 {
		return nil, model.FieldErrors(errs)
	}
	if c.Lang == "" {
		c.Lang = supportedLang(a.Config.Lang)
	}
	c.UnsubscribeToken = a.Token()
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		if _, err := tx.FindContactByEmail(ctx, c.Email); err == nil {
			return errEmailTaken
		} else if model.ErrorCode(err) != model.ENotFound {
			return err
		}
		if err := tx.CreateContact(ctx, c); err != nil {
			if store.IsDuplicate(err) {
				return errEmailTaken
			}
			return err
		}
		a.audit(ctx, tx, actor, "contact.create", "contact", c.ID, nil, "")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateContact replaces a contact's fields, tags and channels with the form's. An
// erased contact cannot be changed.
func (a *App) UpdateContact(ctx context.Context, actor Actor, id int64, in ContactForm) (*model.Contact, error) {
	var c *model.Contact
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if c, err = tx.FindContact(ctx, id); err != nil {
			return err
		}
		if c.ErasedAt != nil {
			return &model.Error{Code: model.EConflict, Message: "contacts.error.erased"}
		}
		lang := c.Lang
		if errs := in.apply(c); len(errs) > 0 {
			return model.FieldErrors(errs)
		}
		if c.Lang == "" {
			c.Lang = lang
		}
		if other, err := tx.FindContactByEmail(ctx, c.Email); err == nil && other.ID != c.ID {
			return errEmailTaken
		} else if err != nil && model.ErrorCode(err) != model.ENotFound {
			return err
		}
		if err := tx.UpdateContact(ctx, c); err != nil {
			if store.IsDuplicate(err) {
				return errEmailTaken
			}
			return err
		}
		a.audit(ctx, tx, actor, "contact.update", "contact", c.ID, nil, "")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// TagContacts adds (or with remove, takes off) a tag on contacts and returns how many
// changed. Unknown and erased contacts are left out.
func (a *App) TagContacts(ctx context.Context, actor Actor, ids []int64, tag string, remove bool) (int64, error) {
	tags, ok := SplitTags(tag)
	switch {
	case !ok:
		return 0, model.FieldErrors(map[string]string{"bulk_tag": "contacts.error.tag_too_long"})
	case len(tags) != 1:
		return 0, model.FieldErrors(map[string]string{"bulk_tag": "contacts.error.one_tag"})
	case len(ids) == 0:
		return 0, &model.Error{Code: model.EInvalid, Message: "contacts.error.none_selected"}
	}
	ids, err := a.Store.ExistingContactIDs(ctx, ids)
	if err != nil {
		return 0, err
	}
	var n int64
	action := "contact.tag_add"
	if remove {
		action = "contact.tag_remove"
		n, err = a.Store.RemoveContactsTag(ctx, ids, tags[0])
	} else {
		n, err = a.Store.AddContactsTag(ctx, ids, tags[0])
	}
	if err != nil {
		return 0, err
	}
	a.audit(ctx, a.Store, actor, action, "contact", 0, nil, fmt.Sprintf("tag=%q contacts=%d changed=%d", tags[0], len(ids), n))
	return n, nil
}

// EraseContact anonymises a contact (see store.EraseContact) and records it in the audit log.
func (a *App) EraseContact(ctx context.Context, actor Actor, id int64) (*model.Contact, error) {
	c, err := a.Store.EraseContact(ctx, id, a.Token())
	if err != nil {
		return nil, err
	}
	a.audit(ctx, a.Store, actor, "contact.erase", "contact", id, nil, "")
	return c, nil
}

// ContactHistory is everything that happened with a contact, across events.
type ContactHistory struct {
	Registrations []store.ContactRegistration
	Invitations   []store.ContactInvitation
	Coverage      []store.CoverageRow
	Messages      []model.Message
}

// ContactHistoryOf reads a contact's registrations, invitations, coverage and (at most
// maxMessages, 0 for all) emails.
func (a *App) ContactHistoryOf(ctx context.Context, id int64, maxMessages int) (*ContactHistory, error) {
	var h ContactHistory
	var err error
	if h.Registrations, err = a.Store.ListRegistrationsForContact(ctx, id); err != nil {
		return nil, err
	}
	if h.Invitations, err = a.Store.ListInvitationsForContact(ctx, id); err != nil {
		return nil, err
	}
	if h.Coverage, err = a.Store.ListCoverage(ctx, store.CoverageFilter{ContactID: id}); err != nil {
		return nil, err
	}
	if h.Messages, err = a.Store.ListMessagesForContact(ctx, id, maxMessages); err != nil {
		return nil, err
	}
	return &h, nil
}

// ContactExport is a contact's personal data, as handed to them on request.
type ContactExport struct {
	ExportedAt    time.Time            `json:"exported_at"`
	Contact       *model.Contact       `json:"contact"`
	Registrations []ExportRegistration `json:"registrations"`
	Invitations   []ExportInvitation   `json:"invitations"`
	Coverage      []model.Coverage     `json:"coverage"`
	Messages      []ExportMessage      `json:"messages"`
}

// ExportEvent names the event of a registration or an invitation.
type ExportEvent struct {
	ID       int64     `json:"id"`
	Title    string    `json:"title"`
	StartsAt time.Time `json:"starts_at"`
}

// ExportRegistration is a registration with its answers labelled by their questions.
type ExportRegistration struct {
	model.Registration
	Event   ExportEvent    `json:"event"`
	Answers []ExportAnswer `json:"answers"`
}

// ExportAnswer is one answer to a registration question.
type ExportAnswer struct {
	Question string `json:"question"`
	Answer   any    `json:"answer"`
}

// ExportInvitation is an invitation with its event.
type ExportInvitation struct {
	model.Invitation
	Event ExportEvent `json:"event"`
}

// ExportMessage describes an email sent to the contact, without its body.
type ExportMessage struct {
	Kind      string              `json:"kind"`
	Subject   string              `json:"subject"`
	ToEmail   string              `json:"to_email"`
	Status    model.MessageStatus `json:"status"`
	EventID   *int64              `json:"event_id"`
	CreatedAt time.Time           `json:"created_at"`
	SentAt    *time.Time          `json:"sent_at"`
}

// ExportContact gathers a contact's data and records the export in the audit log.
func (a *App) ExportContact(ctx context.Context, actor Actor, id int64) (*ContactExport, error) {
	c, err := a.Store.FindContact(ctx, id)
	if err != nil {
		return nil, err
	}
	h, err := a.ContactHistoryOf(ctx, id, 0)
	if err != nil {
		return nil, err
	}
	out := &ContactExport{ExportedAt: a.Now().UTC(), Contact: c, Registrations: []ExportRegistration{},
		Invitations: []ExportInvitation{}, Coverage: []model.Coverage{}, Messages: []ExportMessage{}}
	for _, cv := range h.Coverage {
		out.Coverage = append(out.Coverage, cv.Coverage)
	}
	labels := map[int64]map[string]string{} // event → question id → label
	for _, r := range h.Registrations {
		if labels[r.EventID] == nil {
			qs, err := a.Store.ListQuestions(ctx, r.EventID)
			if err != nil {
				return nil, err
			}
			labels[r.EventID] = map[string]string{}
			for _, q := range qs {
				labels[r.EventID][strconv.FormatInt(q.ID, 10)] = q.Label
			}
		}
		er := ExportRegistration{Registration: r.Registration, Answers: []ExportAnswer{},
			Event: ExportEvent{ID: r.EventID, Title: r.EventTitle, StartsAt: r.EventStartsAt}}
		answers := map[string]any{}
		_ = json.Unmarshal([]byte(r.Answers), &answers)
		qids := make([]string, 0, len(answers))
		for qid := range answers {
			qids = append(qids, qid)
		}
		sort.Slice(qids, func(i, j int) bool {
			return len(qids[i]) < len(qids[j]) || (len(qids[i]) == len(qids[j]) && qids[i] < qids[j])
		})
		for _, qid := range qids {
			v := answers[qid]
			label := labels[r.EventID][qid]
			if label == "" {
				label = "#" + qid
			}
			er.Answers = append(er.Answers, ExportAnswer{Question: label, Answer: v})
		}
		out.Registrations = append(out.Registrations, er)
	}
	for _, inv := range h.Invitations {
		out.Invitations = append(out.Invitations, ExportInvitation{Invitation: inv.Invitation,
			Event: ExportEvent{ID: inv.EventID, Title: inv.EventTitle, StartsAt: inv.EventStartsAt}})
	}
	for _, m := range h.Messages {
		out.Messages = append(out.Messages, ExportMessage{Kind: m.Kind, Subject: m.Subject, ToEmail: m.ToEmail,
			Status: m.Status, EventID: m.EventID, CreatedAt: m.CreatedAt, SentAt: m.SentAt})
	}
	a.audit(ctx, a.Store, actor, "contact.export", "contact", id, nil, "")
	return out, nil
}

// ImportContacts imports a parsed file with a column mapping (see ValidateMapping) and
// a duplicates mode: the valid lines in one transaction, every other line reported.
func (a *App) ImportContacts(ctx context.Context, actor Actor, f *CSVFile, mapping []string, mode string) (*ImportReport, error) {
	return a.importContacts(ctx, actor, f, mapping, mode, "")
}

// importContacts imports f; with a key, the kept file is forgotten in the same
// transaction (a second confirmation of the same file finds nothing).
func (a *App) importContacts(ctx context.Context, actor Actor, f *CSVFile, mapping []string, mode, key string) (*ImportReport, error) {
	if err := ValidateMapping(mapping); err != nil {
		return nil, err
	}
	if mode != DuplicatesSkip {
		mode = DuplicatesMerge
	}
	rows, rejected := ReadContactRows(f, mapping)
	emails := make([]string, 0, len(rows))
	for _, r := range rows {
		emails = append(emails, r.Contact.Email)
	}
	var rep ImportReport
	lang := supportedLang(a.Config.Lang)
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		existing, err := tx.FindContactsByEmails(ctx, emails)
		if err != nil {
			return err
		}
		creates, merges, r := PlanImport(rows, existing, mode)
		for _, c := range creates {
			if c.Lang == "" {
				c.Lang = lang
			}
			c.UnsubscribeToken = a.Token()
			c.ConsentSource = "import"
		}
		if err := tx.ImportContacts(ctx, creates, merges); err != nil {
			if store.IsDuplicate(err) {
				// A registration added one of these addresses meanwhile: try again.
				return &model.Error{Code: model.EConflict, Message: "contacts.import.error.concurrent", Err: err}
			}
			return err
		}
		if key != "" {
			if err := tx.DeleteContactImport(ctx, key); err != nil {
				return err
			}
		}
		rep = r
		rep.Rejected = append(rejected, rep.Rejected...)
		sortLines(rep.Rejected)
		a.audit(ctx, tx, actor, "contact.import", "contact", 0, nil, fmt.Sprintf("imported=%d merged=%d skipped=%d rejected=%d",
			rep.Imported, rep.Merged, rep.Skipped, len(rep.Rejected)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rep.Imported+rep.Merged >= analyzeAfter {
		if err := a.Store.AnalyzeDirectory(ctx); err != nil {
			a.Log.Warn("analyze directory", "err", err)
		}
	}
	if rep.Rejected == nil {
		rep.Rejected = []ImportLine{}
	}
	return &rep, nil
}

// analyzeAfter is the size of an import after which the database's statistics are refreshed.
const analyzeAfter = 1000

// importKeep is how long an uploaded file waits for the organizer to confirm its import.
const importKeep = 2 * time.Hour

// KeepContactImport checks an uploaded contacts file and keeps it in the database (not in
// the session: it may be large, and another instance may serve the confirmation) until
// its import; it returns the key under which it is kept and the parsed file.
func (a *App) KeepContactImport(ctx context.Context, userID int64, filename string, data []byte) (string, *CSVFile, error) {
	f, err := ParseContactsCSV(data)
	if err != nil {
		return "", nil, err
	}
	key := a.Token()
	err = a.Store.SaveContactImport(ctx, &store.ContactImportUpload{Key: key, UserID: userID,
		Filename: clipText(filename, 255), Data: data, ExpiresAt: a.Now().Add(importKeep)})
	if err != nil {
		return "", nil, err
	}
	return key, f, nil
}

// ContactImportFile returns a kept file of the user, parsed, and its name; ENotFound
// once it has expired or been imported.
func (a *App) ContactImportFile(ctx context.Context, key string, userID int64) (*CSVFile, string, error) {
	u, err := a.Store.FindContactImport(ctx, key, userID)
	if err != nil {
		return nil, "", err
	}
	f, err := ParseContactsCSV(u.Data)
	return f, u.Filename, err
}

// ImportKeptContacts imports a kept file (see ImportContacts) and forgets it.
func (a *App) ImportKeptContacts(ctx context.Context, actor Actor, key string, userID int64, mapping []string, mode string) (*ImportReport, error) {
	f, _, err := a.ContactImportFile(ctx, key, userID)
	if err != nil {
		return nil, err
	}
	return a.importContacts(ctx, actor, f, mapping, mode, key)
}
