package fetch

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html/charset"

	"github.com/clipsheet/clipsheet/internal/config"
)

// parseHTML decodes an HTML page (HTTP charset, BOM or <meta charset>) and
// parses it.
func parseHTML(body []byte, contentType string) (*goquery.Document, error) {
	r, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		return nil, fmt.Errorf("decode page: %w", err)
	}
	doc, err := goquery.NewDocumentFromReader(r)
	if err != nil {
		return nil, fmt.Errorf("parse page: %w", err)
	}
	return doc, nil
}

// baseURL is the document URL, or its <base href> when it has one.
func baseURL(doc *goquery.Document, docURL string) *url.URL {
	base, err := url.Parse(docURL)
	if err != nil {
		return nil
	}
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, err := url.Parse(strings.TrimSpace(href)); err == nil {
			base = base.ResolveReference(b)
		}
	}
	return base
}

// linkFilter applies a source's include/exclude patterns to story URLs:
// the links of a section front, or the entry links of a feed.
type linkFilter struct {
	include, exclude []*regexp.Regexp
}

func newLinkFilter(src config.Source) (*linkFilter, error) {
	lf := &linkFilter{}
	for _, p := range src.Include {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("include pattern %q: %w", p, err)
		}
		lf.include = append(lf.include, re)
	}
	for _, p := range src.Exclude {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("exclude pattern %q: %w", p, err)
		}
		lf.exclude = append(lf.exclude, re)
	}
	return lf, nil
}

func (lf *linkFilter) keep(u string) bool {
	for _, re := range lf.exclude {
		if re.MatchString(u) {
			return false
		}
	}
	if len(lf.include) == 0 {
		return true
	}
	for _, re := range lf.include {
		if re.MatchString(u) {
			return true
		}
	}
	return false
}

// entries keeps the feed entries whose link passes the filter and counts
// the ones it drops. Entries without a link are kept: they are no story
// the patterns could judge, and later steps drop them anyway.
func (lf *linkFilter) entries(in []feedEntry) (kept []feedEntry, excluded int) {
	kept = make([]feedEntry, 0, len(in))
	for _, e := range in {
		if e.Link != "" && !lf.keep(e.Link) {
			excluded++
			continue
		}
		kept = append(kept, e)
	}
	return kept, excluded
}

// pageLinks takes the article links of a section front: the elements the
// source's links selector matches (an <a>, or the first link inside the
// matched element), resolved against the page URL or <base href>, with
// fragments dropped, non-http(s) links, the page itself and duplicates
// removed, and the include/exclude patterns applied to the absolute URL
// (the links they drop are counted in excluded). Its title is the page's
// <title>.
func pageLinks(body []byte, contentType, docURL string, src config.Source) (*listing, error) {
	if _, err := cascadia.ParseGroup(src.Links); err != nil {
		return nil, fmt.Errorf("links selector %q: %w", src.Links, err)
	}
	filter, err := newLinkFilter(src)
	if err != nil {
		return nil, err
	}
	doc, err := parseHTML(body, contentType)
	if err != nil {
		return nil, err
	}
	base := baseURL(doc, docURL)
	self := resolve(nil, docURL)
	seen := map[string]bool{}
	out := &listing{}
	doc.Find(src.Links).Each(func(_ int, s *goquery.Selection) {
		a := s
		if goquery.NodeName(s) != "a" || s.AttrOr("href", "") == "" {
			a = s.Find("a[href]").First()
		}
		href, ok := a.Attr("href")
		if !ok {
			return
		}
		link := resolve(base, href)
		if !isHTTPURL(link) || link == self || seen[link] {
			return
		}
		seen[link] = true
		if !filter.keep(link) {
			out.excluded++
			return
		}
		title := plainText(a.Text())
		if title == "" {
			title = plainText(a.AttrOr("title", ""))
		}
		out.entries = append(out.entries, feedEntry{Link: link, Title: title})
	})
	out.title = plainText(doc.Find("title").First().Text())
	return out, nil
}
