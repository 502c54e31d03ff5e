package config

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsRunWithNothing(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Database != "sqlite:data/relais.db" || c.Lang != "fr" || c.Timezone != "Africa/Lome" || c.SMTPURL != "" || c.Addr != ":8080" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	p := filepath.Join(t.TempDir(), "relais.toml")
	os.WriteFile(p, []byte("lang = \"en\"\nmail_rate = 5\naddr = \":9000\"\nsession_idle = \"30m\"\n"), 0o600)
	c, err := Load(p, env(map[string]string{"RELAIS_ADDR": "127.0.0.1:7000"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Lang != "en" || c.MailRate != 5 || c.Addr != "127.0.0.1:7000" || c.SessionIdle.Minutes() != 30 {
		t.Fatalf("%+v", c)
	}
}

func TestWrongValuesNameTheKey(t *testing.T) {
	for _, tc := range []struct{ key, val, want string }{
		{"RELAIS_DATABASE", "mysql://x", "database (RELAIS_DATABASE)"},
		{"RELAIS_LANG", "de", "lang (RELAIS_LANG)"},
		{"RELAIS_TIMEZONE", "Mars/Olympus", "timezone (RELAIS_TIMEZONE)"},
		{"RELAIS_SMTP_URL", "smtp://host:99999", "smtp_url (RELAIS_SMTP_URL)"},
		{"RELAIS_SMTP_URL", "smtp://host?tls=maybe", "smtp_url"},
		{"RELAIS_BASE_URL", "localhost:8080", "base_url (RELAIS_BASE_URL)"},
		{"RELAIS_BASE_URL", "https://gouv.tg/relais", "base_url (RELAIS_BASE_URL)"},
		{"RELAIS_ADDR", "8080", "addr (RELAIS_ADDR)"},
		{"RELAIS_SECRET_KEY", "short", "secret_key"},
		{"RELAIS_MAIL_RATE", "fast", "mail_rate"},
		{"RELAIS_MAIL_FROM", "not an address", "mail_from"},
		{"RELAIS_SESSION_IDLE", "forever", "session_idle"},
		{"RELAIS_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example.tg", "trusted_proxies (RELAIS_TRUSTED_PROXIES)"},
		{"RELAIS_TRUSTED_PROXIES", "203.0.113.0/33", "trusted_proxies"},
	} {
		_, err := Load("", env(map[string]string{tc.key: tc.val}))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%s: %v (want one line naming %q)", tc.key, tc.val, err, tc.want)
		}
	}
	if _, err := Load("/nonexistent/relais.toml", env(nil)); err == nil {
		t.Error("missing config file accepted")
	}
}

// A base URL written with a trailing slash gives links without a double one.
func TestBaseURLTrailingSlash(t *testing.T) {
	c, err := Load("", env(map[string]string{"RELAIS_BASE_URL": "https://relais.example.tg/"}))
	if err != nil || c.BaseURL != "https://relais.example.tg" {
		t.Fatalf("%q %v", c.BaseURL, err)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	nets, err := ParseTrustedProxies(" 203.0.113.0/24, 198.51.100.7 ,2001:db8::1,")
	if err != nil || len(nets) != 3 {
		t.Fatalf("%v %v", nets, err)
	}
	for _, tc := range []struct {
		ip   string
		want bool
	}{{"203.0.113.200", true}, {"203.0.114.1", false}, {"198.51.100.7", true}, {"198.51.100.8", false}, {"2001:db8::1", true}, {"2001:db8::2", false}} {
		in := false
		for _, n := range nets {
			in = in || n.Contains(net.ParseIP(tc.ip))
		}
		if in != tc.want {
			t.Errorf("%s trusted: %v, want %v", tc.ip, in, tc.want)
		}
	}
	if nets, err := ParseTrustedProxies(""); err != nil || len(nets) != 0 {
		t.Errorf("empty: %v %v", nets, err)
	}
}

func TestParseSMTPAndRedact(t *testing.T) {
	s, err := ParseSMTP("smtp://user:s3cret@mail.example.tg:587?tls=starttls")
	if err != nil || s.Host != "mail.example.tg" || s.Port != 587 || s.Password != "s3cret" {
		t.Fatalf("%+v %v", s, err)
	}
	if r := Redacted("smtp://user:s3cret@mail.example.tg:587"); strings.Contains(r, "s3cret") {
		t.Fatal(r)
	}
}

func TestParseSMTPConnections(t *testing.T) {
	if s, err := ParseSMTP("smtp://mail.example.tg"); err != nil || s.Connections != DefaultSMTPConnections {
		t.Fatalf("default: %+v %v", s, err)
	}
	for _, host := range []string{"smtp.office365.com", "SMTP.Office365.com.", "smtp-mail.outlook.com"} {
		if s, err := ParseSMTP("smtp://user:pw@" + host + ":587"); err != nil || s.Connections != Microsoft365SMTPConnections {
			t.Fatalf("%s: %+v %v, want Microsoft 365's %d connections", host, s, err, Microsoft365SMTPConnections)
		}
	}
	if s, err := ParseSMTP("smtp://smtp.office365.com?connections=1"); err != nil || s.Connections != 1 {
		t.Fatalf("connections=1 at Microsoft 365: %+v %v", s, err)
	}
	if s, err := ParseSMTP("smtp://mail.notoffice365.com"); err != nil || s.Connections != DefaultSMTPConnections {
		t.Fatalf("a host that only ends like Microsoft's: %+v %v", s, err)
	}
	if s, err := ParseSMTP("smtp://mail.example.tg:25?tls=none&connections=8"); err != nil || s.Connections != 8 {
		t.Fatalf("connections=8: %+v %v", s, err)
	}
	for _, bad := range []string{"0", "17", "deux", "-1"} {
		_, err := ParseSMTP("smtp://mail.example.tg?connections=" + bad)
		if err == nil || !strings.Contains(err.Error(), "connections=") {
			t.Errorf("connections=%s: %v, want a refusal naming connections=", bad, err)
		}
	}
}
