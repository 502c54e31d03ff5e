package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-mail/mail"
	"github.com/labstack/echo/v4"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// floorRow and floorTicket are the bare tables of the floor server.
type floorRow struct {
	ID        int64
	Email     string `gorm:"uniqueIndex"`
	CreatedAt time.Time
}

type floorTicket struct {
	ID          int64
	Code        string `gorm:"uniqueIndex"`
	CheckedInAt *time.Time
}

// floorServer is the stack's floor: Echo with one GORM statement per request, on the
// same kind of database, configured as Relais configures it.
type floorServer struct {
	db   *gorm.DB
	srv  *http.Server
	base string
}

func startFloor(driver, dsn string, tickets int) (*floorServer, error) {
	cfg := &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true}
	var db *gorm.DB
	var err error
	if driver == "sqlite" {
		db, err = gorm.Open(sqlite.Open("file:"+dsn+"?_busy_timeout=10000&_foreign_keys=on&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"), cfg)
		if err == nil {
			sqldb, _ := db.DB()
			sqldb.SetMaxOpenConns(1)
		}
	} else {
		db, err = gorm.Open(postgres.Open(dsn), cfg)
		if err == nil {
			sqldb, _ := db.DB()
			sqldb.SetMaxOpenConns(20)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := db.AutoMigrate(&floorRow{}, &floorTicket{}); err != nil {
		return nil, err
	}
	batch := make([]floorTicket, 0, 500)
	for i := 0; i < tickets; i++ {
		batch = append(batch, floorTicket{Code: fmt.Sprintf("FLOOR-%08d", i)})
		if len(batch) == cap(batch) || i == tickets-1 {
			if err := db.Create(&batch).Error; err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/register", func(c echo.Context) error {
		if err := db.Create(&floorRow{Email: c.FormValue("email"), CreatedAt: time.Now()}).Error; err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/t/x")
	})
	e.POST("/checkin", func(c echo.Context) error {
		var in struct{ Code string }
		if err := c.Bind(&in); err != nil {
			return err
		}
		now := time.Now()
		res := db.Model(&floorTicket{}).Where("code = ? AND checked_in_at IS NULL", in.Code).Update("checked_in_at", &now)
		if res.Error != nil {
			return res.Error
		}
		return c.JSON(http.StatusOK, map[string]any{"ok": res.RowsAffected == 1})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &floorServer{db: db, srv: &http.Server{Handler: e}, base: "http://" + ln.Addr().String()}
	go f.srv.Serve(ln)
	return f, nil
}

// settle copies the floor's SQLite log back into its database and empties it, as
// relais' checkpointer keeps its own short (nothing on PostgreSQL).
func (f *floorServer) settle() {
	if f.db.Dialector.Name() == "sqlite" {
		f.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
}

func (f *floorServer) close() {
	f.srv.Shutdown(context.Background())
	if d, err := f.db.DB(); err == nil {
		d.Close()
	}
}

// smtpFloor sends n messages over one connection with go-mail and returns messages/s.
func smtpFloor(addr string, n int) (float64, error) {
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	d := mail.NewDialer(host, p, "", "")
	d.StartTLSPolicy = mail.NoStartTLS
	s, err := d.Dial()
	if err != nil {
		return 0, err
	}
	defer s.Close()
	body := strings.Repeat("Merci d’avoir participé à la session. ", 60)
	start := time.Now()
	for i := 0; i < n; i++ {
		m := mail.NewMessage()
		m.SetHeader("From", "relais@bench.invalid")
		m.SetHeader("To", fmt.Sprintf("floor%d@bench.invalid", i))
		m.SetHeader("Subject", "Merci")
		m.SetBody("text/plain", body)
		m.AddAlternative("text/html", "<p>"+body+"</p>")
		if err := mail.Send(s, m); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
