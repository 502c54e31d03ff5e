package app

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"relais/internal/model"
	"relais/internal/store"
)

// SaveEvent creates (e.ID == 0) or updates an event after validating it. An empty slug is
// made from the title and kept unique; a slug the organizer typed must be free.
func (a *App) SaveEvent(ctx context.Context, actor Actor, e *model.Event) error {
	e.Slug = strings.TrimSpace(strings.ToLower(e.Slug))
	e.Title = strings.TrimSpace(e.Title)
	if e.Status == "" {
		e.Status = model.EventDraft
	}
	if e.RegistrationMode == "" {
		e.RegistrationMode = model.ModeOpen
	}
	if e.Timezone == "" {
		e.Timezone = a.Config.Timezone
	}
	if e.Lang == "" {
		e.Lang = a.Config.Lang
	}
	if err := e.Validate(); err != nil {
		return err
	}
	if e.ID != 0 {
		cur, err := a.Store.FindEventByID(ctx, e.ID)
		if err != nil {
			return err
		}
		// Once published, the address is in links already shared (WhatsApp, blogs,
		// emails sent): it no longer changes, even when the title does.
		if cur.Status != model.EventDraft || e.Status != model.EventDraft {
			if e.Slug != "" && e.Slug != cur.Slug {
				return model.FieldErrors(map[string]string{"slug": "error.slug_locked"})
			}
			e.Slug = cur.Slug
		}
	}
	typed := e.Slug != ""
	if !typed {
		e.Slug = Slugify(e.Title)
	}
	base := e.Slug
	for i := 2; ; i++ {
		taken, err := a.Store.SlugTaken(ctx, e.Slug, e.ID)
		if err != nil {
			return err
		}
		if !taken {
			break
		}
		if typed {
			return model.FieldErrors(map[string]string{"slug": "error.slug_taken"})
		}
		e.Slug = fmt.Sprintf("%s-%d", trimSlug(base, model.MaxSlug-4), i)
	}
	create := e.ID == 0
	var err error
	if create {
		e.CreatedBy = actor.UserID
		err = a.Store.CreateEvent(ctx, e)
	} else {
		err = a.updateEvent(ctx, e)
		a.door.cache.events.forget(nil) // the check-in API reads the change at once
	}
	if model.ErrorCode(err) == model.EConflict {
		return model.FieldErrors(map[string]string{"slug": "error.slug_taken"})
	} else if err != nil {
		return err
	}
	action := "event.update"
	if create {
		action = "event.create"
	}
	a.audit(ctx, a.Store, actor, action, "event", e.ID, &e.ID, e.Title)
	return nil
}

// updateEvent saves an event and, when its capacity rose or became unlimited, gives
// the new seats to the waitlist, in order, in the same transaction. Registrations count
// seats against confirmed ones only: without this a newcomer would take a new seat
// while earlier people still wait. The event's row is locked first, as a cancellation
// locks it (changeStatus), so that concurrent registrations decide after the change.
func (a *App) updateEvent(ctx context.Context, e *model.Event) error {
	now := a.Now()
	more := false
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		before, err := tx.LockEvent(ctx, e.ID)
		if err != nil {
			return err
		}
		if err := tx.UpdateEvent(ctx, e); err != nil {
			return err
		}
		if !before.StartsAt.Equal(e.StartsAt) {
			// A reminder queued with the old time must not go: the scheduler queues it
			// again with the new one (its key holds the start). Were the event moved
			// back before the new one left, the old key's reminder, cancelled, would not
			// go again: a rare case (queued mail leaves within seconds) left as it is.
			if _, err := tx.CancelQueuedEventMail(ctx, e.ID, nil, reminderKinds); err != nil {
				return err
			}
		}
		more = before.Capacity > 0 && (e.Capacity == 0 || e.Capacity > before.Capacity)
		if !more {
			return nil
		}
		return a.promote(ctx, tx, e, now)
	})
	if err == nil && more {
		a.kick()
	}
	return err
}

// allowedTransitions lists the status changes organizers may make.
var allowedTransitions = map[model.EventStatus][]model.EventStatus{
	model.EventDraft:     {model.EventPublished, model.EventCancelled, model.EventArchived},
	model.EventPublished: {model.EventDraft, model.EventCancelled, model.EventArchived},
	model.EventCancelled: {model.EventDraft, model.EventArchived},
	model.EventArchived:  {model.EventDraft},
}

// StatusChangeAllowed says whether organizers may move an event from one status to
// another (SetEventStatus refuses the others).
func StatusChangeAllowed(from, to model.EventStatus) bool {
	return from == to || slices.Contains(allowedTransitions[from], to)
}

// SetEventStatus publishes, unpublishes (back to draft), cancels or archives an event.
func (a *App) SetEventStatus(ctx context.Context, actor Actor, id int64, to model.EventStatus) (*model.Event, error) {
	var e *model.Event
	changed := false
	// The row is read under the event's lock and written whole: read before it, a
	// capacity raised meanwhile (updateEvent) would be written back as it was.
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if e, err = tx.LockEvent(ctx, id); err != nil {
			return err
		}
		if e.Status == to {
			return nil
		}
		if !StatusChangeAllowed(e.Status, to) {
			return model.Errorf(model.EConflict, "error.status_change")
		}
		e.Status, changed = to, true
		if err := tx.UpdateEvent(ctx, e); err != nil {
			return err
		}
		if to == model.EventCancelled || to == model.EventArchived {
			if _, err := tx.CancelQueuedEventMail(ctx, e.ID, nil, reminderKinds); err != nil {
				return err
			}
		}
		// Back from a cancellation, seats freed or added meanwhile (promote gives none
		// to a cancelled event) go to the waitlist first.
		return a.promote(ctx, tx, e, a.Now())
	})
	a.door.cache.events.forget(nil) // the check-in API reads the change at once
	if err != nil || !changed {
		return e, err
	}
	a.kick()
	a.audit(ctx, a.Store, actor, "event.status", "event", e.ID, &e.ID, string(to))
	if to == model.EventCancelled {
		a.notifyCancellation(ctx, e) // notices.go
	}
	return e, nil
}

// Slugify makes a URL slug from a title: "Les mégadonnées !" → "les-megadonnees".
func Slugify(title string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, _ := transform.String(t, strings.ToLower(title))
	s = strings.NewReplacer("œ", "oe", "æ", "ae", "ß", "ss").Replace(s)
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := trimSlug(strings.Trim(b.String(), "-"), 60)
	if out == "" {
		return "session"
	}
	return out
}

func trimSlug(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	if i := strings.LastIndexByte(s, '-'); i > n/2 {
		s = s[:i]
	}
	return strings.Trim(s, "-")
}

// Document upload checks: the type is detected from the content, never from the name.
func detectDocumentType(name string, data []byte) (string, bool) {
	ct := http.DetectContentType(data)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ext := strings.ToLower(path.Ext(name))
	if ct == "application/zip" {
		// Office Open XML and OpenDocument files are zip archives: trust the extension
		// only among those, and only when the content is a zip.
		for t, e := range model.AllowedDocumentTypes {
			if e == ext && (strings.Contains(t, "openxmlformats") || strings.Contains(t, "opendocument")) {
				return t, true
			}
		}
		return ct, false
	}
	if ct == "application/octet-stream" && ext == ".doc" && len(data) > 8 &&
		string(data[:8]) == "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" {
		return "application/msword", true
	}
	_, ok := model.AllowedDocumentTypes[ct]
	return ct, ok
}

// CleanFileName keeps the base name of an uploaded file, without path or control characters.
func CleanFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == '/' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.Trim(name, "."))
	if name == "" {
		name = "document"
	}
	if len(name) > 200 {
		ext := path.Ext(name)
		name = name[:200-len(ext)] + ext
	}
	return name
}

// AddDocument stores a press-kit file after checking its size and content type.
func (a *App) AddDocument(ctx context.Context, actor Actor, eventID int64, name string, data []byte, maxSize int64) (*model.Document, error) {
	if len(data) == 0 {
		return nil, model.FieldErrors(map[string]string{"file": "error.file_empty"})
	}
	if int64(len(data)) > maxSize {
		return nil, &model.Error{Code: model.EInvalid, Message: "error.file_too_large",
			Fields: map[string]string{"file": "error.file_too_large"}, Args: map[string]any{"MB": maxSize >> 20}}
	}
	ct, ok := detectDocumentType(name, data)
	if !ok {
		return nil, model.FieldErrors(map[string]string{"file": "error.file_type"})
	}
	d := &model.Document{EventID: eventID, Name: CleanFileName(name), ContentType: ct, Size: int64(len(data)), Data: data}
	if err := a.Store.AddDocument(ctx, d); err != nil {
		return nil, err
	}
	a.audit(ctx, a.Store, actor, "document.add", "document", d.ID, &eventID, d.Name)
	return d, nil
}
