package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"relais/internal/mail"
	"relais/internal/mail/mailtest"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

func TestQueuedTwiceSentOnceWithHeadersAndParts(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st, _ := openStore(t, driver)
			srv := mailtest.Start(t)
			w := newWorker(st, smtpSender(t, srv.URL), mail.WorkerOptions{})
			m := enqueue(t, st, message("reg:1:confirm"))
			if created, err := st.EnqueueMessage(context.Background(), message("reg:1:confirm")); err != nil || created {
				t.Fatalf("second enqueue: created=%v err=%v", created, err)
			}
			if n := runOnce(t, w); n != 1 {
				t.Fatalf("sent %d, want 1", n)
			}
			if n := runOnce(t, w); n != 0 {
				t.Fatalf("second run sent %d, want 0", n)
			}
			got := srv.Received()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			if got[0].From != "relais@example.org" || len(got[0].To) != 1 || got[0].To[0] != "ama@example.net" {
				t.Fatalf("envelope: %+v", got[0])
			}
			msg, leaves, structure := parse(t, got[0].Data)
			from, err := msg.Header.AddressList("From")
			if err != nil || from[0].Name != "Relais Lomé" || from[0].Address != "relais@example.org" {
				t.Fatalf("From: %v %v", from, err)
			}
			to, err := msg.Header.AddressList("To")
			if err != nil || to[0].Name != "Ama Mensah" || to[0].Address != "ama@example.net" {
				t.Fatalf("To: %v %v", to, err)
			}
			if rt := msg.Header.Get("Reply-To"); rt != "presse@example.org" {
				t.Fatalf("Reply-To: %q", rt)
			}
			if s := decodeHeader(t, msg.Header.Get("Subject")); s != "Votre billet – reg:1:confirm" {
				t.Fatalf("Subject: %q", s)
			}
			if id := msg.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") || len(id) < 30 {
				t.Fatalf("Message-ID: %q", id)
			}
			if _, err := msg.Header.Date(); err != nil {
				t.Fatalf("Date: %v", err)
			}
			if strings.Join(structure, ",") != "multipart/alternative" || len(leaves) != 2 {
				t.Fatalf("structure %v with %d parts", structure, len(leaves))
			}
			if mt, _, _ := mime.ParseMediaType(leaves[0].get("Content-Type")); mt != "text/plain" || string(leaves[0].body) != m.TextBody {
				t.Fatalf("text part: %s %q", mt, leaves[0].body)
			}
			if mt, _, _ := mime.ParseMediaType(leaves[1].get("Content-Type")); mt != "text/html" || string(leaves[1].body) != m.HTMLBody {
				t.Fatalf("html part: %s %q", mt, leaves[1].body)
			}
			if sent := find(t, st, m.ID); sent.Status != model.MessageSent || sent.SentAt == nil || sent.Attempts != 1 {
				t.Fatalf("stored: %+v", sent)
			}
		})
	}
}

func TestTemporaryRefusalIsRetriedThenDeliveredOnce(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st, _ := openStore(t, driver)
			srv := mailtest.Start(t)
			w := newWorker(st, smtpSender(t, srv.URL), mail.WorkerOptions{MaxAttempts: 5})
			m := enqueue(t, st, message("greylisted"))
			srv.RefuseTemporarily()
			for i := 1; i <= 3; i++ {
				if n := runOnce(t, w); n != 0 {
					t.Fatalf("attempt %d: sent %d while refused", i, n)
				}
				got := find(t, st, m.ID)
				if got.Status != model.MessageQueued || got.Attempts != i || !strings.HasPrefix(got.LastError, "451 ") {
					t.Fatalf("attempt %d: %s attempts=%d last error %q", i, got.Status, got.Attempts, got.LastError)
				}
			}
			srv.Accept()
			if n := runOnce(t, w); n != 1 {
				t.Fatalf("sent %d once accepted, want 1", n)
			}
			runOnce(t, w)
			if n := len(srv.Messages()); n != 1 {
				t.Fatalf("server received %d messages, want 1", n)
			}
			if got := find(t, st, m.ID); got.Status != model.MessageSent || got.LastError != "" || got.Attempts != 4 {
				t.Fatalf("stored: %s attempts=%d %q", got.Status, got.Attempts, got.LastError)
			}

			// A message refused for now at every attempt fails after MaxAttempts.
			m2 := enqueue(t, st, message("always-greylisted"))
			srv.RefuseTemporarily()
			for range 5 {
				runOnce(t, w)
			}
			if got := find(t, st, m2.ID); got.Status != model.MessageFailed || got.Attempts != 5 {
				t.Fatalf("after max attempts: %s attempts=%d", got.Status, got.Attempts)
			}
		})
	}
}

func TestPermanentRefusalFailsWithTheServersAnswer(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st, _ := openStore(t, driver)
			srv := mailtest.Start(t)
			w := newWorker(st, smtpSender(t, srv.URL), mail.WorkerOptions{})
			m := enqueue(t, st, message("bounce"))
			srv.RefusePermanently()
			runOnce(t, w)
			got := find(t, st, m.ID)
			if got.Status != model.MessageFailed || !strings.Contains(got.LastError, "550") || !strings.Contains(got.LastError, "No such user here") {
				t.Fatalf("stored: %s %q", got.Status, got.LastError)
			}
			srv.Accept()
			if n := runOnce(t, w); n != 0 || len(srv.Messages()) != 0 {
				t.Fatalf("a failed message was sent again")
			}
			// The admin's button queues it again.
			if err := st.RetryMessageNow(context.Background(), m.ID); err != nil {
				t.Fatal(err)
			}
			if n := runOnce(t, w); n != 1 {
				t.Fatalf("after retry now: sent %d", n)
			}
		})
	}
}

func TestMalformedMessageFailsWithoutReachingTheServer(t *testing.T) {
	st, _ := openStore(t, "sqlite")
	srv := mailtest.Start(t)
	w := newWorker(st, smtpSender(t, srv.URL), mail.WorkerOptions{})
	cases := map[string]func(*model.Message){
		"subject with a line break": func(m *model.Message) { m.Subject = "Billet\r\nBcc: everyone@example.com" },
		"name with a line break":    func(m *model.Message) { m.ToName = "Ama\nBcc: x@example.com" },
		"reserved extra header":     func(m *model.Message) { m.Headers = "Bcc: everyone@example.com" },
		"bad extra header name":     func(m *model.Message) { m.Headers = "X Bad: 1" },
		"bad recipient":             func(m *model.Message) { m.ToEmail = "ama at example.net" },
	}
	var ids []int64
	for name, change := range cases {
		m := message(name)
		change(m)
		ids = append(ids, enqueue(t, st, m).ID)
	}
	runOnce(t, w)
	for _, id := range ids {
		if got := find(t, st, id); got.Status != model.MessageFailed || !strings.HasPrefix(got.LastError, "not sent:") {
			t.Errorf("%s: %s %q", got.IdempotencyKey, got.Status, got.LastError)
		}
	}
	if srv.Connections() != 0 {
		t.Fatalf("the server was contacted %d times", srv.Connections())
	}
	// Allowed extra headers go through.
	m := message("list-unsubscribe")
	m.Headers = "List-Unsubscribe: <https://relais.example.org/u/abc>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
	enqueue(t, st, m)
	if n := runOnce(t, w); n != 1 {
		t.Fatalf("sent %d", n)
	}
	msg, _, _ := parse(t, srv.Messages()[0])
	if v := msg.Header.Get("List-Unsubscribe"); v != "<https://relais.example.org/u/abc>" {
		t.Fatalf("List-Unsubscribe: %q", v)
	}
}

// stopAfter cancels the worker's context once it has sent n messages through the real
// SMTP sender, as SIGTERM arriving mid-batch would.
type stopAfter struct {
	mail.Sender
	n      int
	cancel context.CancelFunc
}

func (s *stopAfter) Send(ctx context.Context, m *model.Message) error {
	err := s.Sender.Send(ctx, m)
	if s.n--; s.n == 0 {
		s.cancel()
	}
	return err
}

func TestStopOrCrashThenRestartSendsEachMessageOnce(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st, clk := openStore(t, driver)
			srv := mailtest.Start(t)
			var ids []int64
			for i := range 4 {
				ids = append(ids, enqueue(t, st, message(fmt.Sprint("stop-", i))).ID)
			}

			// Stopped after two messages: the other two go back to the queue, unsent.
			ctx, cancel := context.WithCancel(context.Background())
			first := newWorker(st, &stopAfter{Sender: smtpSender(t, srv.URL), n: 2, cancel: cancel}, mail.WorkerOptions{})
			if n, err := first.RunOnce(ctx); err != nil || n != 2 {
				t.Fatalf("first worker: sent %d, %v", n, err)
			}
			for _, id := range ids[2:] {
				if got := find(t, st, id); got.Status != model.MessageQueued || got.Attempts != 0 {
					t.Fatalf("released message: %s attempts=%d", got.Status, got.Attempts)
				}
			}
			// Crashed after claiming: the claim holds until its lease runs out.
			lease := time.Minute
			if claimed, err := st.ClaimMessages(context.Background(), 10, lease); err != nil || len(claimed) != 2 {
				t.Fatalf("crashing worker claimed %d, %v", len(claimed), err)
			}
			second := newWorker(st, smtpSender(t, srv.URL), mail.WorkerOptions{Lease: lease})
			if n := runOnce(t, second); n != 0 {
				t.Fatalf("sent %d messages still leased to the crashed worker", n)
			}
			clk.Add(lease)
			if n := runOnce(t, second); n != 2 {
				t.Fatalf("after the lease: sent %d, want 2", n)
			}
			runOnce(t, second)
			assertEachOnce(t, srv, 4)
		})
	}
}

// assertEachOnce checks that the server received want messages, all different.
func assertEachOnce(t *testing.T, srv *mailtest.Server, want int) {
	t.Helper()
	seen := map[string]int{}
	for _, raw := range srv.Messages() {
		msg, _, _ := parse(t, raw)
		seen[decodeHeader(t, msg.Header.Get("Subject"))]++
	}
	if len(seen) != want {
		t.Fatalf("server received %d different messages, want %d: %v", len(seen), want, seen)
	}
	for s, n := range seen {
		if n != 1 {
			t.Fatalf("%q received %d times", s, n)
		}
	}
}

// notify reports each message the real sender delivered.
type notify struct {
	mail.Sender
	sent chan int64
}

func (s *notify) Send(ctx context.Context, m *model.Message) error {
	err := s.Sender.Send(ctx, m)
	if err == nil {
		s.sent <- m.ID
	}
	return err
}

func TestRunSendsWhenKickedAndStopsCleanly(t *testing.T) {
	st, _ := openStore(t, "sqlite")
	srv := mailtest.Start(t)
	s := &notify{Sender: smtpSender(t, srv.URL), sent: make(chan int64, 10)}
	w := newWorker(st, s, mail.WorkerOptions{Poll: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	first := enqueue(t, st, message("first")) // queued before the worker starts: no race with its first look
	go func() { done <- w.Run(ctx) }()
	waitSent := func(id int64) {
		t.Helper()
		select {
		case got := <-s.sent:
			if got != id {
				t.Fatalf("sent %d, want %d", got, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d not sent", id)
		}
	}
	waitSent(first.ID) // the first look at the queue finds it
	m := enqueue(t, st, message("second"))
	w.Kick() // no poll for an hour: only the kick sends it
	waitSent(m.ID)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// holdOne holds the send of one message (hold's idempotency key) until release is
// closed, after saying so on reached; it reports each message delivered on sent.
type holdOne struct {
	notify
	hold    atomic.Pointer[held]
	reached chan int64
}

type held struct {
	key     string
	release chan struct{}
}

func (s *holdOne) Send(ctx context.Context, m *model.Message) error {
	if h := s.hold.Load(); h != nil && m.IdempotencyKey == h.key {
		s.reached <- m.ID
		<-h.release
	}
	return s.notify.Send(ctx, m)
}

// A full batch makes the worker claim the next one while it sends: that batch is
// claimed before mail queued during the send. Mail queued then, with its kick, still
// goes right after, not at the next poll. Each round has an even chance to hit the
// case where the kick is taken while the batch claimed ahead is waiting.
func TestMailQueuedWhileAFullBatchIsSentGoesAtOnce(t *testing.T) {
	st, _ := openStore(t, "sqlite")
	srv := mailtest.Start(t)
	s := &holdOne{notify: notify{Sender: smtpSender(t, srv.URL), sent: make(chan int64, 100)},
		reached: make(chan int64, 1)}
	w := newWorker(st, s, mail.WorkerOptions{Batch: 2, Poll: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	started := false
	for round := range 8 {
		time.Sleep(20 * time.Millisecond) // the worker done with the last round
		h := &held{key: fmt.Sprintf("a%d", round), release: make(chan struct{})}
		s.hold.Store(h)
		a := enqueue(t, st, message(fmt.Sprintf("a%d", round)))
		b := enqueue(t, st, message(fmt.Sprintf("b%d", round)))
		if !started {
			go func() { done <- w.Run(ctx) }()
			started = true
		} else {
			w.Kick()
		}
		select {
		case <-s.reached: // the full batch [a, b] is being sent; the next is claimed ahead
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: the full batch was not sent", round)
		}
		late := enqueue(t, st, message(fmt.Sprintf("late%d", round)))
		w.Kick()
		close(h.release)
		want := map[int64]bool{a.ID: true, b.ID: true, late.ID: true}
		for len(want) > 0 {
			select {
			case id := <-s.sent:
				delete(want, id)
			case <-time.After(5 * time.Second):
				t.Fatalf("round %d: messages %v not sent (the poll is an hour away)", round, want)
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestAttachmentsInlineAndNonASCII(t *testing.T) {
	srv := mailtest.Start(t)
	s := smtpSender(t, srv.URL)
	png := []byte("\x89PNG\r\n\x1a\n fake image")
	pdf := bytes.Repeat([]byte("%PDF-1.4 dossier "), 500)
	m := message("attachments")
	m.ID = 42
	m.HTMLBody = `<p><img src="cid:logo@relais" alt="Logo"></p>`
	m.Attachments = []model.Attachment{
		{Filename: "logo.png", ContentType: "image/png", ContentID: "logo@relais", Inline: true, Data: png},
		{Filename: "Dossier de presse – Journée des télécoms.pdf", ContentType: "application/pdf", Data: pdf},
	}
	// Twice: a retry must carry the whole files again.
	for range 2 {
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	raws := srv.Messages()
	if len(raws) != 2 {
		t.Fatalf("received %d", len(raws))
	}
	for _, raw := range raws {
		_, leaves, structure := parse(t, raw)
		if strings.Join(structure, ",") != "multipart/mixed,multipart/related,multipart/alternative" {
			t.Fatalf("structure: %v", structure)
		}
		var inline, attached *part
		for i := range leaves {
			switch {
			case leaves[i].get("Content-Id") != "":
				inline = &leaves[i]
			case strings.HasPrefix(leaves[i].get("Content-Disposition"), "attachment"):
				attached = &leaves[i]
			}
		}
		if inline == nil || inline.get("Content-Id") != "<logo@relais>" || !bytes.Equal(inline.body, png) ||
			!strings.HasPrefix(inline.get("Content-Disposition"), "inline") {
			t.Fatalf("inline part: %+v", inline)
		}
		if attached == nil || !bytes.Equal(attached.body, pdf) {
			t.Fatalf("attachment missing or cut (%d bytes)", len(attached.body))
		}
		cd := attached.get("Content-Disposition")
		if !isASCII(cd) || !strings.Contains(cd, "filename*=utf-8''") {
			t.Fatalf("Content-Disposition not encoded: %q", cd)
		}
		if _, params, err := mime.ParseMediaType(cd); err != nil || params["filename"] != m.Attachments[1].Filename {
			t.Fatalf("Content-Disposition decodes to %q (%v)", params["filename"], err)
		}
		ct := attached.get("Content-Type")
		_, params, err := mime.ParseMediaType(ct)
		if err != nil || !isASCII(ct) || decodeHeader(t, params["name"]) != m.Attachments[1].Filename {
			t.Fatalf("Content-Type name: %q", ct)
		}
	}
}

func isASCII(s string) bool {
	for _, r := range s {
		if r > 127 {
			return false
		}
	}
	return true
}

func TestKeepSenderMarksSentWithoutNetwork(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st, _ := openStore(t, driver)
			s, err := mail.NewSender("")
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := s.(mail.KeepSender); !ok {
				t.Fatalf("NewSender(\"\") = %T", s)
			}
			m := enqueue(t, st, message("kept"))
			if n := runOnce(t, newWorker(st, s, mail.WorkerOptions{})); n != 1 {
				t.Fatalf("sent %d", n)
			}
			if got := find(t, st, m.ID); got.Status != model.MessageSent || got.HTMLBody != m.HTMLBody {
				t.Fatalf("kept: %s", got.Status)
			}
		})
	}
}

func TestConnectionReusedRedialledAndServerDown(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st, _ := openStore(t, driver)
			srv := mailtest.Start(t)
			// One connection: the batch goes in order, and stops at the first failure.
			w := newWorker(st, smtpSender(t, srv.URL+"&connections=1"), mail.WorkerOptions{})
			for i := range 5 {
				enqueue(t, st, message(fmt.Sprint("batch-", i)))
			}
			if n := runOnce(t, w); n != 5 || srv.Connections() != 1 {
				t.Fatalf("sent %d over %d connections, want 5 over 1", n, srv.Connections())
			}

			// The server ends the idle connection with a 421: the next message dials again.
			srv.DropConnections()
			enqueue(t, st, message("after-421"))
			if n := runOnce(t, w); n != 1 || srv.Connections() != 2 {
				t.Fatalf("after 421: sent %d over %d connections", n, srv.Connections())
			}
			// The server restarts (the connection just closes): same.
			srv.Down()
			srv.Up()
			enqueue(t, st, message("after-restart"))
			if n := runOnce(t, w); n != 1 || srv.Connections() != 3 {
				t.Fatalf("after restart: sent %d over %d connections", n, srv.Connections())
			}

			// Down: nothing is lost, the batch waits for the server.
			srv.Down()
			a := enqueue(t, st, message("down-a"))
			b := enqueue(t, st, message("down-b"))
			if n := runOnce(t, w); n != 0 {
				t.Fatalf("sent %d while down", n)
			}
			if got := find(t, st, a.ID); got.Status != model.MessageQueued || !strings.Contains(got.LastError, "unavailable") {
				t.Fatalf("first while down: %s %q", got.Status, got.LastError)
			}
			if got := find(t, st, b.ID); got.Status != model.MessageQueued || got.Attempts != 0 {
				t.Fatalf("rest of the batch while down: %s attempts=%d", got.Status, got.Attempts)
			}
			srv.Up()
			if n := runOnce(t, w); n != 2 {
				t.Fatalf("sent %d once up", n)
			}
			assertEachOnce(t, srv, 9)
		})
	}
}

func TestAuthenticatedSending(t *testing.T) {
	st, _ := openStore(t, "sqlite")
	srv := mailtest.Start(t)
	srv.RequireAuth("relais", "s3cret")
	url := strings.Replace(srv.URL, "smtp://", "smtp://relais:s3cret@", 1)
	m := enqueue(t, st, message("auth"))
	bad := newWorker(st, smtpSender(t, strings.Replace(url, "s3cret", "wrong", 1)), mail.WorkerOptions{})
	runOnce(t, bad)
	if got := find(t, st, m.ID); got.Status != model.MessageQueued {
		t.Fatalf("a refused login failed the message: %s %q", got.Status, got.LastError)
	}
	if n := runOnce(t, newWorker(st, smtpSender(t, url), mail.WorkerOptions{})); n != 1 {
		t.Fatalf("sent %d with the right password", n)
	}
}

func TestConcurrentWorkersNeverSendTheSameMessage(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			// Two instances: their own store handles and SMTP connections, one database.
			ctx := context.Background()
			url := storetest.URL(t, driver)
			srv := mailtest.Start(t)
			var workers []*mail.Worker
			for i := range 2 {
				st, err := store.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				if i == 0 {
					if err := st.Migrate(ctx); err != nil {
						t.Fatal(err)
					}
					for j := range 60 {
						enqueue(t, st, message(fmt.Sprint("campaign-", j)))
					}
				}
				workers = append(workers, newWorker(st, smtpSender(t, srv.URL), mail.WorkerOptions{Batch: 5}))
			}
			var wg sync.WaitGroup
			for _, w := range workers {
				wg.Go(func() {
					for {
						n, err := w.RunOnce(ctx)
						if err != nil {
							t.Error(err)
							return
						}
						if n == 0 {
							return
						}
					}
				})
			}
			wg.Wait()
			assertEachOnce(t, srv, 60)
		})
	}
}

func TestSeveralConnectionsSendEachOnceAndRecordEachAtOnce(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st, _ := openStore(t, driver)
			srv := mailtest.Start(t)
			ids := map[string]int64{} // recipient → message
			for i := range 40 {
				m := message(fmt.Sprint("lanes-", i))
				m.ToEmail = fmt.Sprintf("blogueur%d@example.net", i)
				ids[m.ToEmail] = enqueue(t, st, m).ID
			}
			// When the server takes a message, the messages it took before are recorded as
			// sent but for those whose connection is still waiting for the answer: a crash
			// at any moment leaves at most one message per connection to send again.
			var mu sync.Mutex
			var taken []string
			srv.OnAccept(func(r mailtest.Received) {
				mu.Lock()
				defer mu.Unlock()
				var unrecorded []string
				for _, to := range taken {
					m, err := st.FindMessage(context.Background(), ids[to])
					if err != nil || m.Status != model.MessageSent {
						unrecorded = append(unrecorded, to)
					}
				}
				if len(unrecorded) > 2 {
					t.Errorf("taking the message to %s: %d taken before are not recorded as sent (%v), want at most 2 (one per other connection)", r.To[0], len(unrecorded), unrecorded)
				}
				taken = append(taken, r.To[0])
			})
			// Batches of 4, each a marker shared by the connections: none may keep a
			// database connection (the pool is counted after).
			w := newWorker(st, smtpSender(t, srv.URL+"&connections=3"), mail.WorkerOptions{Batch: 4})
			sent := 0
			for range 10 {
				sent += runOnce(t, w)
			}
			if sent != 40 {
				t.Fatalf("sent %d, want 40", sent)
			}
			if inUse := st.SQLDB().Stats().InUse; inUse != 0 {
				t.Errorf("%d database connections still in use after the batches", inUse)
			}
			if c := srv.Connections(); c < 2 || c > 3 {
				t.Errorf("%d connections, want 2 or 3 of the 3 allowed", c)
			}
			got := map[string]int{}
			for _, r := range srv.Received() {
				got[r.To[0]]++
			}
			for to, id := range ids {
				if got[to] != 1 {
					t.Errorf("%s received %d messages, want 1", to, got[to])
				}
				if m := find(t, st, id); m.Status != model.MessageSent {
					t.Errorf("message to %s: %s, want sent", to, m.Status)
				}
			}
		})
	}
}

// TestCommitGateHoldsTheMessageBack sends through a commit gate, as the worker does while
// the connection's previous message is being recorded: the gate runs once the data has
// gone out and before the server has taken the message; when it fails the server never
// takes the message, though go-mail ends the data after an error.
func TestCommitGateHoldsTheMessageBack(t *testing.T) {
	defer mail.SetSMTPTimeout(time.Second)()
	srv := mailtest.Start(t)
	s := smtpSender(t, srv.URL+"&connections=1")
	ctx := context.Background()

	var atGate int
	passes := func() error { atGate = len(srv.Received()); return nil }
	if err := s.Send(mail.WithCommitGate(ctx, passes), message("gate-passes")); err != nil {
		t.Fatal(err)
	}
	if atGate != 0 || len(srv.Received()) != 1 {
		t.Fatalf("the server had taken %d messages when the gate ran, %d after; want 0 then 1", atGate, len(srv.Received()))
	}

	recordFailed := errors.New("could not record the previous message")
	err := s.Send(mail.WithCommitGate(ctx, func() error { return recordFailed }), message("gate-fails"))
	if !errors.Is(err, recordFailed) || mail.IsPermanent(err) {
		t.Fatalf("Send with a failing gate: %v, want the gate's error, temporary", err)
	}
	time.Sleep(200 * time.Millisecond) // anything the server was about to take, it has
	if n := len(srv.Received()); n != 1 {
		t.Fatalf("the server took %d messages, want only the first", n)
	}
	// The connection is dropped with the message; the next one goes on a new connection.
	if err := s.Send(ctx, message("after")); err != nil || len(srv.Received()) != 2 {
		t.Fatalf("after a held message: %v, %d received", err, len(srv.Received()))
	}

	// A gate that passes too close to the deadline holds the message back too: the
	// server's answer could come too late, and a message it took would go again.
	late := func() error { time.Sleep(800 * time.Millisecond); return nil }
	if err := s.Send(mail.WithCommitGate(ctx, late), message("gate-late")); err == nil || mail.IsPermanent(err) {
		t.Fatalf("Send with a late gate: %v, want a temporary error", err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(srv.Received()); n != 2 {
		t.Fatalf("the server took %d messages, want 2", n)
	}
}

// A message whose stored bodies cannot be written out (its values damaged) fails with
// the reason, and the rest of the batch goes.
func TestUnreadableBodyFailsAloneAndTheRestGoes(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st, _ := openStore(t, driver)
			srv := mailtest.Start(t)
			ctx := context.Background()
			var html model.BodyWriter
			html.Literal("<p>Bonjour ")
			html.Slot(0, true)
			tmpl := &model.BodyTemplate{HTMLBody: html.String(), TextBody: "Bonjour"}
			if err := st.CreateBodyTemplate(ctx, tmpl); err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for i := range 3 {
				m := message(fmt.Sprint("shared-", i))
				m.HTMLBody, m.TextBody, m.BodyTemplate, m.BodyValues = "", "", tmpl, []string{fmt.Sprint("Ama", i)}
				ids = append(ids, enqueue(t, st, m).ID)
			}
			if _, err := st.SQLDB().ExecContext(ctx, fmt.Sprintf("UPDATE message_bodies SET vals = 'abîmé' WHERE message_id = %d", ids[1])); err != nil {
				t.Fatal(err)
			}
			w := newWorker(st, smtpSender(t, srv.URL), mail.WorkerOptions{})
			if n := runOnce(t, w); n != 2 || len(srv.Received()) != 2 {
				t.Fatalf("sent %d, received %d; want 2", n, len(srv.Received()))
			}
			if m := find(t, st, ids[1]); m.Status != model.MessageFailed || !strings.Contains(m.LastError, "values") {
				t.Fatalf("damaged message: %s %q", m.Status, m.LastError)
			}
			for _, r := range srv.Received() {
				if !strings.Contains(string(r.Data), "Bonjour Ama") {
					t.Fatalf("sent without its values written out:\n%s", r.Data)
				}
			}
		})
	}
}

// Lag says how late the mail the worker claims is: registrations give way to the
// confirmations while it is large. It falls back to zero once everything due is sent,
// and when the server is away (the mail would go no sooner for it); a worker keeping a
// rate, or mail tried before, reports none.
func TestLagSaysHowLateTheMailIs(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			st, clk := openStore(t, driver)
			srv := mailtest.Start(t)
			w := newWorker(st, smtpSender(t, srv.URL), mail.WorkerOptions{Batch: 2})
			if lag := w.Lag(); lag != 0 {
				t.Fatalf("lag before any claim: %v", lag)
			}
			for i := range 3 {
				enqueue(t, st, message(fmt.Sprint("lag-", i)))
			}
			clk.Add(3 * time.Second)
			if n := runOnce(t, w); n != 2 {
				t.Fatalf("sent %d, want a full batch of 2", n)
			}
			if lag := w.Lag(); lag != 3*time.Second {
				t.Fatalf("lag after a full batch due 3 s ago: %v", lag)
			}
			if n := runOnce(t, w); n != 1 {
				t.Fatalf("sent %d, want the last one", n)
			}
			if lag := w.Lag(); lag != 0 {
				t.Fatalf("lag once all that was due is sent: %v", lag)
			}

			down := newWorker(st, smtpSender(t, "smtp://127.0.0.1:1?tls=none"), mail.WorkerOptions{Batch: 1})
			late := enqueue(t, st, message("lag-down"))
			clk.Add(5 * time.Second)
			if n := runOnce(t, down); n != 0 {
				t.Fatalf("server away: sent %d", n)
			}
			if m := find(t, st, late.ID); m.Status != model.MessageQueued || m.Attempts != 1 {
				t.Fatalf("server away: the message is %s after %d attempts, want queued after 1", m.Status, m.Attempts)
			}
			if lag := down.Lag(); lag != 0 {
				t.Fatalf("lag with the server away: %v", lag)
			}

			// Mail tried before (here, while the server was away) is not counted: a retry or
			// a message taken over from a stopped worker was due long ago.
			again := newWorker(st, smtpSender(t, srv.URL), mail.WorkerOptions{Batch: 1})
			clk.Add(2 * time.Second)
			if n := runOnce(t, again); n != 1 {
				t.Fatalf("the retry: sent %d", n)
			}
			if lag := again.Lag(); lag != 0 {
				t.Fatalf("lag of a retry: %v", lag)
			}

			// Under a rate, the mail goes at its pace whatever else runs: no lag to make up.
			slow := newWorker(st, smtpSender(t, srv.URL), mail.WorkerOptions{Batch: 1, Rate: 1000})
			enqueue(t, st, message("lag-rate-1"))
			enqueue(t, st, message("lag-rate-2"))
			clk.Add(5 * time.Second)
			if n := runOnce(t, slow); n != 1 {
				t.Fatalf("under a rate: sent %d, want a full batch of 1", n)
			}
			if lag := slow.Lag(); lag != 0 {
				t.Fatalf("lag under a rate: %v", lag)
			}
		})
	}
}
