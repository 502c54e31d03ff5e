package model

import (
	"errors"
	"fmt"
)

// Error codes returned by the application layer. The web layer maps each to one HTTP status.
const (
	EInvalid      = "invalid"      // 422: bad input; Fields says which
	EBadRequest   = "bad_request"  // 400: malformed request
	EUnauthorized = "unauthorized" // 401
	EForbidden    = "forbidden"    // 403
	ENotFound     = "not_found"    // 404
	EConflict     = "conflict"     // 409
	ETooLarge     = "too_large"    // 413
	ERateLimited  = "rate_limited" // 429
	EUnavailable  = "unavailable"  // 503: busy for now (a locked database); trying again shortly works
	EInternal     = "internal"     // 500
)

// Error is the one error type the application returns to its callers. Message is a
// message key (or plain text) safe to show a user; the cause stays in logs only.
type Error struct {
	Code    string
	Message string
	// Fields maps a form field name to a message key for field-level validation errors.
	Fields map[string]string
	// Args fills placeholders in Message when it is a message key.
	Args map[string]any
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a code and a message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrors builds an EInvalid error from field messages.
func FieldErrors(fields map[string]string) *Error {
	return &Error{Code: EInvalid, Message: "error.invalid_form", Fields: fields}
}

// ErrorCode returns the code of err, EInternal for an unknown error, "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the user-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "error.internal"
}

// ErrNotFound is a convenience for lookups that found nothing.
var ErrNotFound = &Error{Code: ENotFound, Message: "error.not_found"}
