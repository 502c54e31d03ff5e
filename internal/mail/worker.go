package mail

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"relais/internal/model"
	"relais/internal/store"
)

// WorkerOptions tune a Worker; zero values take the defaults.
type WorkerOptions struct {
	Batch       int                             // messages claimed at once (200)
	Lease       time.Duration                   // how long a claim holds before another worker may take it over (5 min)
	Rate        float64                         // messages per second from this worker, 0 for no limit
	Poll        time.Duration                   // how often to look for due mail when not kicked (10 s)
	Logger      *slog.Logger                    // discards when nil
	Backoff     func(attempt int) time.Duration // wait after the n-th failed attempt (DefaultBackoff)
	MaxAttempts int                             // attempts before a temporary failure becomes final (10)
}

// Worker drains the outbox: it claims due messages, sends them through its Sender (over
// as many connections as the Sender has) and records each outcome. Several workers (one per instance) may share a
// PostgreSQL outbox; claims keep them from sending the same message.
type Worker struct {
	st   *store.Store
	s    Sender
	opt  WorkerOptions
	log  *slog.Logger
	kick chan struct{}
	next time.Time // earliest time of the next send under Rate
	// lag is how late, in nanoseconds, the oldest message of the latest batch claimed
	// (on its first attempt) was due when claimed; 0 when there was none, under a Rate,
	// and once a batch sent was not full or stopped short, for whatever reason (until
	// the next claim).
	lag atomic.Int64
}

// Lag says how far behind the worker is: how long the oldest new message of the batch
// it claimed last had been due; 0 when it has nothing more due, has stopped sending for
// now (the server is away, say), or keeps a Rate. Registrations read it: while it is
// large, fewer are written at once, and the processors go to the confirmations.
func (w *Worker) Lag() time.Duration { return time.Duration(w.lag.Load()) }

// NewWorker returns a worker sending through s the mail kept in st.
func NewWorker(st *store.Store, s Sender, opts WorkerOptions) *Worker {
	if opts.Batch <= 0 {
		opts.Batch = 200
	}
	if opts.Lease <= 0 {
		opts.Lease = 5 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 10 * time.Second
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	// A batch must be sent well within its lease, or another worker would take it over.
	if opts.Rate > 0 {
		if most := int(opts.Rate * opts.Lease.Seconds() / 2); opts.Batch > most {
			opts.Batch = max(1, most)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{st: st, s: s, opt: opts, log: log.With("component", "mail"), kick: make(chan struct{}, 1)}
}

// DefaultBackoff waits 30 s after the first failure, doubling up to an hour, each wait
// shifted by up to a fifth either way so that messages failed together spread out.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Hour
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 8 {
		d = min(time.Hour, 30*time.Second<<(attempt-1))
	}
	return d - d/5 + rand.N(2*d/5+1)
}

// Kick wakes the worker now: call it after queuing mail in a request.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run sends mail until ctx is cancelled, then returns nil. It never stops in the middle
// of a message; messages claimed but not yet sent go back to the queue.
func (w *Worker) Run(ctx context.Context) error {
	// The worker's writes go before a burst of registrations on SQLite's one write
	// connection, so that confirmations keep up with them.
	ctx = store.Urgent(ctx)
	w.log.Info("mail worker started", "batch", w.opt.Batch, "rate", w.opt.Rate)
	defer w.log.Info("mail worker stopped")
	timer := time.NewTimer(0)
	defer timer.Stop()
	// While a full batch is sent, the next one is claimed: the claim's round trips and
	// the database's work on it no longer hold the sending up.
	var ahead chan claimed
	defer func() {
		if ahead != nil {
			b := <-ahead
			w.release(context.WithoutCancel(ctx), b.msgs)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-w.kick:
			if ahead != nil {
				// The batch claimed ahead was claimed before this kick: the mail it
				// announces may not be in it. Kept for the next turn, the kick makes the
				// worker look at the queue again right after this batch, not at the next
				// poll (the last confirmations of a burst waited 10 s for it).
				w.Kick()
			}
		}
		var b claimed
		if ahead != nil {
			b, ahead = <-ahead, nil
		} else {
			b = w.claim(ctx)
		}
		if b.err == nil && len(b.msgs) == w.opt.Batch && w.opt.Rate <= 0 && ctx.Err() == nil {
			next := make(chan claimed, 1)
			go func() { next <- w.claim(ctx) }()
			ahead = next
		}
		_, more, err := w.send(ctx, b)
		if err != nil && ctx.Err() == nil {
			w.log.Error("mail worker: batch failed", "err", err)
		}
		wait := w.opt.Poll
		if more && err == nil {
			wait = 0
		} else if ahead != nil {
			// The batch stopped short (the server is away): the one claimed ahead waits too.
			b := <-ahead
			ahead = nil
			if err := w.release(context.WithoutCancel(ctx), b.msgs); err != nil && ctx.Err() == nil {
				w.log.Error("mail worker: batch failed", "err", err)
			}
			w.lag.Store(0) // set by that claim: see send
		}
		timer.Reset(wait)
	}
}

// claimed is a batch of messages claimed for this worker.
type claimed struct {
	msgs []model.Message
	at   time.Time // when it was claimed: the lease runs from then
	err  error
}

// claim claims the next batch of due messages.
func (w *Worker) claim(ctx context.Context) claimed {
	if ctx.Err() != nil {
		return claimed{}
	}
	at := time.Now()
	msgs, err := w.st.ClaimMessages(ctx, w.opt.Batch, w.opt.Lease)
	var lag time.Duration
	if err == nil && w.opt.Rate <= 0 {
		// Under a rate the mail goes at its pace, however few registrations run: its
		// lateness is not for them to make up. Nor is that of a message tried before
		// (retried, or taken over from a worker that stopped): it was due long ago.
		for _, m := range msgs { // the oldest first
			if m.Attempts == 1 {
				lag = max(0, w.st.Now().Sub(m.NextAttemptAt))
				break
			}
		}
	}
	w.lag.Store(int64(lag))
	return claimed{msgs: msgs, at: at, err: err}
}

// RunOnce claims one batch of due messages and sends it, returning how many were sent.
// Tests use it instead of waiting for Run.
func (w *Worker) RunOnce(ctx context.Context) (sent int, err error) {
	sent, _, err = w.process(ctx)
	return sent, err
}

// process claims a batch and sends it. It stops early, releasing the rest of the batch,
// when ctx is cancelled or the server is unreachable (the rest would fail the same way).
// more says the whole batch went through and was full: more mail is probably due.
func (w *Worker) process(ctx context.Context) (sent int, more bool, err error) {
	return w.send(ctx, w.claim(ctx))
}

// send sends a claimed batch; see process. The sender's connections (Parallel) each take
// the next few messages of the batch.
func (w *Worker) send(ctx context.Context, b claimed) (sent int, more bool, err error) {
	if b.err != nil || ctx.Err() != nil && len(b.msgs) == 0 {
		return 0, false, b.err
	}
	msgs := b.msgs
	lanes := w.lanes()
	// Each connection takes a few messages at a time and reads their bodies in one query;
	// few enough that every connection has its share of a small batch.
	chunk := min(laneChunk, (len(msgs)+lanes-1)/lanes)
	// Past this, the rest of the batch goes back: another worker may soon take it over.
	leaseEnd := b.at.Add(w.opt.Lease * 3 / 4)
	// Outcomes are recorded even when ctx ends meanwhile: losing one would send twice.
	keep := context.WithoutCancel(ctx)
	var (
		mu      sync.Mutex
		next    int    // the first message not handed out yet
		stopped bool   // the batch stopped short: no more are sent
		tried   []bool // messages given to the sender (their outcome is theirs to record)
		errs    []error
	)
	tried = make([]bool, len(msgs))
	take := func() (from, to int, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		if stopped || next == len(msgs) {
			return 0, 0, false
		}
		from, to = next, min(next+chunk, len(msgs))
		next = to
		return from, to, true
	}
	// proceed tells whether the next message may go: false once the batch has stopped.
	proceed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if stopped || ctx.Err() != nil || !w.wait(ctx) || time.Now().After(leaseEnd) {
			stopped = true
			return false
		}
		return true
	}
	settle := func(ok, stop bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		if ok {
			sent++
		}
		if err != nil {
			errs = append(errs, err)
		}
		stopped = stopped || stop || err != nil
	}
	// The connections record their messages as sent through one marker, which writes
	// the marks asked for at once in one statement; on PostgreSQL it reads and writes over
	// a database connection held for the batch, without waiting for the database's disk
	// (store.SentMarker): a relais crash loses none.
	marker := w.st.SentMarker()
	defer marker.Close()
	lane := func() {
		var last *recording // the connection's last message sent, its "sent" being written
		defer func() {
			if last != nil {
				settle(last.wait())
			}
		}()
		for {
			from, to, ok := take()
			if !ok {
				return
			}
			batch := make([]*model.Message, 0, to-from)
			for i := from; i < to; i++ {
				batch = append(batch, &msgs[i])
			}
			bad, err := marker.LoadBodies(keep, batch)
			if err == nil {
				err = marker.LoadSmallAttachments(keep, batch)
			}
			if err != nil {
				settle(false, true, err)
				return
			}
			for i, m := range batch {
				if !proceed() {
					return
				}
				tried[from+i] = true
				if err := bad[m.ID]; err != nil {
					// Its stored bodies cannot be written out: every attempt would fail alike.
					w.log.Error("mail: message cannot be written out, not sending it", "message_id", m.ID, "err", err)
					settle(false, false, w.st.MarkMessageFailed(keep, m.ID, err.Error()))
					continue
				}
				var held bool
				last, held = w.sendOne(keep, m, marker, last, settle)
				if held {
					// The message never reached the server: it goes back with the rest.
					tried[from+i] = false
					return
				}
			}
		}
	}
	var wg sync.WaitGroup
	for range lanes - 1 {
		wg.Go(lane)
	}
	lane()
	wg.Wait()
	// What was not given to the sender goes back to the queue.
	var rest []model.Message
	for i := range msgs {
		if !tried[i] {
			rest = append(rest, msgs[i])
		}
		msgs[i].HTMLBody, msgs[i].TextBody = "", ""
	}
	errs = append(errs, w.release(keep, rest))
	more = !stopped && len(msgs) == w.opt.Batch
	if !more {
		// All that was due is sent, or the batch stopped (the server is away, say): either
		// way nothing would go sooner if fewer registrations were written meanwhile.
		w.lag.Store(0)
	}
	return sent, more, errors.Join(errs...)
}

// laneChunk is how many messages a connection takes from a batch at a time.
const laneChunk = 16

// lanes is how many messages are sent at once: as many as the sender takes, one when a
// rate is kept.
func (w *Worker) lanes() int {
	p, ok := w.s.(interface{ Parallel() int })
	if !ok || w.opt.Rate > 0 {
		return 1
	}
	return max(1, p.Parallel())
}

// recording is a message's "sent" being written while the next message goes out.
type recording struct {
	done chan struct{}
	err  error
}

// wait waits for the record and gives its outcome, as settle takes it.
func (r *recording) wait() (ok, stop bool, err error) {
	<-r.done
	return r.err == nil, r.err != nil, r.err
}

// gate passes once the record is written, and fails if it could not be.
func (r *recording) gate() error {
	_, _, err := r.wait()
	return err
}

// sendOne sends one claimed message, its bodies read, and records the outcome (see
// outcome), handing each to settle. last is the connection's previous message, whose
// "sent" is still being written: the server takes this message only once that is done
// (its commit gate), so that a crash at any moment leaves at most one message per
// connection taken and not recorded, to go again after a restart with the same
// Message-ID. It returns this message's own recording when the server took it, and held
// when the message was kept from the server because the last one could not be recorded.
func (w *Worker) sendOne(ctx context.Context, m *model.Message, marker *store.SentMarker,
	last *recording, settle func(ok, stop bool, err error)) (rec *recording, held bool) {
	defer func() { m.Attachments, m.HTMLBody, m.TextBody = nil, "", "" }() // sent or not, no longer needed here
	// Attachments not read with the chunk's (a press kit) are read one message at a
	// time: a batch carrying one is never in memory whole.
	if err := marker.LoadAttachments(ctx, m); err != nil {
		if last != nil {
			settle(last.wait())
		}
		settle(false, true, err)
		return nil, true
	}
	sendCtx := ctx
	if last != nil {
		if _, gates := w.s.(*SMTPSender); gates {
			sendCtx = withCommitGate(ctx, last.gate)
		} else if ok, stop, err := last.wait(); !ok {
			settle(ok, stop, err)
			return nil, true
		}
	}
	sendErr := w.s.Send(sendCtx, m)
	if last != nil {
		ok, stop, err := last.wait()
		settle(ok, stop, err)
		if !ok {
			return nil, true
		}
	}
	if errors.Is(sendErr, errGateLate) {
		// Held back, never given to the server, for the database's slowness: it goes back
		// with the rest of the batch, its attempt not counted.
		settle(false, true, nil)
		return nil, true
	}
	if sendErr != nil {
		settle(w.outcome(ctx, m, sendErr))
		return nil, false
	}
	// Recorded at once, and insisted on: a message left "sending" would be sent again
	// when its lease runs out.
	rec = &recording{done: make(chan struct{})}
	id, at := m.ID, w.st.Now()
	go func() {
		defer close(rec.done)
		rec.err = w.retry(ctx, func() error { return marker.MarkSent(ctx, id, at) })
	}()
	// The message id leads to the recipient in the mailbox; an address in the logs would
	// be personal data kept outside the retention rules.
	if w.log.Enabled(ctx, slog.LevelDebug) {
		w.log.Debug("mail sent", "message_id", m.ID, "kind", m.Kind, "attempt", m.Attempts)
	}
	return rec, false
}

// outcome records what became of a message the server did not take: retried later, or
// failed for good. stop asks to leave the rest of the batch for later; err is a failure
// to record it.
func (w *Worker) outcome(ctx context.Context, m *model.Message, sendErr error) (ok, stop bool, err error) {
	log := w.log.With("message_id", m.ID, "kind", m.Kind, "attempt", m.Attempts)
	text := sendErr.Error()
	var unavailable *unavailableError
	stop = errors.As(sendErr, &unavailable)
	switch {
	case IsPermanent(sendErr):
		log.Warn("mail refused, not retrying", "err", redact(text))
		err = w.st.MarkMessageFailed(ctx, m.ID, text)
	case m.Attempts >= w.opt.MaxAttempts:
		log.Warn("mail failed, giving up", "err", redact(text))
		err = w.st.MarkMessageFailed(ctx, m.ID, text)
	default:
		delay := w.opt.Backoff(m.Attempts)
		log.Info("mail not sent, will retry", "err", redact(text), "in", delay.Round(time.Second))
		err = w.st.MarkMessageRetry(ctx, m.ID, text, w.st.Now().Add(delay))
	}
	return false, stop, err
}

// retry runs fn until it succeeds, three times at most, a moment apart.
func (w *Worker) retry(ctx context.Context, fn func() error) error {
	var err error
	for i := range 3 {
		if err = fn(); err == nil {
			return nil
		}
		time.Sleep(time.Duration(i+1) * 200 * time.Millisecond)
	}
	return err
}

// release puts claimed, unsent messages back in the queue for a restart to send.
func (w *Worker) release(ctx context.Context, msgs []model.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	ids := make([]int64, len(msgs))
	for i := range msgs {
		ids[i] = msgs[i].ID
	}
	return w.st.ReleaseMessages(ctx, ids)
}

// wait keeps to Rate; false when ctx ended first.
func (w *Worker) wait(ctx context.Context) bool {
	if w.opt.Rate <= 0 {
		return true
	}
	now := time.Now()
	if d := w.next.Sub(now); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		now = w.next
	}
	w.next = now.Add(time.Duration(float64(time.Second) / w.opt.Rate))
	return true
}

var addressPattern = regexp.MustCompile(`[^\s<>"'@]+@[^\s<>"'@]+`)

// redact hides addresses in a server's answer ("<ama@example.org>: mailbox full") from
// the logs, whatever their level: the full text stays in the outbox for the admin.
func redact(s string) string { return addressPattern.ReplaceAllString(s, "[address]") }
