// Package web holds the templates and static files of the web interface,
// embedded into the binary so the service needs no files at run time.
package web

import "embed"

// Templates holds web/templates/*.html.
//
//go:embed all:templates
var Templates embed.FS

// Static holds web/static: stylesheet, script and icons.
//
//go:embed static
var Static embed.FS
