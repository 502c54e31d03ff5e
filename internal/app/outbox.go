package app

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"relais/internal/config"
	"relais/internal/model"
	"relais/internal/store"
)

// Email is one message to queue: what the template needs and where it goes.
type Email struct {
	Kind        string
	Lang        string
	ToEmail     string
	ToName      string
	Key         string // idempotency key: the same key is never queued twice
	Data        map[string]any
	Headers     map[string]string
	Attachments []model.Attachment
	EventID     *int64
	ContactID   *int64
	CampaignID  *int64
}

// queueEmail renders an email and writes it to the outbox through st (which may be a
// transaction, so that the email exists if and only if the change that caused it does).
func (a *App) queueEmail(ctx context.Context, st *store.Store, em Email) (*model.Message, error) {
	m, err := a.buildMessage(ctx, em)
	if err != nil {
		return nil, err
	}
	if _, err := st.EnqueueMessage(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// buildMessage builds the outbox message of an email without storing it, so that callers
// may render before a transaction and keep the transaction short.
func (a *App) buildMessage(ctx context.Context, em Email) (*model.Message, error) {
	settings, err := a.Settings(ctx)
	if err != nil {
		return nil, err
	}
	return a.buildMessageWith(em, settings)
}

// buildMessageWith is buildMessage with the organization's settings given.
func (a *App) buildMessageWith(em Email, settings *model.Settings) (*model.Message, error) {
	data := map[string]any{"Lang": em.Lang, "Org": settings, "BaseURL": strings.TrimRight(a.Config.BaseURL, "/")}
	if settings.PressContactName != "" {
		data["PressContact"] = map[string]string{"Name": settings.PressContactName,
			"Email": settings.PressContactEmail, "Phone": settings.PressContactPhone}
	}
	for k, v := range em.Data {
		data[k] = v
	}
	subject, html, text, err := a.Mail.Render(em.Kind, em.Lang, data)
	if err != nil {
		return nil, fmt.Errorf("app: render %s email: %w", em.Kind, err)
	}
	from, _ := config.ParseAddress(a.Config.MailFrom)
	if from == nil {
		from = &mail.Address{Address: "relais@localhost"}
	}
	fromName := from.Name
	if settings.SenderName != "" {
		fromName = settings.SenderName
	}
	fromEmail := from.Address
	if settings.SenderEmail != "" {
		fromEmail = settings.SenderEmail
	}
	if fromName == "" {
		// A bare address looks like spam to people and to filters: name the organization.
		fromName = settings.Name
	}
	replyTo := settings.ReplyTo
	if replyTo == "" && model.ValidEmail(settings.PressContactEmail) {
		// Answers to an outreach email are for the press contact, not a robot's mailbox.
		replyTo = settings.PressContactEmail
	}
	var hdr strings.Builder
	for k, v := range em.Headers {
		fmt.Fprintf(&hdr, "%s: %s\n", k, v)
	}
	m := &model.Message{Kind: em.Kind, IdempotencyKey: em.Key, ToEmail: em.ToEmail, ToName: headerText(em.ToName),
		FromEmail: fromEmail, FromName: headerText(fromName), ReplyTo: replyTo, Subject: headerText(subject), HTMLBody: html,
		TextBody: text, Headers: hdr.String(), Lang: em.Lang, EventID: em.EventID, ContactID: em.ContactID,
		CampaignID: em.CampaignID, Attachments: em.Attachments}
	return m, nil
}

// headerText keeps a header value on one line. An event title, a name or a campaign
// subject with a line break (a crafted request can send one) would otherwise try to
// write headers of its own: compose refuses such a message, and every email of that
// event or person would fail.
func headerText(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// QueueTestMail queues the "test" email to an address (relais mail test --to).
func (a *App) QueueTestMail(ctx context.Context, to string) (int64, error) {
	to = strings.TrimSpace(to)
	if !model.ValidEmail(to) {
		return 0, model.FieldErrors(map[string]string{"to": "error.email"})
	}
	m, err := a.queueEmail(ctx, a.Store, Email{Kind: "test", Lang: a.Config.Lang, ToEmail: to,
		Key: "test:" + a.Token()})
	if err != nil {
		return 0, err
	}
	a.kick()
	return m.ID, nil
}
