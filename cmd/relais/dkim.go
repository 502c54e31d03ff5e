package main

import (
	"fmt"

	"relais/internal/config"
	"relais/internal/mail"
)

// dkimReport says whether a message sent from the address from went out signed, and
// where receivers look for the key. The SMTP sender signs every message when a key is
// configured (a message it cannot sign is not sent), so a sent message was signed.
func dkimReport(cfg config.Config, d *mail.DKIM, from string) string {
	switch {
	case d == nil:
		return "not signed: no DKIM key configured (dkim_key_file)"
	case cfg.SMTPURL == "":
		return "not signed: mail is kept in the dev mailbox (no smtp_url), nothing left the machine"
	}
	return fmt.Sprintf("signed with DKIM selector %s for domain %s\n"+
		"receivers check it against the TXT record %s, which must hold:\n  %s",
		d.Selector, d.DomainFor(from), d.RecordName(from), d.Record())
}
