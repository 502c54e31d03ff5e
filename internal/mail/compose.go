package mail

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"net/textproto"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/go-mail/mail"

	"relais/internal/model"
)

// envelope is what the SMTP conversation needs besides the message itself.
type envelope struct {
	from string
	to   []string
}

// compose builds the MIME message for m as it goes over the wire. An error is a
// *PermanentError: a message that is malformed now will be malformed at every attempt.
func compose(m *model.Message, now time.Time) (*gomail.Message, envelope, error) {
	from, err := bareAddress("sender", m.FromEmail)
	if err != nil {
		return nil, envelope{}, err
	}
	to, err := bareAddress("recipient", m.ToEmail)
	if err != nil {
		return nil, envelope{}, err
	}
	for what, v := range map[string]string{"subject": m.Subject, "sender name": m.FromName, "recipient name": m.ToName} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, envelope{}, refuse("the %s contains a line break", what)
		}
	}
	msg := gomail.NewMessage()
	msg.SetAddressHeader("From", from, m.FromName)
	msg.SetAddressHeader("To", to, m.ToName)
	if m.ReplyTo != "" {
		replyTo, err := bareAddress("reply-to", m.ReplyTo)
		if err != nil {
			return nil, envelope{}, err
		}
		msg.SetAddressHeader("Reply-To", replyTo, "")
	}
	msg.SetHeader("Subject", m.Subject)
	msg.SetDateHeader("Date", now)
	msg.SetHeader("Message-ID", messageID(m, from))
	extra, err := parseHeaders(m.Headers)
	if err != nil {
		return nil, envelope{}, err
	}
	for name, values := range extra {
		msg.SetHeader(name, values...)
	}
	switch {
	case m.TextBody != "" && m.HTMLBody != "":
		msg.SetBody("text/plain", m.TextBody)
		msg.AddAlternative("text/html", m.HTMLBody)
	case m.HTMLBody != "":
		msg.SetBody("text/html", m.HTMLBody)
	default:
		msg.SetBody("text/plain", m.TextBody)
	}
	for _, a := range m.Attachments {
		if err := addFile(msg, a); err != nil {
			return nil, envelope{}, err
		}
	}
	return msg, envelope{from: from, to: []string{to}}, nil
}

func refuse(format string, args ...any) *PermanentError {
	return &PermanentError{Text: "not sent: " + fmt.Sprintf(format, args...)}
}

// bareAddress checks that s is one plain address (no name, no list).
func bareAddress(what, s string) (string, error) {
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", refuse("the %s address %q is not valid", what, s)
	}
	return a.Address, nil
}

// messageID is "<random@domain-of-from>". The random part is derived from the stored
// message, so every attempt of one message carries the same id and a receiver can
// recognise a copy sent again after a lost reply; a message not yet stored gets a fresh one.
func messageID(m *model.Message, from string) string {
	domain := from[strings.LastIndexByte(from, '@')+1:]
	var local string
	if m.ID != 0 {
		sum := sha256.Sum256(fmt.Appendf(nil, "relais-message\x00%d\x00%s\x00%d", m.ID, m.IdempotencyKey, m.CreatedAt.UnixNano()))
		local = hex.EncodeToString(sum[:16])
	} else {
		local = strings.ToLower(rand.Text())
	}
	return "<" + local + "@" + domain + ">"
}

// parseHeaders reads "Name: value" lines. A name must be a plain header name and not
// one that compose writes itself; a value may not hide a line break.
func parseHeaders(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for line := range strings.Lines(s) {
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validHeaderName(name) {
			return nil, refuse("extra header line %q is not \"Name: value\"", line)
		}
		if strings.ContainsAny(value, "\r\n") {
			return nil, refuse("extra header %s contains a line break", name)
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		if reservedHeader(name) {
			return nil, refuse("extra header %s may not be set", name)
		}
		out[name] = append(out[name], strings.TrimSpace(value))
	}
	return out, nil
}

// reservedHeader reports a (canonical) name that compose writes from the message's own
// fields: extra headers may not set it, so a Bcc or a second From slipped into Headers
// reaches no one.
func reservedHeader(name string) bool {
	switch name {
	case "From", "Sender", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-Id",
		"Mime-Version", "Return-Path", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition":
		return true
	}
	return false
}

// validHeaderName follows RFC 5322: printable ASCII but the colon, no space.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// addFile adds an attachment, or an inline part referenced from the HTML as cid:ContentID.
// The bytes are written afresh at every send, so a retry carries the whole file again.
func addFile(msg *gomail.Message, a model.Attachment) error {
	name := safeFilename(a.Filename)
	disposition := "attachment"
	h := map[string][]string{}
	if a.Inline {
		disposition = "inline"
		cid := a.ContentID
		if cid == "" {
			cid = name
		}
		if strings.ContainsAny(cid, "<>\r\n \t\"") || !isASCII(cid) {
			return refuse("inline part %q has an invalid content id", name)
		}
		h["Content-ID"] = []string{"<" + cid + ">"}
	}
	h["Content-Type"] = []string{fileContentType(a.ContentType, name)}
	h["Content-Disposition"] = []string{fileDisposition(disposition, name)}
	data := a.Data
	settings := []gomail.FileSetting{
		gomail.SetHeader(h),
		gomail.SetCopyFunc(func(w io.Writer) error { _, err := w.Write(data); return err }),
	}
	if a.Inline {
		msg.Embed(name, settings...)
	} else {
		msg.Attach(name, settings...)
	}
	return nil
}

// safeFilename keeps a file name a receiver can save: no directories, no control characters.
func safeFilename(name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case r < 32 || r == 127 || r == utf8.RuneError:
			return -1
		case r == '/' || r == '\\':
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	return name
}

// fileContentType is the part's type with its name parameter; a non-ASCII name is an
// RFC 2047 encoded word, which is what most mail clients read there.
func fileContentType(contentType, name string) string {
	base, params, err := mime.ParseMediaType(contentType)
	if err != nil || contentType == "" {
		base, params = "", map[string]string{}
		if t := mime.TypeByExtension(path.Ext(name)); t != "" {
			base, params, _ = mime.ParseMediaType(t)
		}
		if base == "" {
			base, params = "application/octet-stream", map[string]string{}
		}
	}
	params["name"] = name
	if !isASCII(name) {
		params["name"] = mime.QEncoding.Encode("utf-8", name)
	}
	if v := mime.FormatMediaType(base, params); v != "" {
		return v
	}
	return "application/octet-stream"
}

// fileDisposition gives the file name plainly when it is ASCII; otherwise both as an RFC
// 2047 encoded word (older clients) and as an RFC 2231 filename* (which RFC 6266 prefers).
func fileDisposition(disposition, name string) string {
	if isASCII(name) {
		return mime.FormatMediaType(disposition, map[string]string{"filename": name})
	}
	star := mime.FormatMediaType(disposition, map[string]string{"filename": name}) // disposition; filename*=utf-8''…
	word := mime.QEncoding.Encode("utf-8", name)
	return disposition + `; filename="` + word + `"` + strings.TrimPrefix(star, disposition)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
