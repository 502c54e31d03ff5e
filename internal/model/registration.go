package model

import "time"

// RegistrationStatus is where a registration stands.
type RegistrationStatus string

const (
	RegConfirmed  RegistrationStatus = "confirmed"
	RegWaitlisted RegistrationStatus = "waitlisted"
	RegPending    RegistrationStatus = "pending"
	RegCancelled  RegistrationStatus = "cancelled"
	RegRejected   RegistrationStatus = "rejected"
)

// RegistrationSource says how a registration came in.
type RegistrationSource string

const (
	SourceOnline     RegistrationSource = "online"
	SourceInvitation RegistrationSource = "invitation"
	SourceWalkIn     RegistrationSource = "walk_in"
	SourceStaff      RegistrationSource = "staff"
)

// Registration is one person's place (or wish of a place) at an event.
type Registration struct {
	ID              int64              `json:"id"`
	EventID         int64              `json:"event_id"`
	ContactID       int64              `json:"contact_id"`
	InvitationID    *int64             `json:"invitation_id"`
	Status          RegistrationStatus `json:"status"`
	Source          RegistrationSource `json:"source"`
	Lang            string             `json:"language"`
	Answers         string             `json:"-"` // JSON object: question id → answer
	TicketCode      string             `json:"-"`
	Reference       string             `json:"-"`
	ManageToken     string             `json:"-"`
	WaitlistedAt    *time.Time         `json:"waitlisted_at"`
	ConfirmedAt     *time.Time         `json:"confirmed_at"`
	CancelledAt     *time.Time         `json:"cancelled_at"`
	RejectReason    string             `json:"reject_reason,omitempty"`
	CheckedInAt     *time.Time         `json:"checked_in_at"`
	CheckedInBy     string             `json:"checked_in_by,omitempty"`
	CheckedInDevice string             `json:"checked_in_device,omitempty"`
	CreatedAt       time.Time          `json:"created_at"`
	UpdatedAt       time.Time          `json:"updated_at"`
}

// Active reports whether the registration holds or waits for a seat.
func (r *Registration) Active() bool {
	return r.Status == RegConfirmed || r.Status == RegWaitlisted || r.Status == RegPending
}

// QuestionKind is the type of a custom registration question.
type QuestionKind string

const (
	QText        QuestionKind = "text"
	QLongText    QuestionKind = "long_text"
	QChoice      QuestionKind = "choice"
	QMultiChoice QuestionKind = "multi_choice"
	QYesNo       QuestionKind = "yes_no"
	QURL         QuestionKind = "url"
	QNumber      QuestionKind = "number"
	QPhone       QuestionKind = "phone"
)

// QuestionKinds lists every kind, in the order offered to organizers.
var QuestionKinds = []QuestionKind{QText, QLongText, QChoice, QMultiChoice, QYesNo, QURL, QNumber, QPhone}

// Question is a custom field of an event's registration form.
type Question struct {
	ID       int64        `json:"id"`
	EventID  int64        `json:"event_id"`
	Position int          `json:"position"`
	Label    string       `json:"label"`
	Help     string       `json:"help"`
	Kind     QuestionKind `json:"kind"`
	Required bool         `json:"required"`
	Options  string       `json:"options"` // one choice per line
}

// Invitation asks one contact to one event.
type Invitation struct {
	ID            int64      `json:"id"`
	EventID       int64      `json:"event_id"`
	ContactID     int64      `json:"contact_id"`
	Token         string     `json:"-"`
	Note          string     `json:"note"`
	Status        string     `json:"status"` // pending, sent, accepted, declined, bounced, revoked
	SkipApproval  bool       `json:"skip_approval"`
	SentAt        *time.Time `json:"sent_at"`
	RemindedAt    *time.Time `json:"reminded_at"`
	RespondedAt   *time.Time `json:"responded_at"`
	DeclineReason string     `json:"decline_reason,omitempty"`
	CreatedBy     *int64     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// CheckIn is one line of the append-only admission log.
type CheckIn struct {
	ID             int64     `json:"id"`
	EventID        int64     `json:"event_id"`
	RegistrationID *int64    `json:"registration_id"`
	Action         string    `json:"action"` // in, undo
	Result         string    `json:"result"`
	ScannedAt      time.Time `json:"scanned_at"`
	Device         string    `json:"device"`
	ActorUserID    *int64    `json:"actor_user_id"`
	DoorLinkID     *int64    `json:"door_link_id"`
	ActorName      string    `json:"actor_name"`
	Nonce          string    `json:"nonce"`
	Code           string    `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
	// What the scan was answered, so that a retry with the same nonce gets it again.
	Answer   string     `json:"answer"`
	AnswerAt *time.Time `json:"answer_at"`
	AnswerBy string     `json:"answer_by"`
}

// DoorLink lets a phone check people in for one event without a staff account.
type DoorLink struct {
	ID           int64      `json:"id"`
	EventID      int64      `json:"event_id"`
	Name         string     `json:"name"`
	Token        string     `json:"-"`
	ExpiresAt    time.Time  `json:"expires_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	AllowSearch  bool       `json:"allow_search"`
	AllowWalkIns bool       `json:"allow_walk_ins"`
	CreatedBy    *int64     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
}

// Usable reports whether the link still grants access at now.
func (d *DoorLink) Usable(now time.Time) bool { return d.RevokedAt == nil && now.Before(d.ExpiresAt) }
