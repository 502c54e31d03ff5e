package web

import (
	"bytes"
	"encoding/json"
	"time"

	"relais/internal/model"
)

// jsonTime reads RFC 3339 times (null clears an optional time).
type jsonTime struct {
	time.Time
	null bool
}

func (t *jsonTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.null = true
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &model.Error{Code: model.EInvalid, Message: "error.datetime"}
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return &model.Error{Code: model.EInvalid, Message: "error.datetime"}
	}
	t.Time = v.UTC().Truncate(time.Microsecond)
	return nil
}

func (t *jsonTime) ptr() *time.Time {
	if t.null {
		return nil
	}
	v := t.Time
	return &v
}
