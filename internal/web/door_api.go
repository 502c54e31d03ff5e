package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/ticket"
)

// The check-in API, used by the door page (by door link, or staff session) and by
// scripts (API token). Every route is for the event of the path.

// maxPhotoBytes is the largest photo the door may send for decoding.
const maxPhotoBytes = 10 << 20

// doorRegistrationJSON is a registration in a check-in answer.
type doorRegistrationJSON struct {
	ID          int64      `json:"id"`
	FirstName   string     `json:"first_name"`
	LastName    string     `json:"last_name"`
	Outlet      string     `json:"outlet"`
	Status      string     `json:"status"`
	Reference   string     `json:"reference"`
	CheckedInAt *time.Time `json:"checked_in_at"`
}

// rosterEntryJSON is a registration the door keeps for offline checks and search.
type rosterEntryJSON struct {
	ID          int64      `json:"id"`
	Code        string     `json:"code"`
	Reference   string     `json:"reference"`
	FirstName   string     `json:"first_name"`
	LastName    string     `json:"last_name"`
	Outlet      string     `json:"outlet"`
	Platform    string     `json:"platform"`
	Status      string     `json:"status"`
	CheckedInAt *time.Time `json:"checked_in_at"`
}

type checkInResultJSON struct {
	Result       string                `json:"result"`
	Registration *doorRegistrationJSON `json:"registration"`
	CheckedInAt  *time.Time            `json:"checked_in_at"`
	By           *string               `json:"by"`
	Conflict     bool                  `json:"conflict"`
}

func doorRegistration(e *store.RosterEntry) *doorRegistrationJSON {
	if e == nil {
		return nil
	}
	return &doorRegistrationJSON{ID: e.ID, FirstName: e.FirstName, LastName: e.LastName, Outlet: e.Outlet,
		Status: string(e.Status), Reference: ticket.FormatReference(e.Reference), CheckedInAt: e.CheckedInAt}
}

func rosterEntries(es []store.RosterEntry) []rosterEntryJSON {
	out := make([]rosterEntryJSON, len(es))
	for i, e := range es {
		out[i] = rosterEntryJSON{ID: e.ID, Code: e.TicketCode, Reference: ticket.FormatReference(e.Reference),
			FirstName: e.FirstName, LastName: e.LastName, Outlet: e.Outlet, Platform: e.Platform,
			Status: string(e.Status), CheckedInAt: e.CheckedInAt}
	}
	return out
}

func checkInResult(r *app.ScanResult) checkInResultJSON {
	out := checkInResultJSON{Result: r.Result, Registration: doorRegistration(r.Registration),
		CheckedInAt: r.CheckedInAt, Conflict: r.Conflict}
	if r.By != "" {
		by := r.By
		out.By = &by
	}
	return out
}

// checkInRequest is one scan as the door sends it.
type checkInRequest struct {
	Code           string    `json:"code"`
	Reference      string    `json:"reference"`
	RegistrationID int64     `json:"registration_id"`
	Nonce          string    `json:"nonce"`
	Device         string    `json:"device"`
	ScannedAt      *jsonTime `json:"scanned_at"`
}

func (r *checkInRequest) input() app.ScanInput {
	in := app.ScanInput{Code: r.Code, Reference: r.Reference, RegistrationID: r.RegistrationID, Nonce: r.Nonce, Device: r.Device}
	if r.ScannedAt != nil {
		in.ScannedAt = r.ScannedAt.ptr()
	}
	return in
}

// doorEvent returns the event of the path (requireDoor has checked the caller's right),
// as read at most a second ago.
func (s *Server) doorEvent(c echo.Context) (*model.Event, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.app.DoorEvent(c.Request().Context(), id)
}

func (s *Server) apiCheckIn(c echo.Context) error {
	ev, err := s.doorEvent(c)
	if err != nil {
		return err
	}
	var req checkInRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.app.CheckIn(c.Request().Context(), doorOf(c), ev.ID, req.input())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, checkInResult(res))
}

func (s *Server) apiCheckInBatch(c echo.Context) error {
	ev, err := s.doorEvent(c)
	if err != nil {
		return err
	}
	var req struct {
		CheckIns []checkInRequest `json:"checkins"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ins := make([]app.ScanInput, len(req.CheckIns))
	for i := range req.CheckIns {
		ins[i] = req.CheckIns[i].input()
	}
	results, err := s.app.SyncCheckIns(c.Request().Context(), doorOf(c), ev.ID, ins)
	if err != nil {
		return err
	}
	out := make([]checkInResultJSON, len(results))
	for i, r := range results {
		out[i] = checkInResult(r)
	}
	return c.JSON(http.StatusOK, map[string]any{"results": out})
}

func (s *Server) apiUndoCheckIn(c echo.Context) error {
	ev, err := s.doorEvent(c)
	if err != nil {
		return err
	}
	regID, err := paramID(c, "registration_id")
	if err != nil {
		return err
	}
	e, err := s.app.UndoCheckIn(c.Request().Context(), doorOf(c), ev.ID, regID, c.QueryParam("nonce"), c.QueryParam("device"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, doorRegistration(e))
}

func (s *Server) apiRoster(c echo.Context) error {
	ev, err := s.doorEvent(c)
	if err != nil {
		return err
	}
	var since *time.Time
	if v := c.QueryParam("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return model.FieldErrors(map[string]string{"since": "error.datetime"})
		}
		since = &t
	}
	serverTime, entries, err := s.app.Roster(c.Request().Context(), ev.ID, since)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"server_time": serverTime.UTC().Format(time.RFC3339Nano),
		"full": since == nil, "registrations": rosterEntries(entries)})
}

func (s *Server) apiCheckInStats(c echo.Context) error {
	ev, err := s.doorEvent(c)
	if err != nil {
		return err
	}
	st, err := s.app.CheckInStats(c.Request().Context(), doorOf(c), ev, c.QueryParam("device"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"admitted": st.Admitted, "expected": st.Expected,
		"capacity": st.Capacity, "this_door": st.ThisDoor, "doors": st.Doors})
}

func (s *Server) apiDoorSearch(c echo.Context) error {
	ev, err := s.doorEvent(c)
	if err != nil {
		return err
	}
	entries, err := s.app.SearchRoster(c.Request().Context(), doorOf(c), ev.ID, c.QueryParam("q"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"results": rosterEntries(entries)})
}

type walkInRequest struct {
	FirstName        string `json:"first_name"`
	LastName         string `json:"last_name"`
	Email            string `json:"email"`
	Phone            string `json:"phone"`
	Outlet           string `json:"outlet"`
	Nonce            string `json:"nonce"`
	Device           string `json:"device"`
	OverrideCapacity bool   `json:"override_capacity"`
}

func (s *Server) apiWalkIn(c echo.Context) error {
	ev, err := s.doorEvent(c)
	if err != nil {
		return err
	}
	var req walkInRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := app.WalkInInput{ContactInput: app.ContactInput{FirstName: req.FirstName, LastName: req.LastName,
		Email: req.Email, Phone: req.Phone, Outlet: req.Outlet}, Nonce: req.Nonce, Device: req.Device,
		OverrideCapacity: req.OverrideCapacity}
	res, err := s.app.WalkIn(c.Request().Context(), doorOf(c), ev.ID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, checkInResult(res))
}

// apiDecodePhoto reads the QR code of a photo, for browsers that cannot scan live.
func (s *Server) apiDecodePhoto(c echo.Context) error {
	if _, err := s.doorEvent(c); err != nil {
		return err
	}
	fh, err := c.FormFile("photo")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || strings.Contains(err.Error(), "request body too large") {
			return &model.Error{Code: model.ETooLarge, Message: "checkin.photo_too_large"}
		}
		return model.FieldErrors(map[string]string{"photo": "error.required"})
	}
	if fh.Size > maxPhotoBytes {
		return &model.Error{Code: model.ETooLarge, Message: "checkin.photo_too_large"}
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	text, err := ticket.DecodeQR(f)
	switch {
	case errors.Is(err, ticket.ErrNoQRCode):
		return &model.Error{Code: model.EInvalid, Message: "checkin.no_qr", Fields: map[string]string{"photo": "checkin.no_qr"}, Err: err}
	case errors.Is(err, ticket.ErrBadImage):
		return &model.Error{Code: model.EInvalid, Message: "checkin.bad_image", Fields: map[string]string{"photo": "checkin.bad_image"}, Err: err}
	case err != nil:
		return err
	}
	if code, ok := ticket.ParseCode(text); ok {
		text = code
	}
	return c.JSON(http.StatusOK, map[string]string{"code": text})
}
