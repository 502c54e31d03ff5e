package mail

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimHeaders are the header fields the signature covers (RFC 6376 §5.4.1). A field
// listed but absent is signed as absent, so a relay cannot add one later (a second
// Subject, a Reply-To of its own) without breaking the signature.
var dkimHeaders = []string{"From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-Id",
	"Mime-Version", "Content-Type", "Content-Transfer-Encoding", "List-Unsubscribe",
	"List-Unsubscribe-Post", "List-Id", "Auto-Submitted", "In-Reply-To", "References"}

// DKIM signs outgoing messages with one private key (RFC 6376). Receivers find the
// public half in DNS, in a TXT record at <Selector>._domainkey.<domain>, and DMARC
// passes when that domain is the one of the From address.
type DKIM struct {
	Selector string
	// Domain is the signing domain (d=); empty: the domain of each message's sender.
	Domain string
	key    crypto.Signer
}

// LoadDKIM reads a PEM private key (PKCS#8 RSA or Ed25519, or PKCS#1 RSA, as openssl
// writes them) and proves it can sign. An empty path means no signing: nil, nil.
func LoadDKIM(keyFile, selector, domain string) (*DKIM, error) {
	if keyFile == "" {
		return nil, nil
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("mail: dkim key: %w", err)
	}
	key, err := parseDKIMKey(data)
	if err != nil {
		return nil, fmt.Errorf("mail: dkim key %s: %w", keyFile, err)
	}
	return NewDKIM(key, selector, domain)
}

// NewDKIM returns a signer for key, which must be an RSA key of at least 1024 bits
// (2048 recommended) or an Ed25519 key.
func NewDKIM(key crypto.Signer, selector, domain string) (*DKIM, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		// Receivers reject shorter keys (RFC 8301).
		if k.N.BitLen() < 1024 {
			return nil, fmt.Errorf("mail: dkim key: RSA key of %d bits is too short (use 2048)", k.N.BitLen())
		}
	case ed25519.PrivateKey:
	default:
		return nil, fmt.Errorf("mail: dkim key: %T is neither RSA nor Ed25519", key)
	}
	if selector == "" {
		return nil, errors.New("mail: dkim: no selector")
	}
	d := &DKIM{Selector: selector, Domain: strings.ToLower(domain), key: key}
	// Sign a small message now, so that a key the library cannot use stops the start-up
	// rather than every email later.
	probe := "From: probe@example.org\r\nSubject: probe\r\n\r\nprobe\r\n"
	if _, err := d.sign([]byte(probe), "probe@example.org"); err != nil {
		return nil, err
	}
	return d, nil
}

func parseDKIMKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM file (expected -----BEGIN PRIVATE KEY-----)")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
	return nil, fmt.Errorf("PEM block %q is not a private key (an encrypted key must be decrypted first)", block.Type)
}

// DomainFor is the signing domain of a message sent from the address from.
func (d *DKIM) DomainFor(from string) string {
	if d.Domain != "" {
		return d.Domain
	}
	return strings.ToLower(from[strings.LastIndexByte(from, '@')+1:])
}

// RecordName is the DNS name of the TXT record that holds the public key.
func (d *DKIM) RecordName(from string) string {
	return d.Selector + "._domainkey." + d.DomainFor(from)
}

// Record is the TXT record's value: "v=DKIM1; k=rsa; p=…".
func (d *DKIM) Record() string {
	der, err := x509.MarshalPKIXPublicKey(d.key.Public())
	k := "rsa"
	if pub, ok := d.key.Public().(ed25519.PublicKey); ok {
		// RFC 8463: the bare 32-byte key, not its PKIX wrapping.
		der, err, k = []byte(pub), nil, "ed25519"
	}
	if err != nil {
		return ""
	}
	return "v=DKIM1; k=" + k + "; p=" + base64.StdEncoding.EncodeToString(der)
}

// sign returns raw with a DKIM-Signature field on top. Relaxed canonicalisation
// survives what relays commonly do to a message (folding, trailing spaces).
func (d *DKIM) sign(raw []byte, from string) ([]byte, error) {
	s, err := dkim.NewSigner(&dkim.SignOptions{
		Domain: d.DomainFor(from), Selector: d.Selector, Signer: d.key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: dkimHeaders,
	})
	if err != nil {
		return nil, fmt.Errorf("mail: dkim: %w", err)
	}
	if _, err := s.Write(raw); err != nil {
		s.Close()
		return nil, fmt.Errorf("mail: dkim sign: %w", err)
	}
	if err := s.Close(); err != nil {
		return nil, fmt.Errorf("mail: dkim sign: %w", err)
	}
	sig := s.Signature()
	out := make([]byte, 0, len(sig)+len(raw))
	return append(append(out, sig...), raw...), nil
}

// rawMessage is a message already written out, sent as it is.
type rawMessage []byte

func (r rawMessage) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r)
	return int64(n), err
}

// signedMessage writes msg out and signs it. The bytes are then sent as they are, at
// every attempt: what the signature covers is exactly what goes over the wire.
func (d *DKIM) signedMessage(msg io.WriterTo, from string) (rawMessage, error) {
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, refuse("the message cannot be written: %v", err)
	}
	signed, err := d.sign(buf.Bytes(), from)
	if err != nil {
		return nil, &PermanentError{Text: "not sent: " + err.Error()}
	}
	return signed, nil
}
