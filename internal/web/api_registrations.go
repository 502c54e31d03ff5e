package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
)

// apiRegistration is a registration as staff see it through the API: with its ticket
// code and reference (which model.Registration keeps out of JSON) and its contact's name.
type apiRegistration struct {
	ID              int64                    `json:"id"`
	EventID         int64                    `json:"event_id"`
	ContactID       int64                    `json:"contact_id"`
	InvitationID    *int64                   `json:"invitation_id"`
	Status          model.RegistrationStatus `json:"status"`
	Source          model.RegistrationSource `json:"source"`
	Language        string                   `json:"language"`
	Reference       string                   `json:"reference"`
	TicketCode      string                   `json:"ticket_code"`
	FirstName       string                   `json:"first_name"`
	LastName        string                   `json:"last_name"`
	Email           string                   `json:"email"`
	Phone           string                   `json:"phone"`
	Outlet          string                   `json:"outlet"`
	City            string                   `json:"city"`
	Answers         json.RawMessage          `json:"answers"`
	WaitlistedAt    *time.Time               `json:"waitlisted_at"`
	ConfirmedAt     *time.Time               `json:"confirmed_at"`
	CancelledAt     *time.Time               `json:"cancelled_at"`
	RejectReason    string                   `json:"reject_reason,omitempty"`
	CheckedInAt     *time.Time               `json:"checked_in_at"`
	CheckedInBy     string                   `json:"checked_in_by,omitempty"`
	CheckedInDevice string                   `json:"checked_in_device,omitempty"`
	CreatedAt       time.Time                `json:"created_at"`
	UpdatedAt       time.Time                `json:"updated_at"`
}

func newAPIRegistration(r *model.Registration, c *model.Contact) apiRegistration {
	answers := json.RawMessage(r.Answers)
	if len(answers) == 0 || !json.Valid(answers) {
		answers = json.RawMessage("{}")
	}
	return apiRegistration{ID: r.ID, EventID: r.EventID, ContactID: r.ContactID, InvitationID: r.InvitationID,
		Status: r.Status, Source: r.Source, Language: r.Lang, Reference: r.Reference, TicketCode: r.TicketCode,
		FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone, Outlet: c.Outlet, City: c.City,
		Answers: answers, WaitlistedAt: r.WaitlistedAt, ConfirmedAt: r.ConfirmedAt, CancelledAt: r.CancelledAt,
		RejectReason: r.RejectReason, CheckedInAt: r.CheckedInAt, CheckedInBy: r.CheckedInBy,
		CheckedInDevice: r.CheckedInDevice, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func (s *Server) apiRegistrationJSON(c echo.Context, status int, r *model.Registration) error {
	contact, err := s.app.Store.FindContact(c.Request().Context(), r.ContactID)
	if err != nil {
		return err
	}
	return c.JSON(status, newAPIRegistration(r, contact))
}

// apiListRegistrations pages through an event's registrations, optionally of one status.
func (s *Server) apiListRegistrations(c echo.Context) error {
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	st := c.QueryParam("status")
	if st != "" && !validRegistrationStatus(st) {
		return model.FieldErrors(map[string]string{"status": "error.choice"})
	}
	page, perPage := pageParams(c)
	f := store.RegistrationFilter{EventID: ev.ID, Status: model.RegistrationStatus(st), Query: c.QueryParam("q"),
		Limit: perPage, Offset: (page - 1) * perPage}
	rows, total, err := s.app.Store.ListRegistrations(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]apiRegistration, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = newAPIRegistration(&r.Registration, &model.Contact{FirstName: r.FirstName, LastName: r.LastName,
			Email: r.Email, Phone: r.Phone, Outlet: r.Outlet, City: r.City})
	}
	return c.JSON(http.StatusOK, map[string]any{"registrations": out, "page": page, "per_page": perPage, "total": total})
}

// apiRegistrationInput is the body of POST /events/{id}/registrations.
type apiRegistrationInput struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Outlet    string `json:"outlet"`
	BlogURL   string `json:"blog_url"`
	City      string `json:"city"`
	Audience  any    `json:"audience"`
	Channels  []struct {
		Platform string `json:"platform"`
		Handle   string `json:"handle"`
	} `json:"channels"`
	Answers          map[string]any `json:"answers"`
	OverrideCapacity bool           `json:"override_capacity"`
	Language         string         `json:"language"`
	Source           string         `json:"source"`
}

// registrationInput turns the JSON body into the input of app.AddRegistration; answers
// that are neither text, a number, a yes/no nor a list of them are field errors.
func (in *apiRegistrationInput) registrationInput(questions []model.Question) (app.RegistrationInput, map[string]string) {
	fields := map[string]string{}
	out := app.RegistrationInput{ContactInput: app.ContactInput{FirstName: in.FirstName, LastName: in.LastName,
		Email: in.Email, Phone: in.Phone, Outlet: in.Outlet, BlogURL: in.BlogURL, City: in.City},
		Answers: map[int64][]string{}, Lang: in.Language, OverrideCapacity: in.OverrideCapacity,
		Source: model.SourceStaff}
	switch a := in.Audience.(type) {
	case nil:
	case float64:
		out.Audience = strconv.FormatFloat(a, 'f', -1, 64)
	case string:
		out.Audience = a
	default:
		fields["audience"] = "error.number"
	}
	switch in.Source {
	case "", string(model.SourceStaff):
	case string(model.SourceWalkIn):
		out.Source = model.SourceWalkIn
	default:
		fields["source"] = "error.choice"
	}
	if in.Language != "" && in.Language != "fr" && in.Language != "en" {
		fields["language"] = "error.choice"
	}
	for _, ch := range in.Channels {
		out.Channels = append(out.Channels, model.ContactChannel{Platform: ch.Platform, Handle: ch.Handle})
	}
	known := map[int64]bool{}
	for _, q := range questions {
		known[q.ID] = true
	}
	for k, v := range in.Answers {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil || !known[id] {
			fields["answers"] = "error.question_unknown"
			continue
		}
		vals, ok := answerValues(v)
		if !ok {
			fields["q"+k] = "error.choice"
			continue
		}
		out.Answers[id] = vals
	}
	return out, fields
}

// answerValues reads one answer: a string, a number, a boolean (yes/no) or a list.
func answerValues(v any) ([]string, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case string:
		return []string{x}, true
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}, true
	case bool:
		if x {
			return []string{"yes"}, true
		}
		return []string{"no"}, true
	case []any:
		out := make([]string, 0, len(x))
		for _, y := range x {
			s, ok := y.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// apiCreateRegistration registers someone on behalf of an organizer: the same capacity
// and waitlist rules as the form unless override_capacity is true.
func (s *Server) apiCreateRegistration(c echo.Context) error {
	ctx := c.Request().Context()
	ev, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	var body apiRegistrationInput
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	questions, err := s.app.Store.ListQuestions(ctx, ev.ID)
	if err != nil {
		return err
	}
	in, fields := body.registrationInput(questions)
	if in.Lang == "" {
		in.Lang = ev.Lang // as the organizer's form does: the session's language
	}
	if len(fields) > 0 {
		return model.FieldErrors(fields)
	}
	res, err := s.app.AddRegistration(ctx, actor(c), ev.ID, in)
	if err != nil {
		return err
	}
	if res.Duplicate {
		return model.Errorf(model.EConflict, "registrations.already_registered")
	}
	return s.apiRegistrationJSON(c, http.StatusCreated, res.Registration)
}

func (s *Server) apiRegistration(c echo.Context) (*model.Registration, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.app.Store.FindRegistration(c.Request().Context(), id)
}

func (s *Server) apiGetRegistration(c echo.Context) error {
	r, err := s.apiRegistration(c)
	if err != nil {
		return err
	}
	return s.apiRegistrationJSON(c, http.StatusOK, r)
}

// apiRegistrationPatch is the body of PATCH /registrations/{id}: a status change.
type apiRegistrationPatch struct {
	Status           model.RegistrationStatus `json:"status"`
	Reason           string                   `json:"reason"`
	OverrideCapacity bool                     `json:"override_capacity"`
}

// apiUpdateRegistration changes a registration's status through the same rules as the
// pages: cancelling frees the seat for the first person waiting, confirming respects
// the capacity unless override_capacity is true.
func (s *Server) apiUpdateRegistration(c echo.Context) error {
	ctx := c.Request().Context()
	r, err := s.apiRegistration(c)
	if err != nil {
		return err
	}
	var body apiRegistrationPatch
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	switch body.Status {
	case model.RegCancelled:
		r, err = s.app.CancelRegistration(ctx, actor(c), r.ID)
	case model.RegConfirmed:
		r, err = s.app.ApproveRegistration(ctx, actor(c), r.ID, body.OverrideCapacity)
	case model.RegRejected:
		r, err = s.app.RejectRegistration(ctx, actor(c), r.ID, body.Reason)
	default:
		return model.FieldErrors(map[string]string{"status": "error.choice"})
	}
	if err != nil {
		return err
	}
	return s.apiRegistrationJSON(c, http.StatusOK, r)
}
