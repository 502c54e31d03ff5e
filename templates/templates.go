// Package templates embeds Relais' HTML page and email templates.
//
// layouts/ hold the page frame, partials/ shared pieces, pages/ one file per page,
// emails/ one pair of files per email kind (KIND.html.tmpl, KIND.txt.tmpl).
package templates

import "embed"

// FS holds every template file.
//
//go:embed layouts partials pages emails
var FS embed.FS
