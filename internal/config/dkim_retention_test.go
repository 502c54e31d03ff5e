package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDKIMAndRetentionKeys(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DKIMKeyFile != "" || c.DKIMSelector != "relais" || c.DKIMDomain != "" || c.RetentionMonths != 24 {
		t.Fatalf("defaults: %+v", c)
	}
	p := filepath.Join(t.TempDir(), "relais.toml")
	os.WriteFile(p, []byte("dkim_key_file = \"/etc/relais/dkim.pem\"\ndkim_selector = \"mai2026\"\nretention_months = 36\n"), 0o600)
	c, err = Load(p, env(map[string]string{"RELAIS_DKIM_DOMAIN": "numerique.example.tg", "RELAIS_RETENTION_MONTHS": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DKIMKeyFile != "/etc/relais/dkim.pem" || c.DKIMSelector != "mai2026" || c.DKIMDomain != "numerique.example.tg" || c.RetentionMonths != 0 {
		t.Fatalf("%+v", c)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"RELAIS_DKIM_KEY_FILE": "k.pem", "RELAIS_DKIM_SELECTOR": "bad selector"}, "dkim_selector (RELAIS_DKIM_SELECTOR)"},
		{map[string]string{"RELAIS_DKIM_KEY_FILE": "k.pem", "RELAIS_DKIM_SELECTOR": "-x"}, "dkim_selector"},
		{map[string]string{"RELAIS_DKIM_DOMAIN": "localhost"}, "dkim_domain (RELAIS_DKIM_DOMAIN)"},
		{map[string]string{"RELAIS_DKIM_DOMAIN": "a_b.tg"}, "dkim_domain"},
		{map[string]string{"RELAIS_RETENTION_MONTHS": "-1"}, "retention_months (RELAIS_RETENTION_MONTHS)"},
		{map[string]string{"RELAIS_RETENTION_MONTHS": "deux ans"}, "retention_months"},
	} {
		if _, err := Load("", env(tc.env)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.env, err, tc.want)
		}
	}
	// Without a key, the selector is not used and not checked.
	if _, err := Load("", env(map[string]string{"RELAIS_DKIM_SELECTOR": "not used"})); err != nil {
		t.Error(err)
	}
}
