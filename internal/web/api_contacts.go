package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
)

// apiContact makes a contact's JSON carry empty lists rather than null.
func apiContact(c *model.Contact) *model.Contact {
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.Channels == nil {
		c.Channels = []model.ContactChannel{}
	}
	return c
}

func (s *Server) apiListContacts(c echo.Context) error {
	page, perPage := pageParams(c)
	f := contactFilter(c.QueryParams())
	f.Limit, f.Offset = perPage, (page-1)*perPage
	rows, total, err := s.app.Store.ListContacts(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]*model.Contact, len(rows))
	for i := range rows {
		out[i] = apiContact(&rows[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"contacts": out, "page": page, "per_page": perPage, "total": total})
}

func (s *Server) apiGetContact(c echo.Context) error {
	ct, err := s.adminContact(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiContact(ct))
}

// channelJSON is a channel as the API takes it.
type channelJSON struct {
	Platform  string `json:"platform"`
	Handle    string `json:"handle"`
	URL       string `json:"url"`
	Followers int    `json:"followers"`
}

// contactWritable is the part of a contact that the API may set; absent fields are
// left as they are (PATCH) or empty (POST).
type contactWritable struct {
	FirstName *string        `json:"first_name"`
	LastName  *string        `json:"last_name"`
	Email     *string        `json:"email"`
	Phone     *string        `json:"phone"`
	Outlet    *string        `json:"outlet"`
	BlogURL   *string        `json:"blog_url"`
	City      *string        `json:"city"`
	Country   *string        `json:"country"`
	Lang      *string        `json:"language"`
	Audience  *int           `json:"audience"`
	Notes     *string        `json:"notes"`
	Tags      *[]string      `json:"tags"`
	Channels  *[]channelJSON `json:"channels"`
}

func (w *contactWritable) apply(in *app.ContactForm) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&in.FirstName, w.FirstName)
	set(&in.LastName, w.LastName)
	set(&in.Email, w.Email)
	set(&in.Phone, w.Phone)
	set(&in.Outlet, w.Outlet)
	set(&in.BlogURL, w.BlogURL)
	set(&in.City, w.City)
	set(&in.Country, w.Country)
	set(&in.Lang, w.Lang)
	set(&in.Notes, w.Notes)
	if w.Audience != nil {
		if *w.Audience < 0 {
			return model.FieldErrors(map[string]string{"audience": "error.number"})
		}
		in.Audience = strconv.Itoa(*w.Audience)
	}
	if w.Tags != nil {
		// A comma inside a tag would split it: the API names tags one by one.
		for _, t := range *w.Tags {
			if strings.ContainsAny(t, ",;|") {
				return model.FieldErrors(map[string]string{"tags": "contacts.error.tag_separator"})
			}
		}
		in.Tags = *w.Tags
	}
	if w.Channels != nil {
		in.Channels = nil
		for i, ch := range *w.Channels {
			if ch.Followers < 0 {
				return model.FieldErrors(map[string]string{"channels." + strconv.Itoa(i): "error.number"})
			}
			in.Channels = append(in.Channels, app.ChannelInput{Platform: ch.Platform, Handle: ch.Handle, URL: ch.URL,
				Followers: strconv.Itoa(ch.Followers)})
		}
	}
	return nil
}

func (s *Server) apiCreateContact(c echo.Context) error {
	var w contactWritable
	if err := decodeJSON(c, &w); err != nil {
		return err
	}
	var in app.ContactForm
	if err := w.apply(&in); err != nil {
		return err
	}
	ct, err := s.app.CreateContact(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, apiContact(ct))
}

func (s *Server) apiUpdateContact(c echo.Context) error {
	ct, err := s.adminContact(c)
	if err != nil {
		return err
	}
	var w contactWritable
	if err := decodeJSON(c, &w); err != nil {
		return err
	}
	in := app.ContactFormOf(ct)
	if err := w.apply(&in); err != nil {
		return err
	}
	ct, err = s.app.UpdateContact(c.Request().Context(), actor(c), ct.ID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiContact(ct))
}

// apiDeleteContact erases the contact (anonymises it: registrations keep counting).
func (s *Server) apiDeleteContact(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.app.EraseContact(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiImportContacts imports a CSV file sent as the request body (text/csv) or as the
// multipart field "file", with the headers recognised automatically.
func (s *Server) apiImportContacts(c echo.Context) error {
	mode := c.QueryParam("duplicates")
	switch mode {
	case "":
		mode = app.DuplicatesMerge
	case app.DuplicatesMerge, app.DuplicatesSkip:
	default:
		return &model.Error{Code: model.EBadRequest, Message: "contacts.import.error.duplicates_mode"}
	}
	var data []byte
	var err error
	if strings.HasPrefix(c.Request().Header.Get("Content-Type"), "multipart/form-data") {
		fh, ferr := c.FormFile("file")
		if ferr != nil {
			var mbe *http.MaxBytesError
			if errors.As(ferr, &mbe) {
				return &model.Error{Code: model.ETooLarge, Message: "contacts.import.error.too_large"}
			}
			return errImportFileMissing
		}
		data, err = readImportFile(fh)
	} else {
		data, err = readImportBody(c.Request().Body)
	}
	if err != nil {
		return err
	}
	f, err := app.ParseContactsCSV(data)
	if err != nil {
		return err
	}
	rep, err := s.app.ImportContacts(c.Request().Context(), actor(c), f, app.GuessMapping(f.Header), mode)
	if err != nil {
		return err
	}
	lang := langOf(c)
	return c.JSON(http.StatusOK, map[string]any{"imported": rep.Imported, "merged": rep.Merged, "skipped": rep.Skipped,
		"rejected": s.importLines(lang, rep.Rejected), "skipped_lines": s.importLines(lang, rep.SkippedLines)})
}
