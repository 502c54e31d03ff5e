package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMemoryLimitKey(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MemoryLimitMiB != 48 {
		t.Fatalf("default memory_limit_mib %d, want 48", c.MemoryLimitMiB)
	}
	p := filepath.Join(t.TempDir(), "relais.toml")
	os.WriteFile(p, []byte("memory_limit_mib = 96\n"), 0o600)
	if c, err = Load(p, env(nil)); err != nil || c.MemoryLimitMiB != 96 {
		t.Fatalf("from the file: %d, %v", c.MemoryLimitMiB, err)
	}
	// The environment wins over the file, and 0 turns the limit off.
	if c, err = Load(p, env(map[string]string{"RELAIS_MEMORY_LIMIT_MIB": "0"})); err != nil || c.MemoryLimitMiB != 0 {
		t.Fatalf("RELAIS_MEMORY_LIMIT_MIB=0: %d, %v", c.MemoryLimitMiB, err)
	}
	for _, v := range []string{"-1", "8", "2000000", "lots"} {
		_, err := Load("", env(map[string]string{"RELAIS_MEMORY_LIMIT_MIB": v}))
		if err == nil || !strings.Contains(err.Error(), "memory_limit_mib") {
			t.Errorf("RELAIS_MEMORY_LIMIT_MIB=%s: %v", v, err)
		}
	}
	if _, err := Load("", env(map[string]string{"RELAIS_MEMORY_LIMIT_MIB": "16"})); err != nil {
		t.Error(err)
	}
}
