package web

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
)

// importPreviewRows is how many lines of the file the mapping preview shows.
const importPreviewRows = 5

var errImportFileMissing = &model.Error{Code: model.EInvalid, Message: "error.file_missing"}

// readImportFile reads an uploaded file, refusing it beyond app.MaxImportBytes.
func readImportFile(fh *multipart.FileHeader) ([]byte, error) {
	if fh.Size > app.MaxImportBytes {
		return nil, &model.Error{Code: model.ETooLarge, Message: "contacts.import.error.too_large"}
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readImportBody(f)
}

// readImportBody reads at most app.MaxImportBytes, and says so when there was more.
func readImportBody(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, app.MaxImportBytes+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || len(data) > app.MaxImportBytes {
		return nil, &model.Error{Code: model.ETooLarge, Message: "contacts.import.error.too_large"}
	}
	return data, err
}

func (s *Server) importFormPage(c echo.Context, errMsg string) *Page {
	p := s.page(c, "contacts.import.title")
	p.Nav = "contacts"
	p.Data["MaxMB"] = app.MaxImportBytes >> 20
	if errMsg != "" {
		p.Data["FileError"] = p.T(errMsg, "MB", app.MaxImportBytes>>20)
		p.Form.Error = p.T("error.invalid_form")
	}
	return p
}

func (s *Server) handleContactImportForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "contacts_import", s.importFormPage(c, ""))
}

// handleContactImportUpload checks the file and keeps it, then shows its preview. A
// file that cannot be imported at all is refused here, before anything changes.
func (s *Server) handleContactImportUpload(c echo.Context) error {
	fail := func(err error) error {
		var me *model.Error
		if errors.As(err, &me) && (me.Code == model.EInvalid || me.Code == model.ETooLarge) {
			status := http.StatusUnprocessableEntity
			if me.Code == model.ETooLarge {
				status = http.StatusRequestEntityTooLarge
			}
			return s.render(c, status, "contacts_import", s.importFormPage(c, me.Message))
		}
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(&model.Error{Code: model.ETooLarge, Message: "contacts.import.error.too_large"})
		}
		return fail(errImportFileMissing)
	}
	data, err := readImportFile(fh)
	if err != nil {
		return fail(err)
	}
	key, _, err := s.app.KeepContactImport(c.Request().Context(), currentUser(c).ID, fh.Filename, data)
	if err != nil {
		return fail(err)
	}
	return s.redirect(c, "/admin/contacts/import/"+key)
}

// fieldOption is a choice of the mapping selects.
type fieldOption struct{ Value, Label string }

// importColumn is a column of the file on the preview page.
type importColumn struct {
	Index  int
	Header string
	Field  string
}

func (s *Server) importPreviewPage(c echo.Context, key string, f *app.CSVFile, filename string, mapping []string, mode string) *Page {
	p := s.page(c, "contacts.import.preview_title")
	p.Nav = "contacts"
	p.Data["Key"] = key
	p.Data["Filename"] = filename
	p.Data["File"] = f
	p.Data["Separator"] = map[rune]string{';': ";", ',': ",", '\t': "tab"}[f.Separator]
	cols := make([]importColumn, len(f.Header))
	for i, h := range f.Header {
		cols[i] = importColumn{Index: i, Header: h, Field: mapping[i]}
	}
	p.Data["Columns"] = cols
	options := []fieldOption{{Value: "", Label: p.T(importFieldLabel(""))}}
	for _, f := range app.ImportFields() {
		options = append(options, fieldOption{Value: f, Label: p.T(importFieldLabel(f))})
	}
	p.Data["Options"] = options
	var sample [][]string
	for _, r := range f.Rows[:min(len(f.Rows), importPreviewRows)] {
		cells := make([]string, len(f.Header))
		copy(cells, r.Cells)
		sample = append(sample, cells)
	}
	p.Data["Sample"] = sample
	p.Data["RowCount"] = len(f.Rows)
	p.Form.Values["duplicates"] = mode
	return p
}

func (s *Server) handleContactImportPreview(c echo.Context) error {
	key := c.Param("key")
	f, filename, err := s.app.ContactImportFile(c.Request().Context(), key, currentUser(c).ID)
	if err != nil {
		return s.importGone(c, err)
	}
	p := s.importPreviewPage(c, key, f, filename, app.GuessMapping(f.Header), app.DuplicatesMerge)
	return s.render(c, http.StatusOK, "contacts_import_preview", p)
}

// importGone sends back to the upload form when the kept file is gone (imported
// already, or expired).
func (s *Server) importGone(c echo.Context, err error) error {
	if model.ErrorCode(err) != model.ENotFound {
		return err
	}
	s.flash(c, "error", "contacts.import.error.expired")
	return s.redirect(c, "/admin/contacts/import")
}

// handleContactImportRun imports the kept file with the mapping the organizer confirmed.
func (s *Server) handleContactImportRun(c echo.Context) error {
	ctx := c.Request().Context()
	key, user := c.Param("key"), currentUser(c)
	f, filename, err := s.app.ContactImportFile(ctx, key, user.ID)
	if err != nil {
		return s.importGone(c, err)
	}
	mapping := make([]string, len(f.Header))
	for i := range mapping {
		mapping[i] = c.FormValue("map_" + strconv.Itoa(i))
	}
	mode := c.FormValue("duplicates")
	if mode != app.DuplicatesSkip {
		mode = app.DuplicatesMerge
	}
	rep, err := s.app.ImportKeptContacts(ctx, actor(c), key, user.ID, mapping, mode)
	if err != nil {
		var me *model.Error
		if errors.As(err, &me) && me.Code == model.EInvalid {
			p := s.importPreviewPage(c, key, f, filename, mapping, mode)
			p.Form.Error = p.T(me.Message)
			return s.render(c, http.StatusUnprocessableEntity, "contacts_import_preview", p)
		}
		return s.importGone(c, err)
	}
	p := s.page(c, "contacts.import.report_title")
	p.Nav = "contacts"
	p.Data["Report"] = rep
	p.Data["Filename"] = filename
	p.Data["Rejected"] = s.importLines(langOf(c), rep.Rejected)
	p.Data["SkippedLines"] = s.importLines(langOf(c), rep.SkippedLines)
	return s.render(c, http.StatusOK, "contacts_import_report", p)
}

// importLine is a line of the import report with its reason in words.
type importLine struct {
	app.ImportLine
	Message string `json:"message"`
}

func (s *Server) importLines(lang string, ls []app.ImportLine) []importLine {
	out := make([]importLine, len(ls))
	for i, l := range ls {
		out[i] = importLine{ImportLine: l, Message: s.importReason(lang, l)}
	}
	return out
}

// importReason says why a line was not imported, in lang.
func (s *Server) importReason(lang string, l app.ImportLine) string {
	field := ""
	if l.Field != "" {
		field = s.i18n.T(lang, importFieldLabel(l.Field))
	}
	return s.i18n.T(lang, "contacts.import.reason."+l.Reason, "Field", field, "Line", l.FirstLine)
}

// importFieldLabel is the message id naming a mapping choice.
func importFieldLabel(f string) string {
	if p, ok := strings.CutPrefix(f, "channel."); ok {
		return "platform." + p
	}
	if f == "" {
		return "contacts.import.field.ignore"
	}
	return "contacts.import.field." + f
}
