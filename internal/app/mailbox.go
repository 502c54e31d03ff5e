package app

import "context"

// RetryMessage puts a failed (or waiting) message of the outbox back in the queue for
// now, and wakes the worker. The log names the message only: its address is personal
// data, which an erasure would have to find there too.
func (a *App) RetryMessage(ctx context.Context, actor Actor, id int64) error {
	if err := a.Store.RetryMessageNow(ctx, id); err != nil {
		return err
	}
	a.audit(ctx, a.Store, actor, "message.retry", "message", id, nil, "")
	a.kick()
	return nil
}
