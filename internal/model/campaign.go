package model

import (
	"strings"
	"time"
)

// Segment is the part of an event's audience a follow-up campaign goes to.
type Segment string

const (
	SegAttended       Segment = "attended"         // confirmed and checked in
	SegNoShow         Segment = "no_show"          // confirmed, never checked in
	SegRegistered     Segment = "registered"       // every confirmed registration
	SegWaitlisted     Segment = "waitlisted"       // still on the waiting list
	SegInvitedNoReply Segment = "invited_no_reply" // invited, no answer, not registered
	SegDeclined       Segment = "declined"         // declined the invitation, not registered
)

// Segments lists every segment in the order organizers are offered them.
var Segments = []Segment{SegAttended, SegNoShow, SegRegistered, SegWaitlisted, SegInvitedNoReply, SegDeclined}

// Valid reports whether s is a known segment.
func (s Segment) Valid() bool {
	for _, v := range Segments {
		if s == v {
			return true
		}
	}
	return false
}

// CampaignStatus is where a campaign stands. A campaign goes draft → (scheduled →)
// sending → sent; "sending" lasts while its messages are being queued in the outbox,
// their delivery is the outbox's business.
type CampaignStatus string

const (
	CampaignDraft     CampaignStatus = "draft"
	CampaignScheduled CampaignStatus = "scheduled"
	CampaignSending   CampaignStatus = "sending"
	CampaignSent      CampaignStatus = "sent"
)

// Editable reports whether the campaign may still be changed (nothing was queued yet).
func (s CampaignStatus) Editable() bool { return s == CampaignDraft || s == CampaignScheduled }

// Why the scheduler refused a campaign at its time (Campaign.LastError): message keys.
const (
	// CampaignFailurePressKit: the press kit grew past the attachment limit.
	CampaignFailurePressKit = "campaign.error.press_kit_too_large"
	// CampaignFailureInvalid: the campaign no longer passes its checks otherwise.
	CampaignFailureInvalid = "campaigns.failure.invalid"
	// CampaignFailureEventCancelled, CampaignFailureEventArchived: the session was
	// cancelled or archived after the campaign was scheduled.
	CampaignFailureEventCancelled = "campaigns.failure.event_cancelled"
	CampaignFailureEventArchived  = "campaigns.failure.event_archived"
)

// Limits of a campaign's text.
const (
	MaxCampaignSubject = 200
	MaxCampaignBody    = 20000
)

// Campaign is a follow-up email to one segment of an event's audience. How many
// messages were queued, sent or failed is read from the outbox (messages.campaign_id).
type Campaign struct {
	ID             int64          `json:"id"`
	EventID        int64          `json:"event_id"`
	Segment        Segment        `json:"segment"`
	Subject        string         `json:"subject"`
	Body           string         `json:"body"` // Markdown with {placeholders}
	AttachPressKit bool           `json:"attach_press_kit"`
	Status         CampaignStatus `json:"status"`
	ScheduledAt    *time.Time     `json:"scheduled_at"`
	// ClaimedUntil is the lease of the process queuing the messages: past it, another
	// instance may resume a campaign left "sending" by a crash.
	ClaimedUntil *time.Time `json:"-"`
	CreatedBy    *int64     `json:"created_by"`
	SentAt       *time.Time `json:"sent_at"` // when every message was queued
	// LastError is why the scheduler did not send the campaign at its time (a message
	// key, translated on its page: CampaignFailure*), "" when nothing went wrong;
	// LastErrorAt is when. Both are cleared when it is scheduled or sent again.
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Validate checks the fields an organizer writes; placeholders are checked by the app.
func (c *Campaign) Validate() *Error {
	f := map[string]string{}
	if !c.Segment.Valid() {
		f["segment"] = "error.choice"
	}
	if strings.TrimSpace(c.Subject) == "" {
		f["subject"] = "error.required"
	} else if tooLong(c.Subject, MaxCampaignSubject) {
		f["subject"] = "error.too_long"
	}
	if strings.TrimSpace(c.Body) == "" {
		f["body"] = "error.required"
	} else if tooLong(c.Body, MaxCampaignBody) {
		f["body"] = "error.too_long"
	}
	if len(f) > 0 {
		return FieldErrors(f)
	}
	return nil
}
