package app

import (
	"context"
	"strings"

	"relais/internal/model"
)

// The agenda and press-kit changes below were made by the handlers on the store
// directly, out of the audit log; they go through here so that each is recorded with
// the staff member who made it.

// AddAgendaItem validates and appends an agenda item.
func (a *App) AddAgendaItem(ctx context.Context, actor Actor, it *model.AgendaItem) error {
	return a.saveAgendaItem(ctx, actor, it, "agenda.add", a.Store.AddAgendaItem)
}

// UpdateAgendaItem validates and saves an item of the event's agenda.
func (a *App) UpdateAgendaItem(ctx context.Context, actor Actor, it *model.AgendaItem) error {
	return a.saveAgendaItem(ctx, actor, it, "agenda.update", a.Store.UpdateAgendaItem)
}

func (a *App) saveAgendaItem(ctx context.Context, actor Actor, it *model.AgendaItem, action string,
	save func(context.Context, *model.AgendaItem) error) error {
	it.Title, it.Speaker, it.StartTime = strings.TrimSpace(it.Title), strings.TrimSpace(it.Speaker), strings.TrimSpace(it.StartTime)
	if err := it.Validate(); err != nil {
		return err
	}
	if err := save(ctx, it); err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, action, "agenda_item", it.ID, &it.EventID, it.Title)
	return nil
}

// MoveAgendaItem moves an item of the event's agenda one place up (dir -1) or down (+1).
func (a *App) MoveAgendaItem(ctx context.Context, actor Actor, eventID, id int64, dir int) error {
	if err := a.Store.MoveAgendaItem(ctx, eventID, id, dir); err != nil {
		return err
	}
	detail := "down"
	if dir < 0 {
		detail = "up"
	}
	a.audit(ctx, a.Store, actor, "agenda.move", "agenda_item", id, &eventID, detail)
	return nil
}

// DeleteAgendaItem removes an item of the event's agenda; the log keeps its title.
func (a *App) DeleteAgendaItem(ctx context.Context, actor Actor, eventID, id int64) error {
	title, err := a.agendaTitle(ctx, eventID, id)
	if err != nil {
		return err
	}
	if err := a.Store.DeleteAgendaItem(ctx, eventID, id); err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "agenda.delete", "agenda_item", id, &eventID, title)
	return nil
}

func (a *App) agendaTitle(ctx context.Context, eventID, id int64) (string, error) {
	items, err := a.Store.ListAgenda(ctx, eventID)
	if err != nil {
		return "", err
	}
	for _, it := range items {
		if it.ID == id {
			return it.Title, nil
		}
	}
	return "", model.ErrNotFound
}

// DeleteDocument removes a press-kit document of the event; the log keeps its name.
func (a *App) DeleteDocument(ctx context.Context, actor Actor, eventID, id int64) error {
	docs, err := a.Store.ListDocuments(ctx, eventID)
	if err != nil {
		return err
	}
	name := ""
	for _, d := range docs {
		if d.ID == id {
			name = d.Name
		}
	}
	if err := a.Store.DeleteDocument(ctx, eventID, id); err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "document.delete", "document", id, &eventID, name)
	return nil
}
