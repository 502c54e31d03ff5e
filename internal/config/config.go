// Package config loads Relais' settings from an optional TOML file and RELAIS_*
// environment variables (which win), applies defaults and validates them.
package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// Config is every setting of a Relais process.
type Config struct {
	Addr      string  `koanf:"addr"`
	BaseURL   string  `koanf:"base_url"`
	Database  string  `koanf:"database"`
	SMTPURL   string  `koanf:"smtp_url"`
	MailFrom  string  `koanf:"mail_from"`
	SecretKey string  `koanf:"secret_key"`
	Lang      string  `koanf:"lang"`
	Timezone  string  `koanf:"timezone"`
	MailRate  float64 `koanf:"mail_rate"` // messages per second, 0 = unlimited
	LogLevel  string  `koanf:"log_level"`
	LogFormat string  `koanf:"log_format"`
	// MaxUploadMB bounds press-kit uploads and the request body of upload routes.
	MaxUploadMB int `koanf:"max_upload_mb"`
	// SessionLifetime is the absolute lifetime of a staff session.
	SessionLifetime time.Duration `koanf:"session_lifetime"`
	// SessionIdle ends a staff session unused this long.
	SessionIdle time.Duration `koanf:"session_idle"`
	// LoginRate is how many failed logins per address and per account are allowed per 15 minutes.
	LoginRate int `koanf:"login_rate"`
	// FormRate is how many public form posts per address are allowed per minute.
	FormRate int `koanf:"form_rate"`
	// TrustedProxies lists the reverse proxies and load balancers (IP addresses or CIDR
	// ranges, comma-separated) whose X-Forwarded-For header names the client, besides
	// loopback, link-local and private addresses, which always do. A client's address
	// is what the rate limits count and what may read /metrics.
	TrustedProxies string `koanf:"trusted_proxies"`
	// PasswordMemoryKiB is the memory cost of argon2id password hashes. Lower it only
	// for tests: it is what makes guessing passwords expensive.
	PasswordMemoryKiB int `koanf:"password_memory_kib"`
	// InviteRemindAfter is how long after an invitation a non-responder may be reminded (once).
	InviteRemindAfter time.Duration `koanf:"invite_remind_after"`
	// CoverageCheck fetches each submitted coverage page in the background to record its
	// title and whether it mentions and links to the event.
	CoverageCheck bool `koanf:"coverage_check"`
	// CoverageCheckAllowPrivate lets that check reach private, loopback and link-local
	// addresses (refused by default: server-side request forgery). Tests turn it on.
	CoverageCheckAllowPrivate bool `koanf:"coverage_check_allow_private"`
	// SchedulerInterval is how often each instance looks for due reminders and scheduled
	// campaigns.
	SchedulerInterval time.Duration `koanf:"scheduler_interval"`
	// MailRetryBase is the wait after a message's first failed attempt; each further
	// failure doubles it, up to 120 times it. Tests shorten it to see retries at once.
	MailRetryBase time.Duration `koanf:"mail_retry_base"`
	// MailLease is how long a worker's claim on a batch of mail holds: mail claimed by an
	// instance that died is sent by another (or after a restart) once it runs out.
	MailLease time.Duration `koanf:"mail_lease"`
	// DKIMKeyFile is a PEM private key (RSA or Ed25519) that signs every outgoing
	// message; empty: messages go unsigned.
	DKIMKeyFile string `koanf:"dkim_key_file"`
	// DKIMSelector names the key in DNS: TXT at <selector>._domainkey.<domain>.
	DKIMSelector string `koanf:"dkim_selector"`
	// DKIMDomain is the signing domain (d=); empty: the domain of each message's From.
	DKIMDomain string `koanf:"dkim_domain"`
	// RetentionMonths is how long after an event its registrations' personal data are
	// kept before they are anonymised; 0 keeps them for ever.
	RetentionMonths int `koanf:"retention_months"`
	// MemoryLimitMiB is the soft memory limit of the Go runtime in `relais serve`
	// (runtime/debug.SetMemoryLimit), in MiB: near it the garbage collector runs more
	// often rather than let the heap grow. It covers what Go allocates, not the
	// program's own code nor SQLite's caches (together about 40 MB more). 0: no limit.
	// The GOMEMLIMIT variable, when set, wins.
	MemoryLimitMiB int `koanf:"memory_limit_mib"`
}

// Defaults returns the settings used when nothing else is given: a working Relais on
// SQLite, in French, in Lomé's time zone, with mail kept in the dev mailbox.
func Defaults() Config {
	return Config{
		Addr:              ":8080",
		BaseURL:           "http://localhost:8080",
		Database:          "sqlite:data/relais.db",
		MailFrom:          "Relais <relais@localhost>",
		Lang:              "fr",
		Timezone:          "Africa/Lome",
		MailRate:          0,
		LogLevel:          "info",
		LogFormat:         "text",
		MaxUploadMB:       10,
		SessionLifetime:   12 * time.Hour,
		SessionIdle:       2 * time.Hour,
		LoginRate:         10,
		FormRate:          20,
		PasswordMemoryKiB: 64 * 1024,

		InviteRemindAfter: 72 * time.Hour,
		CoverageCheck:     true,
		SchedulerInterval: 30 * time.Second,
		MailRetryBase:     30 * time.Second,
		MailLease:         5 * time.Minute,
		DKIMSelector:      "relais",
		RetentionMonths:   24,
		MemoryLimitMiB:    48,
	}
}

// Load reads file (optional) then the RELAIS_* variables given by getenv over the defaults.
func Load(path string, getenv func(string) string) (Config, error) {
	k := koanf.New(".")
	cfg := Defaults()
	if path != "" {
		if err := k.Load(file.Provider(path), toml.Parser()); err != nil {
			return cfg, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	for _, key := range Keys() {
		if v := getenv("RELAIS_" + strings.ToUpper(key)); v != "" {
			if err := k.Set(key, v); err != nil {
				return cfg, fmt.Errorf("RELAIS_%s: %w", strings.ToUpper(key), err)
			}
		}
	}
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{Tag: "koanf", FlatPaths: true}); err != nil {
		return cfg, fmt.Errorf("config: %s", cleanDecodeError(err))
	}
	// Links are written as BaseURL + "/path": one trailing slash would double it.
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return cfg, cfg.Validate()
}

// Keys lists every configuration key, as written in the TOML file.
func Keys() []string {
	return []string{"addr", "base_url", "database", "smtp_url", "mail_from", "secret_key", "lang",
		"timezone", "mail_rate", "log_level", "log_format", "max_upload_mb", "session_lifetime",
		"session_idle", "login_rate", "form_rate", "trusted_proxies", "password_memory_kib", "invite_remind_after", "coverage_check",
		"coverage_check_allow_private", "scheduler_interval", "mail_retry_base", "mail_lease", "dkim_key_file", "dkim_selector", "dkim_domain",
		"retention_months", "memory_limit_mib"}
}

func cleanDecodeError(err error) string {
	s := err.Error()
	// mapstructure errors read "1 error(s) decoding:\n\n* 'mail_rate' cannot parse ..."
	if i := strings.Index(s, "* "); i >= 0 {
		s = s[i+2:]
	}
	return strings.ReplaceAll(s, "\n", " ")
}

// Validate returns one clear error naming the first wrong key.
func (c Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config: %s (RELAIS_%s): %s", key, strings.ToUpper(key), fmt.Sprintf(format, args...))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return bad("addr", "%q is not host:port (for example :8080)", c.Addr)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("base_url", "%q must be an absolute http(s) URL such as https://relais.example.tg", c.BaseURL)
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		// Every page and link is served from the root of its host.
		return bad("base_url", "%q must be the root of a host (no path): serve Relais from its own host name, such as https://relais.example.tg", c.BaseURL)
	}
	if _, _, err := ParseDatabase(c.Database); err != nil {
		return bad("database", "%v", err)
	}
	if c.SMTPURL != "" {
		if _, err := ParseSMTP(c.SMTPURL); err != nil {
			return bad("smtp_url", "%v", err)
		}
	}
	if _, err := ParseAddress(c.MailFrom); err != nil {
		return bad("mail_from", "%q is not an e-mail address such as \"Ministère <contact@example.tg>\"", c.MailFrom)
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		return bad("secret_key", "must be at least 32 characters (or empty to generate one)")
	}
	if c.Lang != "fr" && c.Lang != "en" {
		return bad("lang", "%q is not supported (fr or en)", c.Lang)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		return bad("timezone", "%q is not a time zone name such as Africa/Lome", c.Timezone)
	}
	if c.MailRate < 0 {
		return bad("mail_rate", "must be 0 (unlimited) or a positive number of messages per second")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return bad("log_format", "%q is not text or json", c.LogFormat)
	}
	if c.MaxUploadMB < 1 || c.MaxUploadMB > 100 {
		return bad("max_upload_mb", "must be between 1 and 100")
	}
	if c.SessionLifetime < time.Minute {
		return bad("session_lifetime", "must be at least 1m")
	}
	if c.SessionIdle < time.Minute {
		return bad("session_idle", "must be at least 1m")
	}
	if c.LoginRate < 1 {
		return bad("login_rate", "must be at least 1")
	}
	if c.FormRate < 1 {
		return bad("form_rate", "must be at least 1")
	}
	if _, err := ParseTrustedProxies(c.TrustedProxies); err != nil {
		return bad("trusted_proxies", "%v", err)
	}
	if c.PasswordMemoryKiB < 1024 || c.PasswordMemoryKiB > 1<<20 {
		return bad("password_memory_kib", "must be between 1024 and 1048576 (KiB)")
	}
	if c.InviteRemindAfter < 0 {
		return bad("invite_remind_after", "must be a duration of 0 or more, such as 72h")
	}
	if c.SchedulerInterval < time.Second || c.SchedulerInterval > time.Hour {
		return bad("scheduler_interval", "must be a duration between 1s and 1h, such as 30s")
	}
	if c.MailRetryBase < 100*time.Millisecond || c.MailRetryBase > time.Hour {
		return bad("mail_retry_base", "must be a duration between 100ms and 1h, such as 30s")
	}
	if c.MailLease < time.Second || c.MailLease > time.Hour {
		return bad("mail_lease", "must be a duration between 1s and 1h, such as 5m")
	}
	if c.DKIMKeyFile != "" && !validDNSName(c.DKIMSelector) {
		return bad("dkim_selector", "%q is not a DNS label such as relais or mail2026", c.DKIMSelector)
	}
	if c.DKIMDomain != "" && (!validDNSName(c.DKIMDomain) || !strings.Contains(c.DKIMDomain, ".")) {
		return bad("dkim_domain", "%q is not a domain name such as numerique.gouv.tg (or empty for the From domain)", c.DKIMDomain)
	}
	if c.RetentionMonths < 0 || c.RetentionMonths > 1200 {
		return bad("retention_months", "must be a number of months between 0 (keep for ever) and 1200")
	}
	if c.MemoryLimitMiB != 0 && (c.MemoryLimitMiB < 16 || c.MemoryLimitMiB > 1<<20) {
		return bad("memory_limit_mib", "must be 0 (no limit) or a number of MiB between 16 and 1048576")
	}
	return nil
}

// ParseTrustedProxies reads trusted_proxies: IP addresses or CIDR ranges separated by
// commas (spaces allowed); empty gives none.
func ParseTrustedProxies(s string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("%q is not an IP address or a range such as 203.0.113.0/24", f)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or a range such as 203.0.113.0/24", f)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// ParseDatabase splits the database URL into a driver name ("sqlite" or "postgres") and a DSN.
func ParseDatabase(s string) (driver, dsn string, err error) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//")
		if p == "" {
			return "", "", fmt.Errorf("sqlite: needs a file path, for example sqlite:data/relais.db")
		}
		return "sqlite", p, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			return "", "", fmt.Errorf("not a valid postgres URL")
		}
		return "postgres", s, nil
	}
	return "", "", fmt.Errorf("%q must start with sqlite: or postgres://", s)
}

// SMTP is a parsed smtp_url.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string // starttls, tls or none
	// Connections is how many messages go to the server at once, each over its own
	// connection (DefaultSMTPConnections when the URL does not say).
	Connections int
}

// DefaultSMTPConnections is the number of SMTP connections when the URL does not set
// it. One connection spends most of its time waiting for the server's answers; the
// others send meanwhile. During a burst of registrations on 2 cores, the last
// confirmation went 0.7–1.4 s after the burst's end with 3 connections, 3.7 s with one;
// once registrations had become cheaper (seventh session), 1.30–2.30 s with 3 and
// 0.87–0.97 s with 4, registrations no slower. A crash may send again the message each
// connection had just handed over (see mail.Worker). Microsoft 365 gets
// Microsoft365SMTPConnections; most servers accept far more (Postfix 50 from one client).
const DefaultSMTPConnections = 4

// Microsoft365SMTPConnections is the default for Microsoft 365 (smtp.office365.com and
// the other outlook.com hosts): it accepts three connections per mailbox sending at once
// and answers a fourth with "432 4.3.2 Concurrent connections limit exceeded".
const Microsoft365SMTPConnections = 3

// isMicrosoft365 tells a Microsoft 365 (Exchange Online) submission host.
func isMicrosoft365(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, d := range []string{"office365.com", "outlook.com"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// MaxSMTPConnections bounds connections=.
const MaxSMTPConnections = 16

// ParseSMTP parses smtp://user:pass@host:port?tls=starttls|tls|none&connections=N.
func ParseSMTP(s string) (SMTP, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "smtp" && u.Scheme != "smtps" {
		return SMTP{}, fmt.Errorf("must look like smtp://user:password@host:587?tls=starttls")
	}
	out := SMTP{Host: u.Hostname(), TLS: u.Query().Get("tls")}
	if out.Host == "" {
		return SMTP{}, fmt.Errorf("has no host")
	}
	if out.TLS == "" {
		out.TLS = "starttls"
		if u.Scheme == "smtps" {
			out.TLS = "tls"
		}
	}
	if out.TLS != "starttls" && out.TLS != "tls" && out.TLS != "none" {
		return SMTP{}, fmt.Errorf("tls=%q must be starttls, tls or none", out.TLS)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"tls": "465", "starttls": "587", "none": "25"}[out.TLS]
	}
	if _, err := fmt.Sscanf(port, "%d", &out.Port); err != nil || out.Port < 1 || out.Port > 65535 {
		return SMTP{}, fmt.Errorf("port %q is not a number between 1 and 65535", port)
	}
	if u.User != nil {
		out.Username = u.User.Username()
		out.Password, _ = u.User.Password()
	}
	out.Connections = DefaultSMTPConnections
	if isMicrosoft365(out.Host) {
		out.Connections = Microsoft365SMTPConnections
	}
	if c := u.Query().Get("connections"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 || n > MaxSMTPConnections {
			return SMTP{}, fmt.Errorf("connections=%q must be a number between 1 and %d", c, MaxSMTPConnections)
		}
		out.Connections = n
	}
	return out, nil
}

// Redacted returns the URL with its password hidden, for logs.
func Redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
