package app

import (
	"context"
	"errors"
	"time"
)

// Work done per tick at most; what remains waits for the next tick.
const (
	tickReminders     = 1000
	tickCancellations = 1000
)

// RunScheduler calls Tick every interval until ctx ends. Every instance may run it:
// campaigns are claimed with a conditional update and every message has an idempotency
// key, so two schedulers never send the same thing twice.
func (a *App) RunScheduler(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 30 * time.Second
	}
	a.Log.Info("scheduler started", "every", every)
	defer a.Log.Info("scheduler stopped")
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.Tick(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("scheduler tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick does what is due at a.Now(): it sends the scheduled campaigns whose time has come
// (and resumes those a crash left halfway), queues the reminders due, and queues the
// cancellation notices a crash may have left out. Running it again is harmless.
func (a *App) Tick(ctx context.Context) error {
	var errs []error
	if err := a.sendDueCampaigns(ctx); err != nil {
		errs = append(errs, err)
	}
	if ctx.Err() != nil {
		return errors.Join(errs...) // shutting down: the rest waits for the next tick
	}
	if _, err := a.queueDueReminders(ctx, tickReminders); err != nil {
		errs = append(errs, err)
	}
	if _, err := a.queueMissedCancellations(ctx, tickCancellations); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
