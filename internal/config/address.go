package config

import (
	"fmt"
	"net/mail"
)

// ParseAddress parses an address such as "Ministère <contact@example.tg>".
func ParseAddress(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("invalid address: %w", err)
	}
	return a, nil
}
