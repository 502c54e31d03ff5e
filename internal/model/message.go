package model

import "time"

// MessageStatus is the state of an outbox message.
type MessageStatus string

const (
	MessageQueued    MessageStatus = "queued"
	MessageSending   MessageStatus = "sending"
	MessageSent      MessageStatus = "sent"
	MessageFailed    MessageStatus = "failed"
	MessageCancelled MessageStatus = "cancelled"
)

// Message is one email in the outbox. It is written in the same transaction as the
// change that causes it, and sent later by the worker.
type Message struct {
	ID             int64         `json:"id"`
	Kind           string        `json:"kind"`
	IdempotencyKey string        `json:"idempotency_key"`
	ToEmail        string        `json:"to_email"`
	ToName         string        `json:"to_name"`
	FromEmail      string        `json:"from_email"`
	FromName       string        `json:"from_name"`
	ReplyTo        string        `json:"reply_to"`
	Subject        string        `json:"subject"`
	HTMLBody       string        `json:"-" gorm:"-"` // in message_bodies: see store.LoadMessageContent
	TextBody       string        `json:"-" gorm:"-"`
	Headers        string        `json:"-"` // extra headers, "Name: value" lines
	Lang           string        `json:"lang"`
	Status         MessageStatus `json:"status"`
	Attempts       int           `json:"attempts"`
	NextAttemptAt  time.Time     `json:"next_attempt_at"`
	ClaimedUntil   *time.Time    `json:"-"`
	LastError      string        `json:"last_error"`
	SentAt         *time.Time    `json:"sent_at"`
	EventID        *int64        `json:"event_id"`
	ContactID      *int64        `json:"contact_id"`
	CampaignID     *int64        `json:"campaign_id"`
	CreatedAt      time.Time     `json:"created_at"`
	Attachments    []Attachment  `json:"attachments,omitempty"`

	// BodyTemplate, when set, holds the bodies (HTMLBody and TextBody are then empty
	// until read), with BodyValues in its slots; see BodyTemplate. Stored in
	// message_bodies, like the bodies.
	BodyTemplate *BodyTemplate `json:"-" gorm:"-"`
	BodyValues   []string      `json:"-" gorm:"-"`
}

// Attachment is a file sent with a message; Inline ones are referenced by cid:ContentID.
type Attachment struct {
	ID          int64  `json:"id"`
	MessageID   int64  `json:"message_id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	ContentID   string `json:"content_id"`
	Inline      bool   `json:"inline"`
	Data        []byte `json:"-"`
}
