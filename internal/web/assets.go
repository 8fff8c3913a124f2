package web

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/gin-gonic/gin"
)

// assetHashLen is how many hex digits of the content's SHA-256 go into
// a fingerprinted file name: style.0123456789ab.css.
const assetHashLen = 12

// asset is one embedded static file, hashed and encoded once at start.
type asset struct {
	hash        string
	contentType string
	// bodies by content coding: "" (identity), and "gzip" and "br" when
	// they are smaller.
	bodies map[string][]byte
	// codings lists the codings present besides identity, ours first.
	codings []string
}

// assetSet is the static files with their fingerprints. Pages link the
// fingerprinted URL (the asset template function), which is cached for a
// year as immutable: a change of content is a new URL. The plain URL
// keeps working, revalidated with ETag and Last-Modified.
type assetSet struct {
	files map[string]*asset
	// modTime is the start of the process: embedded files carry no date,
	// and none of them can have changed since.
	modTime time.Time
}

func loadAssets(fsys fs.FS, modTime time.Time) (*assetSet, error) {
	set := &assetSet{files: map[string]*asset{}, modTime: modTime.UTC().Truncate(time.Second)}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read asset %s: %w", p, err)
		}
		sum := sha256.Sum256(data)
		a := &asset{hash: hex.EncodeToString(sum[:])[:assetHashLen], bodies: map[string][]byte{"": data}}
		if a.contentType = mime.TypeByExtension(path.Ext(p)); a.contentType == "" {
			a.contentType = http.DetectContentType(data)
		}
		if compressible(a.contentType) && len(data) >= minCompressSize {
			for _, enc := range []string{"br", "gzip"} {
				out, err := encodeBest(enc, data)
				if err != nil {
					return fmt.Errorf("encode asset %s: %w", p, err)
				}
				if len(out) < len(data) {
					a.bodies[enc] = out
					a.codings = append(a.codings, enc)
				}
			}
		}
		set.files[p] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// encodeBest encodes with the slowest, smallest setting: it runs once.
func encodeBest(enc string, data []byte) ([]byte, error) {
	switch enc {
	case "gzip":
		zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestCompression)
		return encodeWith(zw, data)
	case "br":
		return encodeWith(brotli.NewWriterLevel(io.Discard, brotli.BestCompression), data)
	}
	return data, nil
}

// url is the fingerprinted URL of the named asset (the template function
// "asset"); an unknown name fails the page rather than link nowhere.
func (s *assetSet) url(name string) (string, error) {
	a, ok := s.files[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	ext := path.Ext(name)
	return "/static/" + strings.TrimSuffix(name, ext) + "." + a.hash + ext, nil
}

// lookup finds the asset for a path under /static/: its plain name, or
// the fingerprinted one. current reports a fingerprint that matches the
// content; a stale or made-up one still finds the file but is not current.
func (s *assetSet) lookup(p string) (a *asset, fingerprinted, current bool) {
	if a, ok := s.files[p]; ok {
		return a, false, false
	}
	ext := path.Ext(p)
	stem := strings.TrimSuffix(p, ext)
	hash := strings.TrimPrefix(path.Ext(stem), ".")
	if len(hash) != assetHashLen || strings.Trim(hash, "0123456789abcdef") != "" {
		return nil, false, false
	}
	a, ok := s.files[strings.TrimSuffix(stem, "."+hash)+ext]
	if !ok {
		return nil, false, false
	}
	return a, true, hash == a.hash
}

// serveAsset serves /static/*filepath. A current fingerprint is cached
// for a year as immutable. The plain name, and a fingerprint that is not
// the current one (a page from before an upgrade), get the current file
// and must be revalidated: ETag (one per coding) and Last-Modified. No
// ranges: the files are small.
func (s *Server) serveAsset(c *gin.Context) {
	a, _, current := s.assets.lookup(strings.TrimPrefix(c.Param("filepath"), "/"))
	if a == nil {
		s.notFound(c)
		return
	}
	h := c.Writer.Header()
	enc := ""
	if len(a.codings) > 0 {
		addVary(h, "Accept-Encoding")
		enc = negotiateEncoding(c.GetHeader("Accept-Encoding"), a.codings)
	}
	etag := `"` + a.hash
	if enc != "" {
		etag += "-" + enc
	}
	h.Set("ETag", etag+`"`)
	h.Set("Last-Modified", s.assets.modTime.Format(http.TimeFormat))
	if current {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, no-cache")
	}
	c.Set(skipCompressKey, true)
	if notModified(c.Request, etag+`"`, s.assets.modTime) {
		c.Status(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		return
	}
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	body := a.bodies[enc]
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Data(http.StatusOK, a.contentType, body)
}
