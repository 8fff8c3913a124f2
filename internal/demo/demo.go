// Package demo serves the sample publisher site under testdata/demo on
// loopback, so a newcomer (and the end-to-end tests) can watch the whole
// pipeline work without the internet.
package demo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// Placeholder in the sample files is replaced by the site's own base URL,
// because feeds must carry absolute links and the port is chosen at run
// time.
const Placeholder = "{{BASE}}"

// Site serves files from fsys like a real publisher: correct content types,
// ETag and Last-Modified validators, and 304s for conditional requests.
type Site struct {
	fsys    fs.FS
	modTime time.Time
}

// NewSite serves fsys. All files share one modification time so validators
// stay stable across restarts of a test.
func NewSite(fsys fs.FS) *Site {
	return &Site{fsys: fsys, modTime: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
}

func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	data, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	data = bytes.ReplaceAll(data, []byte(Placeholder), []byte(scheme+"://"+r.Host))
	sum := sha256.Sum256(data)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".xml":
		ctype = "application/xml; charset=utf-8"
		if bytes.Contains(data[:min(len(data), 300)], []byte("<feed")) {
			ctype = "application/atom+xml; charset=utf-8"
		} else if bytes.Contains(data[:min(len(data), 300)], []byte("<rss")) {
			ctype = "application/rss+xml; charset=utf-8"
		}
	case ".html":
		ctype = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	http.ServeContent(w, r, name, s.modTime, bytes.NewReader(data))
}

// SourcesYAML is a sources file pointing at a demo site running at base.
func SourcesYAML(base string) string {
	return fmt.Sprintf(`# Demo sources: the sample site in testdata/demo, served on loopback.
defaults:
  interval: 5m
sections: [Top stories, Terrorism & security, Disasters & weather, Cyber, Public health]
sources:
  - name: Riverside County Emergency News
    url: %[1]s/rss.xml
    type: feed
    section: Disasters & weather
  - name: Metro Transit Police
    url: %[1]s/atom.xml
    type: feed
    section: Terrorism & security
`, base)
}
