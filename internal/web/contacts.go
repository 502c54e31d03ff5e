package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
)

const contactsPageSize = 50

var contactSorts = []string{store.SortName, store.SortCreated, store.SortAudience}

func oneOf(v string, choices []string) bool {
	for _, c := range choices {
		if c == v {
			return true
		}
	}
	return false
}

// contactListQuery keeps the directory's search, filters and sort, and nothing else, so
// that the page, the pager, the CSV export, the API and the way back from a bulk action agree.
func contactListQuery(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"q", "tag", "city"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" && len(v) <= 200 {
			out.Set(k, v)
		}
	}
	if v := q.Get("platform"); model.ValidPlatform(v) {
		out.Set("platform", v)
	}
	if v := q.Get("language"); v == "fr" || v == "en" {
		out.Set("language", v)
	}
	if v := q.Get("history"); oneOf(v, store.ContactHistories) {
		out.Set("history", v)
	}
	if v := q.Get("sort"); oneOf(v, contactSorts) && v != store.SortName {
		out.Set("sort", v)
	}
	return out
}

// contactFilter turns the list's query into a store filter (without paging).
func contactFilter(q url.Values) store.ContactFilter {
	q = contactListQuery(q)
	return store.ContactFilter{Query: q.Get("q"), Tag: q.Get("tag"), City: q.Get("city"), Platform: q.Get("platform"),
		Lang: q.Get("language"), History: q.Get("history"), Sort: q.Get("sort")}
}

func contactsURL(path string, q url.Values) string {
	if len(q) > 0 {
		return path + "?" + q.Encode()
	}
	return path
}

func contactURL(id int64) string { return "/admin/contacts/" + strconv.FormatInt(id, 10) }

// handleContacts is the directory: search, filters, sort, pages of 50, checkboxes for
// tagging and inviting the selected contacts.
func (s *Server) handleContacts(c echo.Context) error {
	ctx := c.Request().Context()
	query := contactListQuery(c.QueryParams())
	f := contactFilter(query)
	page, _ := strconv.Atoi(c.QueryParam("page"))
	if page < 1 {
		page = 1
	}
	f.Limit, f.Offset = contactsPageSize, (page-1)*contactsPageSize
	rows, total, err := s.app.Store.ListContacts(ctx, f)
	if err != nil {
		return err
	}
	tags, err := s.app.Store.InvitationTags(ctx)
	if err != nil {
		return err
	}
	cities, err := s.app.Store.ListContactCities(ctx)
	if err != nil {
		return err
	}
	now := s.app.Now()
	events, err := s.app.Store.ListEvents(ctx, store.EventFilter{EndsFrom: &now,
		Statuses: []model.EventStatus{model.EventDraft, model.EventPublished}})
	if err != nil {
		return err
	}
	p := s.page(c, "contacts.title")
	p.Nav = "contacts"
	for k := range query {
		p.Form.Values[k] = query.Get(k)
	}
	p.Data["Rows"] = rows
	p.Data["Total"] = int(total)
	p.Data["Tags"] = tags
	p.Data["Cities"] = cities
	p.Data["Platforms"] = model.Platforms
	p.Data["Histories"] = store.ContactHistories
	p.Data["Sorts"] = contactSorts
	p.Data["Events"] = events
	p.Data["Filtered"] = len(query) > 0
	p.Data["Back"] = contactsURL("/admin/contacts", query)
	withSep := func(sep string) string {
		q := contactListQuery(query)
		if sep != "" {
			q.Set("sep", sep)
		}
		return contactsURL("/admin/contacts.csv", q)
	}
	p.Data["CSVSemicolon"], p.Data["CSVComma"] = withSep(""), withSep("comma")
	pages := int((total + contactsPageSize - 1) / contactsPageSize)
	p.Data["Page"], p.Data["Pages"] = page, max(pages, 1)
	pageURL := func(n int) string {
		q := contactListQuery(query)
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		return contactsURL("/admin/contacts", q)
	}
	if page > 1 {
		p.Data["PrevURL"] = pageURL(page - 1)
	}
	if page < pages {
		p.Data["NextURL"] = pageURL(page + 1)
	}
	return s.render(c, http.StatusOK, "contacts", p)
}

// channelRow is a line of the channels fieldset of the contact form.
type channelRow struct {
	Index     int
	Platform  string
	Handle    string
	Followers string
	Error     string
}

// bindContactForm reads the contact form; the channels are parallel lists of
// channel_platform, channel_handle and channel_followers.
func bindContactForm(c echo.Context) app.ContactForm {
	in := app.ContactForm{FirstName: c.FormValue("first_name"), LastName: c.FormValue("last_name"),
		Email: c.FormValue("email"), Phone: c.FormValue("phone"), Outlet: c.FormValue("outlet"),
		BlogURL: c.FormValue("blog_url"), City: c.FormValue("city"), Country: c.FormValue("country"),
		Lang: c.FormValue("language"), Audience: c.FormValue("audience"), Notes: c.FormValue("notes"),
		Tags: []string{c.FormValue("tags")}}
	form, _ := c.FormParams()
	platforms, handles, followers := form["channel_platform"], form["channel_handle"], form["channel_followers"]
	for i := range platforms {
		ch := app.ChannelInput{Platform: platforms[i]}
		if i < len(handles) {
			ch.Handle = handles[i]
		}
		if i < len(followers) {
			ch.Followers = followers[i]
		}
		in.Channels = append(in.Channels, ch)
	}
	return in
}

// contactFormPage fills the contact form from in, with errors when err has some.
func (s *Server) contactFormPage(c echo.Context, ct *model.Contact, in app.ContactForm, err *model.Error) *Page {
	p := s.page(c, "contacts.new")
	p.Nav = "contacts"
	p.Data["Contact"] = ct
	if ct != nil {
		p.Title = displayName(ct)
	}
	p.Form.Values = map[string]string{"first_name": in.FirstName, "last_name": in.LastName, "email": in.Email,
		"phone": in.Phone, "outlet": in.Outlet, "blog_url": in.BlogURL, "city": in.City, "country": in.Country,
		"language": in.Lang, "audience": in.Audience, "notes": in.Notes, "tags": strings.Join(in.Tags, ", ")}
	if in.Phone != "" && strings.HasPrefix(in.Phone, "+") && err == nil {
		p.Form.Values["phone"] = app.FormatPhone(in.Phone)
	}
	if err != nil {
		p.Form.Errors = err.Fields
		if p.Form.Errors == nil {
			p.Form.Errors = map[string]string{}
		}
		p.Form.Error = p.T(err.Message)
	}
	var rows []channelRow
	for i, ch := range in.Channels {
		h := ch.Handle
		if h == "" {
			h = ch.URL
		}
		rows = append(rows, channelRow{Index: i, Platform: ch.Platform, Handle: h, Followers: ch.Followers,
			Error: p.Err("channels." + strconv.Itoa(i))})
	}
	// Two empty lines to add channels without JavaScript.
	for n := 0; n < 2; n++ {
		rows = append(rows, channelRow{Index: len(rows)})
	}
	p.Data["Channels"] = rows
	p.Data["Platforms"] = model.Platforms
	return p
}

func displayName(ct *model.Contact) string {
	if n := ct.Name(); n != "" {
		return n
	}
	return ct.Email
}

func (s *Server) handleContactNew(c echo.Context) error {
	return s.render(c, http.StatusOK, "contact_form", s.contactFormPage(c, nil, app.ContactForm{}, nil))
}

func (s *Server) handleContactCreate(c echo.Context) error {
	in := bindContactForm(c)
	ct, err := s.app.CreateContact(c.Request().Context(), actor(c), in)
	if me, ok := err.(*model.Error); ok && len(me.Fields) > 0 {
		return s.render(c, http.StatusUnprocessableEntity, "contact_form", s.contactFormPage(c, nil, in, me))
	} else if err != nil {
		return err
	}
	s.flash(c, "ok", "contacts.created")
	return s.redirect(c, contactURL(ct.ID))
}

func (s *Server) adminContact(c echo.Context) (*model.Contact, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.app.Store.FindContact(c.Request().Context(), id)
}

func (s *Server) handleContactEdit(c echo.Context) error {
	ct, err := s.adminContact(c)
	if err != nil {
		return err
	}
	if ct.ErasedAt != nil {
		return s.redirect(c, contactURL(ct.ID))
	}
	return s.render(c, http.StatusOK, "contact_form", s.contactFormPage(c, ct, app.ContactFormOf(ct), nil))
}

func (s *Server) handleContactUpdate(c echo.Context) error {
	ct, err := s.adminContact(c)
	if err != nil {
		return err
	}
	in := bindContactForm(c)
	if _, err := s.app.UpdateContact(c.Request().Context(), actor(c), ct.ID, in); err != nil {
		if me, ok := err.(*model.Error); ok && len(me.Fields) > 0 {
			return s.render(c, http.StatusUnprocessableEntity, "contact_form", s.contactFormPage(c, ct, in, me))
		}
		return err
	}
	s.flash(c, "ok", "contacts.saved")
	return s.redirect(c, contactURL(ct.ID))
}

// handleContact shows a contact and their whole history across events.
func (s *Server) handleContact(c echo.Context) error {
	ct, err := s.adminContact(c)
	if err != nil {
		return err
	}
	h, err := s.app.ContactHistoryOf(c.Request().Context(), ct.ID, 200)
	if err != nil {
		return err
	}
	p := s.page(c, displayName(ct))
	p.Nav = "contacts"
	p.Data["Contact"] = ct
	p.Data["History"] = h
	if ct.Phone != "" {
		p.Data["Phone"] = app.FormatPhone(ct.Phone)
	}
	attended := 0
	for _, r := range h.Registrations {
		if r.CheckedInAt != nil {
			attended++
		}
	}
	p.Data["Attended"] = attended
	return s.render(c, http.StatusOK, "contact", p)
}

// handleContactsBulk tags or untags the contacts ticked on the directory page.
func (s *Server) handleContactsBulk(c echo.Context) error {
	back := c.FormValue("back")
	if !strings.HasPrefix(back, "/admin/contacts") {
		back = "/admin/contacts"
	}
	form, _ := c.FormParams()
	var ids []int64
	for _, v := range form["contact_id"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	remove := c.FormValue("action") == "tag_remove"
	n, err := s.app.TagContacts(c.Request().Context(), actor(c), ids, c.FormValue("bulk_tag"), remove)
	if me, ok := err.(*model.Error); ok && me.Code == model.EInvalid {
		msg := me.Message
		for _, m := range me.Fields {
			msg = m
		}
		s.flash(c, "error", msg)
		return s.redirect(c, back)
	} else if err != nil {
		return err
	}
	ctx := c.Request().Context()
	key := "contacts.bulk.tagged"
	if remove {
		key = "contacts.bulk.untagged"
	}
	s.sessions.Put(ctx, "flash", s.i18n.N(langOf(c), key, int(n), "Tag", strings.TrimSpace(c.FormValue("bulk_tag"))))
	s.sessions.Put(ctx, "flash_kind", "ok")
	return s.redirect(c, back)
}

// handleContactsCSV exports the filtered directory as a CSV file that French Excel opens
// as it is (UTF-8 with a byte order mark, ";", CRLF; sep=comma for ","), with headers
// that the import recognises, so that an export can be edited and imported back.
func (s *Server) handleContactsCSV(c echo.Context) error {
	ctx := c.Request().Context()
	rows, _, err := s.app.Store.ListContacts(ctx, contactFilter(c.QueryParams()))
	if err != nil {
		return err
	}
	lang := langOf(c)
	t := func(id string) string { return s.i18n.T(lang, id) }
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	if c.QueryParam("sep") == "comma" {
		w.Comma = ','
	}
	w.UseCRLF = true
	platforms := []string{"facebook", "x", "instagram", "tiktok", "youtube", "linkedin", "whatsapp"}
	header := []string{t("contacts.csv.first_name"), t("contacts.csv.last_name"), t("contacts.csv.email"),
		t("contacts.csv.phone"), t("contacts.csv.outlet"), t("contacts.csv.blog_url"), t("contacts.csv.city"),
		t("contacts.csv.country"), t("contacts.csv.language"), t("contacts.csv.audience"), t("contacts.csv.tags")}
	for _, pl := range platforms {
		header = append(header, t("platform."+pl))
	}
	header = append(header, t("contacts.csv.other_channels"), t("contacts.csv.notes"),
		t("contacts.csv.unsubscribed_at"), t("contacts.csv.created_at"))
	if err := w.Write(csvSafe(header)); err != nil {
		return err
	}
	loc := s.defaultLoc()
	for _, ct := range rows {
		byPlatform := map[string][]string{}
		for _, ch := range ct.Channels {
			v := ch.Handle
			if v == "" {
				v = ch.URL
			}
			byPlatform[ch.Platform] = append(byPlatform[ch.Platform], v)
		}
		phone, audience, unsub := "", "", ""
		if ct.Phone != "" {
			phone = app.FormatPhone(ct.Phone)
		}
		if ct.Audience > 0 {
			audience = strconv.Itoa(ct.Audience)
		}
		if ct.UnsubscribedAt != nil {
			unsub = ct.UnsubscribedAt.In(loc).Format("2006-01-02 15:04")
		}
		rec := []string{ct.FirstName, ct.LastName, ct.Email, phone, ct.Outlet, ct.BlogURL, ct.City, ct.Country,
			ct.Lang, audience, strings.Join(ct.Tags, ", ")}
		for _, pl := range platforms {
			rec = append(rec, strings.Join(byPlatform[pl], " | "))
		}
		var others []string
		for _, pl := range []string{"blog", "other"} {
			for _, v := range byPlatform[pl] {
				others = append(others, t("platform."+pl)+": "+v)
			}
		}
		rec = append(rec, strings.Join(others, " | "), ct.Notes, unsub, ct.CreatedAt.In(loc).Format("2006-01-02 15:04"))
		if err := w.Write(csvSafe(rec)); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="contacts-`+s.app.Now().In(loc).Format("2006-01-02")+`.csv"`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// handleContactExport hands out a contact's personal data as a JSON file.
func (s *Server) handleContactExport(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	out, err := s.app.ExportContact(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="contact-`+strconv.FormatInt(id, 10)+`.json"`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "application/json; charset=utf-8", b)
}

func (s *Server) handleContactEraseForm(c echo.Context) error {
	ct, err := s.adminContact(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "contact_erase", s.contactErasePage(c, ct, ""))
}

func (s *Server) contactErasePage(c echo.Context, ct *model.Contact, errMsg string) *Page {
	p := s.page(c, "contacts.erase.title")
	p.Nav = "contacts"
	p.Data["Contact"] = ct
	if errMsg != "" {
		p.Form.Errors["confirm"] = errMsg
		p.Form.Error = p.T("error.invalid_form")
	}
	return p
}

// handleContactErase anonymises a contact once the organizer ticked the confirmation.
func (s *Server) handleContactErase(c echo.Context) error {
	ct, err := s.adminContact(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return s.render(c, http.StatusUnprocessableEntity, "contact_erase", s.contactErasePage(c, ct, "contacts.erase.confirm_required"))
	}
	if _, err := s.app.EraseContact(c.Request().Context(), actor(c), ct.ID); err != nil {
		return err
	}
	s.flash(c, "ok", "contacts.erase.done")
	return s.redirect(c, contactURL(ct.ID))
}
