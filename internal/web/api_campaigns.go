package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
)

// campaignJSON is a campaign with its progress, as the API shows it.
type campaignJSON struct {
	model.Campaign
	Recipients int64                 `json:"recipients"`
	Queued     int64                 `json:"queued"`
	Sent       int64                 `json:"sent"`
	Failed     int64                 `json:"failed"`
	Cancelled  int64                 `json:"cancelled"`
	Failures   []app.CampaignFailure `json:"failures"`
}

func (s *Server) campaignJSON(c echo.Context, camp *model.Campaign) (*campaignJSON, error) {
	p, err := s.app.CampaignProgress(c.Request().Context(), camp)
	if err != nil {
		return nil, err
	}
	return &campaignJSON{Campaign: *camp, Recipients: p.Recipients, Queued: p.Queued, Sent: p.Sent, Failed: p.Failed,
		Cancelled: p.Cancelled, Failures: p.Failures}, nil
}

// apiCampaign reads the campaign :id.
func (s *Server) apiCampaign(c echo.Context) (*model.Campaign, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	return s.app.Store.FindCampaign(c.Request().Context(), id)
}

func (s *Server) apiListCampaigns(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	camps, err := s.app.Store.ListCampaigns(c.Request().Context(), e.ID)
	if err != nil {
		return err
	}
	out := make([]*campaignJSON, 0, len(camps))
	for i := range camps {
		j, err := s.campaignJSON(c, &camps[i])
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	return c.JSON(http.StatusOK, map[string]any{"campaigns": out})
}

// campaignCreate is the body of POST /events/{id}/campaigns.
type campaignCreate struct {
	Segment        model.Segment `json:"segment"`
	Subject        string        `json:"subject"`
	Body           string        `json:"body"`
	AttachPressKit bool          `json:"attach_press_kit"`
	ScheduledAt    *jsonTime     `json:"scheduled_at"`
}

func (s *Server) apiCreateCampaign(c echo.Context) error {
	e, err := s.adminEvent(c)
	if err != nil {
		return err
	}
	var in campaignCreate
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if in.ScheduledAt != nil && in.ScheduledAt.ptr() != nil && !in.ScheduledAt.After(s.app.Now()) {
		return model.FieldErrors(map[string]string{"scheduled_at": "campaign.error.schedule_past"})
	}
	camp, err := s.app.CreateCampaign(ctx, actor(c), e.ID, app.CampaignInput{Segment: in.Segment, Subject: in.Subject,
		Body: in.Body, AttachPressKit: in.AttachPressKit})
	if err != nil {
		return err
	}
	if in.ScheduledAt != nil && in.ScheduledAt.ptr() != nil {
		if err := s.app.ScheduleCampaign(ctx, actor(c), camp.ID, in.ScheduledAt.Time); err != nil {
			return err
		}
		if camp, err = s.app.Store.FindCampaign(ctx, camp.ID); err != nil {
			return err
		}
	}
	j, err := s.campaignJSON(c, camp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, j)
}

func (s *Server) apiGetCampaign(c echo.Context) error {
	camp, err := s.apiCampaign(c)
	if err != nil {
		return err
	}
	j, err := s.campaignJSON(c, camp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

func (s *Server) apiPreviewCampaign(c echo.Context) error {
	camp, err := s.apiCampaign(c)
	if err != nil {
		return err
	}
	var in struct {
		ContactID int64 `json:"contact_id"`
	}
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil && model.ErrorMessage(err) != "error.json_empty" {
			return err
		}
	}
	p, err := s.app.PreviewCampaign(c.Request().Context(), camp, in.ContactID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"subject": p.Subject, "html": p.HTML, "text": p.Text,
		"recipient": p.RecipientJSON()})
}

// apiSendCampaign queues the campaign's messages; sending again queues nothing new and
// answers the same counts.
func (s *Server) apiSendCampaign(c echo.Context) error {
	camp, err := s.apiCampaign(c)
	if err != nil {
		return err
	}
	if _, err := s.app.SendCampaign(c.Request().Context(), actor(c), camp.ID); err != nil {
		return err
	}
	if camp, err = s.app.Store.FindCampaign(c.Request().Context(), camp.ID); err != nil {
		return err
	}
	j, err := s.campaignJSON(c, camp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}
