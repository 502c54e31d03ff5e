package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"relais/internal/i18n"
	"relais/internal/model"
	"relais/internal/store"
)

// Follow-up campaigns: an organizer writes to one segment of an event's audience. Each
// recipient gets one message in the outbox with the key camp:<campaign>:<contact>, so
// that queuing again (a second click, a crash halfway, two instances) adds nothing.

const (
	// campaignBatch is how many messages are queued per transaction.
	campaignBatch = 500
	// campaignFetch is how many recipients are read at once, then queued by batches.
	campaignFetch = 2500
	// campaignLease is how long a process holds a campaign it is queuing before another
	// instance may resume it; each batch renews it.
	campaignLease = 2 * time.Minute
	// MaxPressKitAttachment bounds the press kit attached to each email (mail servers
	// commonly refuse messages over 10–25 MB).
	MaxPressKitAttachment = 10 << 20
	// campaignFailuresShown is how many failures the progress lists.
	campaignFailuresShown = 100
)

// CampaignInput is what an organizer writes.
type CampaignInput struct {
	Segment        model.Segment
	Subject        string
	Body           string
	AttachPressKit bool
}

// CampaignKey is the idempotency key prefix of a campaign's messages; the contact id follows.
func CampaignKey(campaignID int64) string { return fmt.Sprintf("camp:%d:", campaignID) }

// CreateCampaign writes a draft campaign for the event.
func (a *App) CreateCampaign(ctx context.Context, actor Actor, eventID int64, in CampaignInput) (*model.Campaign, error) {
	ev, err := a.Store.FindEventByID(ctx, eventID)
	if err != nil {
		return nil, err
	}
	c := &model.Campaign{EventID: ev.ID, Status: model.CampaignDraft, CreatedBy: actor.UserID}
	in.apply(c)
	if err := a.validateCampaign(ctx, c); err != nil {
		return nil, err
	}
	if err := a.Store.CreateCampaign(ctx, c); err != nil {
		return nil, err
	}
	a.audit(ctx, a.Store, actor, "campaign.create", "campaign", c.ID, &ev.ID, c.Subject)
	return c, nil
}

// UpdateCampaign changes a campaign that has not started sending.
func (a *App) UpdateCampaign(ctx context.Context, actor Actor, id int64, in CampaignInput) (*model.Campaign, error) {
	c, err := a.Store.FindCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Status.Editable() {
		return nil, model.Errorf(model.EConflict, "campaign.error.not_editable")
	}
	in.apply(c)
	if err := a.validateCampaign(ctx, c); err != nil {
		return nil, err
	}
	if err := a.Store.UpdateCampaign(ctx, c); err != nil {
		return nil, err
	}
	a.audit(ctx, a.Store, actor, "campaign.update", "campaign", c.ID, &c.EventID, c.Subject)
	return c, nil
}

// DeleteCampaign removes a campaign that has not started sending.
func (a *App) DeleteCampaign(ctx context.Context, actor Actor, id int64) error {
	c, err := a.Store.FindCampaign(ctx, id)
	if err != nil {
		return err
	}
	if err := a.Store.DeleteCampaign(ctx, id); err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "campaign.delete", "campaign", c.ID, &c.EventID, c.Subject)
	return nil
}

func (in CampaignInput) apply(c *model.Campaign) {
	c.Segment = model.Segment(strings.TrimSpace(string(in.Segment)))
	c.Subject = strings.TrimSpace(oneLine(in.Subject))
	c.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	c.AttachPressKit = in.AttachPressKit
}

// validateCampaign checks a campaign before it is saved and again before it is sent:
// fields, placeholders (an unknown one is refused with its name) and the press kit's size.
func (a *App) validateCampaign(ctx context.Context, c *model.Campaign) error {
	fields := map[string]string{}
	if err := c.Validate(); err != nil {
		fields = err.Fields
	}
	var unknown []string
	for _, f := range [][2]string{{"subject", c.Subject}, {"body", c.Body}} {
		if u := UnknownPlaceholders(f[1]); len(u) > 0 {
			unknown = append(unknown, u...)
			fields[f[0]] = "campaign.error.unknown_placeholder"
		}
	}
	var args map[string]any
	msg := "error.invalid_form"
	if len(unknown) > 0 {
		msg = "campaign.error.unknown_placeholder"
		args = map[string]any{"Names": strings.Join(unknown, ", "), "Known": placeholderList()}
	}
	if c.AttachPressKit {
		size, err := a.pressKitSize(ctx, c.EventID)
		if err != nil {
			return err
		}
		if size > MaxPressKitAttachment {
			fields["attach_press_kit"] = "campaign.error.press_kit_too_large"
			if args == nil {
				args = map[string]any{}
			}
			args["MB"] = MaxPressKitAttachment >> 20
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return &model.Error{Code: model.EInvalid, Message: msg, Fields: fields, Args: args}
}

// pressKitSize is the size of the event's documents together, as attached to each email.
func (a *App) pressKitSize(ctx context.Context, eventID int64) (int64, error) {
	docs, err := a.Store.ListDocuments(ctx, eventID)
	if err != nil {
		return 0, err
	}
	var size int64
	for _, d := range docs {
		size += d.Size
	}
	return size, nil
}

// campaignFailure turns a validation error of validateCampaign into the reason kept on a
// refused campaign (model.CampaignFailure*); "" when err is not a validation error (the
// database failed: worth trying again).
func campaignFailure(err error) string {
	me, ok := err.(*model.Error)
	if !ok || me.Code != model.EInvalid {
		return ""
	}
	if _, ok := me.Fields["attach_press_kit"]; ok {
		return model.CampaignFailurePressKit
	}
	if me.Message == model.CampaignFailureEventCancelled || me.Message == model.CampaignFailureEventArchived {
		return me.Message
	}
	return model.CampaignFailureInvalid
}

// closedEventRefusal is why a scheduled campaign of a cancelled or archived session
// must not go out by itself at its time: a follow-up or a reminder written for the
// session as planned. The organizer may still send it by hand; if the session is
// brought back, it goes at its time.
func (a *App) closedEventRefusal(ctx context.Context, c *model.Campaign) error {
	ev, err := a.Store.FindEventByID(ctx, c.EventID)
	if err != nil {
		return err
	}
	switch ev.Status {
	case model.EventCancelled:
		return model.Errorf(model.EInvalid, model.CampaignFailureEventCancelled)
	case model.EventArchived:
		return model.Errorf(model.EInvalid, model.CampaignFailureEventArchived)
	}
	return nil
}

// ScheduledCampaignProblem says why the scheduler would refuse a scheduled campaign if
// its time came now (model.CampaignFailure*), "" when it would send it or the campaign
// is not scheduled. Its page shows it, before the time.
func (a *App) ScheduledCampaignProblem(ctx context.Context, c *model.Campaign) (string, error) {
	if c.Status != model.CampaignScheduled {
		return "", nil
	}
	err := a.closedEventRefusal(ctx, c)
	if err == nil {
		err = a.validateCampaign(ctx, c)
	}
	if err == nil {
		return "", nil
	}
	if reason := campaignFailure(err); reason != "" {
		return reason, nil
	}
	return "", err
}

// ScheduledCampaignsOverPressKit returns the event's scheduled campaigns that attach the
// press kit while it is over MaxPressKitAttachment: unless documents are removed or the
// box unticked, the scheduler will refuse them at their time. A document upload warns
// with them (the upload itself is kept: the press kit is also a download page).
func (a *App) ScheduledCampaignsOverPressKit(ctx context.Context, eventID int64) ([]model.Campaign, error) {
	size, err := a.pressKitSize(ctx, eventID)
	if err != nil || size <= MaxPressKitAttachment {
		return nil, err
	}
	camps, err := a.Store.ListCampaigns(ctx, eventID)
	if err != nil {
		return nil, err
	}
	var out []model.Campaign
	for _, c := range camps {
		if c.Status == model.CampaignScheduled && c.AttachPressKit {
			out = append(out, c)
		}
	}
	return out, nil
}

func unknownPlaceholderError(field string, names []string) error {
	return &model.Error{Code: model.EInvalid, Message: "campaign.error.unknown_placeholder",
		Fields: map[string]string{field: "campaign.error.unknown_placeholder"},
		Args:   map[string]any{"Names": strings.Join(names, ", "), "Known": placeholderList()}}
}

func placeholderList() string {
	names := make([]string, len(CampaignPlaceholders))
	for i, p := range CampaignPlaceholders {
		names[i] = "{" + p + "}"
	}
	return strings.Join(names, ", ")
}

// ScheduleCampaign has the scheduler send a campaign at a given time (in the future).
func (a *App) ScheduleCampaign(ctx context.Context, actor Actor, id int64, at time.Time) error {
	c, err := a.Store.FindCampaign(ctx, id)
	if err != nil {
		return err
	}
	if !c.Status.Editable() {
		return model.Errorf(model.EConflict, "campaign.error.not_editable")
	}
	if err := a.validateCampaign(ctx, c); err != nil {
		return err
	}
	if at.IsZero() {
		return model.FieldErrors(map[string]string{"scheduled_at": "error.required"})
	}
	if !at.After(a.Now()) {
		return model.FieldErrors(map[string]string{"scheduled_at": "campaign.error.schedule_past"})
	}
	if err := a.Store.ScheduleCampaign(ctx, id, at); err != nil {
		return err
	}
	if c.LastError != "" { // scheduled again: the old refusal no longer applies
		if err := a.Store.ClearCampaignError(ctx, id); err != nil {
			return err
		}
	}
	a.audit(ctx, a.Store, actor, "campaign.schedule", "campaign", c.ID, &c.EventID, at.UTC().Format(time.RFC3339))
	return nil
}

// UnscheduleCampaign takes a scheduled campaign back to draft.
func (a *App) UnscheduleCampaign(ctx context.Context, actor Actor, id int64) error {
	c, err := a.Store.FindCampaign(ctx, id)
	if err != nil {
		return err
	}
	if err := a.Store.UnscheduleCampaign(ctx, id); err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "campaign.unschedule", "campaign", c.ID, &c.EventID, "")
	return nil
}

// SendCampaign queues a campaign's messages now. A campaign already sent, or being
// queued by another process, gets nothing new: the answer is its progress. A campaign
// left halfway by a crash is resumed (its lease having run out) and only the missing
// messages are queued.
func (a *App) SendCampaign(ctx context.Context, actor Actor, id int64) (*CampaignProgress, error) {
	c, err := a.Store.FindCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	var claimed bool
	switch c.Status {
	case model.CampaignDraft, model.CampaignScheduled:
		if err := a.validateCampaign(ctx, c); err != nil {
			return nil, err
		}
		claimed, err = a.Store.ClaimCampaign(ctx, c.ID, []model.CampaignStatus{model.CampaignDraft, model.CampaignScheduled},
			a.Now().Add(campaignLease))
	case model.CampaignSending:
		claimed, err = a.Store.ClaimDueCampaign(ctx, c.ID, a.Now().Add(campaignLease))
	}
	if err != nil {
		return nil, err
	}
	if claimed {
		if c.LastError != "" {
			if err := a.Store.ClearCampaignError(ctx, c.ID); err != nil {
				return nil, err
			}
		}
		a.audit(ctx, a.Store, actor, "campaign.send", "campaign", c.ID, &c.EventID, string(c.Segment))
		// Once started, queuing goes on even if the request that started it ends.
		if err := a.queueCampaign(context.WithoutCancel(ctx), c); err != nil {
			return nil, err
		}
	}
	if c, err = a.Store.FindCampaign(ctx, id); err != nil {
		return nil, err
	}
	return a.CampaignProgress(ctx, c)
}

// queueCampaign queues one message per recipient of a claimed campaign, in batches of
// campaignBatch per transaction, skipping the recipients queued before (a resumed
// campaign), then marks the campaign sent. The caller holds the claim. When ctx ends
// (the instance shuts down) it stops between two batches: the campaign stays "sending"
// and is resumed, by any instance, once the lease has run out.
func (a *App) queueCampaign(ctx context.Context, c *model.Campaign) error {
	keep := context.WithoutCancel(ctx) // a committed batch's bookkeeping is never lost
	ev, err := a.Store.FindEventByID(ctx, c.EventID)
	if err != nil {
		return err
	}
	settings, err := a.Settings(ctx)
	if err != nil {
		return err
	}
	var kit []model.Attachment
	if c.AttachPressKit {
		if kit, err = a.pressKit(ctx, ev.ID); err != nil {
			return err
		}
	}
	docs := a.documentLinks(ctx, ev, c.AttachPressKit)
	w := a.newCampaignWriter(c, ev, settings, kit, docs)
	w.shared = true
	// A campaign that has no message yet (not a resumed one) need not look in the outbox
	// for each recipient: two instances queuing it at once still queue each message once
	// (idempotency keys).
	unqueued := c.ID
	if counts, err := a.Store.CountCampaignMessages(ctx, c.ID); err != nil {
		return err
	} else if len(counts) == 0 {
		unqueued = 0
	}
	var after int64
	var pending []store.CampaignRecipient // read, not queued yet
	for {
		if ctx.Err() != nil {
			return nil
		}
		if len(pending) == 0 {
			pending, err = a.Store.SegmentRecipients(ctx, ev.ID, c.Segment,
				store.RecipientFilter{AfterContactID: after, Limit: campaignFetch, Unqueued: unqueued})
			if err != nil {
				return err
			}
			if len(pending) == 0 {
				break
			}
			after = pending[len(pending)-1].ContactID
		}
		batch := pending[:min(campaignBatch, len(pending))]
		pending = pending[len(batch):]
		// Written before the transaction, which stays short (SQLite has one writer), and
		// stored with a few multi-row statements.
		msgs := make([]*model.Message, len(batch))
		for i := range batch {
			r := &batch[i]
			if err := a.ensureUnsubscribeToken(ctx, r); err != nil {
				return err
			}
			if msgs[i], err = w.message(ctx, r); err != nil {
				return err
			}
		}
		if _, err := a.Store.EnqueueMessages(ctx, msgs); err != nil {
			return err
		}
		if err := a.Store.ExtendCampaignClaim(keep, c.ID, a.Now().Add(campaignLease)); err != nil {
			return err
		}
		a.kick()
	}
	return a.Store.MarkCampaignSent(keep, c.ID, a.Now())
}

// ensureUnsubscribeToken gives a recipient without an unsubscribe token one (contacts
// made before tokens existed), reading it back in case another process set it first.
func (a *App) ensureUnsubscribeToken(ctx context.Context, r *store.CampaignRecipient) error {
	if r.UnsubscribeToken != "" {
		return nil
	}
	if err := a.Store.SetUnsubscribeToken(ctx, r.ContactID, a.Token()); err != nil {
		return err
	}
	c, err := a.Store.FindContact(ctx, r.ContactID)
	if err != nil {
		return err
	}
	r.UnsubscribeToken = c.UnsubscribeToken
	return nil
}

// pressKit reads the event's documents as attachments.
func (a *App) pressKit(ctx context.Context, eventID int64) ([]model.Attachment, error) {
	docs, err := a.Store.ListDocuments(ctx, eventID)
	if err != nil {
		return nil, err
	}
	out := make([]model.Attachment, 0, len(docs))
	for _, d := range docs {
		full, err := a.Store.FindDocument(ctx, eventID, d.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, model.Attachment{Filename: full.Name, ContentType: full.ContentType, Data: full.Data})
	}
	return out, nil
}

// documentLink is a press-kit file as the email lists it.
type documentLink struct{ Name, URL string }

func (a *App) documentLinks(ctx context.Context, ev *model.Event, attach bool) []documentLink {
	if !attach {
		return nil
	}
	docs, err := a.Store.ListDocuments(ctx, ev.ID)
	if err != nil {
		return nil
	}
	base := strings.TrimRight(a.Config.BaseURL, "/")
	out := make([]documentLink, len(docs))
	for i, d := range docs {
		out[i] = documentLink{Name: d.Name, URL: fmt.Sprintf("%s/e/%s/documents/%d", base, ev.Slug, d.ID)}
	}
	return out
}

// recipientLang is the language of the recipient's registration, else their own, else the event's.
func recipientLang(r *store.CampaignRecipient, ev *model.Event, def string) string {
	if r.RegLang != nil && (*r.RegLang == "fr" || *r.RegLang == "en") {
		return *r.RegLang
	}
	return outreachLang(&model.Contact{Lang: r.ContactLang}, ev, def)
}

// placeholderValues are the values of the placeholders for one recipient.
// {ticket_url} is the ticket page, or the invitation page for someone not registered,
// or the event page; {coverage_url} is the ticket page's coverage form.
func (a *App) placeholderValues(ev *model.Event, r *store.CampaignRecipient, settings *model.Settings, lang string) map[string]string {
	base := strings.TrimRight(a.Config.BaseURL, "/")
	eventURL := base + "/e/" + ev.Slug
	ticketURL, coverageURL := eventURL, eventURL
	switch {
	case r != nil && r.ManageToken != nil && *r.ManageToken != "":
		ticketURL = base + "/t/" + *r.ManageToken
		coverageURL = ticketURL + "#couverture"
	case r != nil && r.InvitationToken != nil && *r.InvitationToken != "":
		ticketURL = base + "/i/" + *r.InvitationToken
	}
	var press []string
	contact := []string{ev.PressContactName, ev.PressContactEmail, ev.PressContactPhone}
	if ev.PressContactName == "" && ev.PressContactEmail == "" && settings != nil {
		contact = []string{settings.PressContactName, settings.PressContactEmail, settings.PressContactPhone}
	}
	for _, p := range contact {
		if p != "" {
			press = append(press, p)
		}
	}
	v := map[string]string{
		"event_title": ev.Title, "event_date": i18n.Range(ev.StartsAt, ev.EndsAt, ev.Location(), lang),
		"ticket_url": ticketURL, "coverage_url": coverageURL, "press_contact": strings.Join(press, ", "),
	}
	if r != nil {
		v["first_name"], v["last_name"] = r.FirstName, r.LastName
	}
	return v
}

// campaignEmail writes a campaign's message for one recipient, with the unsubscribe
// link and headers (a follow-up is outreach).
func (a *App) campaignEmail(c *model.Campaign, ev *model.Event, r *store.CampaignRecipient, settings *model.Settings,
	kit []model.Attachment, docs []documentLink) (Email, error) {
	lang := recipientLang(r, ev, a.Config.Lang)
	vals := a.placeholderValues(ev, r, settings, lang)
	subject, err := ExpandSubject(c.Subject, vals)
	if err != nil {
		return Email{}, err
	}
	body, err := ExpandPlaceholders(c.Body, vals)
	if err != nil {
		return Email{}, err
	}
	contact := &model.Contact{ID: r.ContactID, UnsubscribeToken: r.UnsubscribeToken}
	data := map[string]any{"Subject": subject, "BodyHTML": body.HTML, "BodyText": body.Text, "Event": ev,
		"FirstName": r.FirstName, "Name": r.Name(), "Documents": docs, "UnsubscribeURL": a.UnsubscribeURL(contact)}
	if ev.PressContactName != "" {
		data["PressContact"] = map[string]string{"Name": ev.PressContactName, "Email": ev.PressContactEmail, "Phone": ev.PressContactPhone}
	}
	contactID, campaignID := r.ContactID, c.ID
	return Email{Kind: "campaign", Lang: lang, ToEmail: r.Email, ToName: r.Name(),
		Key: CampaignKey(c.ID) + fmt.Sprint(r.ContactID), Data: data, Headers: a.outreachHeaders(contact, settings),
		Attachments: append([]model.Attachment(nil), kit...), EventID: &ev.ID, ContactID: &contactID, CampaignID: &campaignID}, nil
}

// CampaignPreview is a campaign as one recipient will read it.
type CampaignPreview struct {
	Subject   string                   `json:"subject"`
	HTML      string                   `json:"html"`
	Text      string                   `json:"text"`
	Recipient *store.CampaignRecipient `json:"-"`
	Lang      string                   `json:"-"`
}

// PreviewRecipient is the recipient a preview was written for, as the API shows it.
type PreviewRecipient struct {
	ContactID int64  `json:"contact_id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Language  string `json:"language"`
}

// RecipientJSON describes the preview's recipient, nil when the segment is empty.
func (p *CampaignPreview) RecipientJSON() *PreviewRecipient {
	if p.Recipient == nil {
		return nil
	}
	r := p.Recipient
	return &PreviewRecipient{ContactID: r.ContactID, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName, Language: p.Lang}
}

// PreviewCampaign renders a campaign for a real recipient of its segment: contactID, or
// the first of the segment when 0. A contact outside the segment is ENotFound. With an
// empty segment the preview uses no name, so that the organizer still sees the layout.
func (a *App) PreviewCampaign(ctx context.Context, c *model.Campaign, contactID int64) (*CampaignPreview, error) {
	ev, err := a.Store.FindEventByID(ctx, c.EventID)
	if err != nil {
		return nil, err
	}
	rs, err := a.Store.SegmentRecipients(ctx, ev.ID, c.Segment, store.RecipientFilter{ContactID: contactID, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 && contactID > 0 {
		return nil, &model.Error{Code: model.ENotFound, Message: "campaign.error.not_in_segment"}
	}
	r := &store.CampaignRecipient{Email: "exemple@example.org", UnsubscribeToken: "exemple"}
	if len(rs) == 1 {
		r = &rs[0]
	}
	settings, err := a.Settings(ctx)
	if err != nil {
		return nil, err
	}
	em, err := a.campaignEmail(c, ev, r, settings, nil, a.documentLinks(ctx, ev, c.AttachPressKit))
	if err != nil {
		return nil, err
	}
	m, err := a.buildMessage(ctx, em)
	if err != nil {
		return nil, err
	}
	p := &CampaignPreview{Subject: m.Subject, HTML: m.HTMLBody, Text: m.TextBody, Lang: em.Lang}
	if len(rs) == 1 {
		p.Recipient = r
	}
	return p, nil
}

// CampaignRecipients returns up to limit recipients of a campaign's segment, to choose
// whom to preview.
func (a *App) CampaignRecipients(ctx context.Context, c *model.Campaign, limit int) ([]store.CampaignRecipient, error) {
	return a.Store.SegmentRecipients(ctx, c.EventID, c.Segment, store.RecipientFilter{Limit: limit})
}

// SendCampaignTest sends the campaign, as written for a recipient of its segment
// (contactID, or the first), to the organizer: "[TEST]" in the subject, no unsubscribe
// link (it would unsubscribe the recipient), not counted with the campaign.
func (a *App) SendCampaignTest(ctx context.Context, actor Actor, c *model.Campaign, to *model.User, contactID int64) error {
	if to == nil || !model.ValidEmail(to.Email) {
		return model.Errorf(model.EBadRequest, "campaign.error.no_address")
	}
	if err := a.validateCampaign(ctx, c); err != nil {
		return err
	}
	ev, err := a.Store.FindEventByID(ctx, c.EventID)
	if err != nil {
		return err
	}
	rs, err := a.Store.SegmentRecipients(ctx, ev.ID, c.Segment, store.RecipientFilter{ContactID: contactID, Limit: 1})
	if err != nil {
		return err
	}
	r := &store.CampaignRecipient{}
	if len(rs) == 1 {
		r = &rs[0]
	} else if contactID > 0 {
		return &model.Error{Code: model.ENotFound, Message: "campaign.error.not_in_segment"}
	}
	settings, err := a.Settings(ctx)
	if err != nil {
		return err
	}
	var kit []model.Attachment
	if c.AttachPressKit {
		if kit, err = a.pressKit(ctx, ev.ID); err != nil {
			return err
		}
	}
	em, err := a.campaignEmail(c, ev, r, settings, kit, a.documentLinks(ctx, ev, c.AttachPressKit))
	if err != nil {
		return err
	}
	em.Data["Subject"] = "[TEST] " + em.Data["Subject"].(string)
	em.Data["UnsubscribeURL"] = ""
	em.Data["Test"] = true
	em.ToEmail, em.ToName, em.Headers = to.Email, to.Name, nil
	em.ContactID, em.CampaignID = nil, nil
	em.Key = fmt.Sprintf("camptest:%d:%s", c.ID, a.Token())
	if _, err := a.queueEmail(ctx, a.Store, em); err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "campaign.test", "campaign", c.ID, &c.EventID, to.Email)
	a.kick()
	return nil
}

// CampaignFailure is a message of the campaign the mail server refused for good.
type CampaignFailure struct {
	MessageID int64  `json:"message_id"`
	ToEmail   string `json:"to_email"`
	ToName    string `json:"to_name"`
	Error     string `json:"error"` // the server's answer
}

// CampaignProgress is where a campaign's sending stands, read from the outbox.
type CampaignProgress struct {
	ID     int64                `json:"id"`
	Status model.CampaignStatus `json:"status"`
	// Recipients is how many messages were queued once sending started; before, how
	// many people the segment holds now.
	Recipients int64             `json:"recipients"`
	Queued     int64             `json:"queued"` // waiting or being sent
	Sent       int64             `json:"sent"`
	Failed     int64             `json:"failed"`
	Cancelled  int64             `json:"cancelled"` // unsubscribed or erased meanwhile
	Failures   []CampaignFailure `json:"failures"`
	SentAt     *time.Time        `json:"sent_at"`
}

// Done reports whether nothing is left to deliver.
func (p *CampaignProgress) Done() bool { return p.Status == model.CampaignSent && p.Queued == 0 }

// Percent is how much of the campaign has left the outbox (sent, failed or cancelled).
func (p *CampaignProgress) Percent() int {
	if p.Recipients == 0 {
		return 0
	}
	return int((p.Sent + p.Failed + p.Cancelled) * 100 / p.Recipients)
}

// CampaignProgress reads a campaign's counts from the outbox.
func (a *App) CampaignProgress(ctx context.Context, c *model.Campaign) (*CampaignProgress, error) {
	p := &CampaignProgress{ID: c.ID, Status: c.Status, SentAt: c.SentAt, Failures: []CampaignFailure{}}
	if c.Status.Editable() {
		n, err := a.Store.CountSegment(ctx, c.EventID, c.Segment)
		if err != nil {
			return nil, err
		}
		p.Recipients = n
		return p, nil
	}
	counts, err := a.Store.CountCampaignMessages(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	p.Queued = counts[model.MessageQueued] + counts[model.MessageSending]
	p.Sent, p.Failed, p.Cancelled = counts[model.MessageSent], counts[model.MessageFailed], counts[model.MessageCancelled]
	p.Recipients = p.Queued + p.Sent + p.Failed + p.Cancelled
	if p.Failed > 0 {
		fails, err := a.Store.CampaignFailures(ctx, c.ID, campaignFailuresShown)
		if err != nil {
			return nil, err
		}
		for _, m := range fails {
			p.Failures = append(p.Failures, CampaignFailure{MessageID: m.ID, ToEmail: m.ToEmail, ToName: m.ToName, Error: m.LastError})
		}
	}
	return p, nil
}

// sendDueCampaigns sends the scheduled campaigns whose time has come and resumes those
// a crashed process left halfway. Each is claimed with a conditional update first, so
// that with several instances exactly one sends it.
func (a *App) sendDueCampaigns(ctx context.Context) error {
	ids, err := a.Store.DueCampaigns(ctx, 20)
	if err != nil {
		return err
	}
	for _, id := range ids {
		ok, err := a.Store.ClaimDueCampaign(ctx, id, a.Now().Add(campaignLease))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		c, err := a.Store.FindCampaign(ctx, id)
		if err != nil {
			return err
		}
		err = a.closedEventRefusal(ctx, c)
		if err == nil {
			err = a.validateCampaign(ctx, c)
		}
		if err != nil {
			reason := campaignFailure(err)
			if reason == "" {
				// The database failed, not the campaign: it stays claimed and is taken
				// again once the lease has run out.
				return err
			}
			// Validated when scheduled, but the press kit may have grown since (the
			// upload warned). Unless it had started (then it goes on), it goes back to
			// draft with the reason on it and in the audit log, rather than staying
			// "scheduled" but blocked: a blocked campaign would go out by itself as soon
			// as a document is removed, possibly days late, to people for whom it no
			// longer fits; and it would be tried again at every tick. In draft, the
			// organizer reads why on its page, fixes it and chooses a new time.
			counts, cerr := a.Store.CountCampaignMessages(ctx, id)
			if cerr != nil {
				return cerr
			}
			if len(counts) == 0 {
				if err := a.refuseDueCampaign(ctx, c, reason, err); err != nil {
					return err
				}
				continue
			}
		}
		a.audit(ctx, a.Store, Actor{Name: "scheduler"}, "campaign.send", "campaign", c.ID, &c.EventID, string(c.Segment))
		if err := a.queueCampaign(ctx, c); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// refuseDueCampaign puts a claimed scheduled campaign back to draft, unsent, keeping the
// reason on it (its page shows it) and in the audit log.
func (a *App) refuseDueCampaign(ctx context.Context, c *model.Campaign, reason string, cause error) error {
	now := a.Now()
	if err := a.Store.RefuseDueCampaign(ctx, c.ID, reason, now); err != nil {
		return err
	}
	detail := "back to draft: " + cause.Error()
	switch reason {
	case model.CampaignFailureEventCancelled:
		detail = "back to draft: the session is cancelled"
	case model.CampaignFailureEventArchived:
		detail = "back to draft: the session is archived"
	case model.CampaignFailurePressKit:
		size, err := a.pressKitSize(ctx, c.EventID)
		if err != nil {
			return err
		}
		detail = fmt.Sprintf("back to draft: press kit %.1f MB, over the %d MB limit", float64(size)/(1<<20), MaxPressKitAttachment>>20)
	}
	if c.ScheduledAt != nil {
		detail += "; was due " + c.ScheduledAt.UTC().Format(time.RFC3339)
	}
	a.Log.Warn("scheduled campaign refused", "campaign", c.ID, "reason", reason, "err", cause)
	a.audit(ctx, a.Store, Actor{Name: "scheduler"}, "campaign.refused", "campaign", c.ID, &c.EventID, detail)
	return nil
}
