package httpx

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/andybalholm/brotli"
)

// readBody reads a response body, undoing Content-Encoding, and fails as
// soon as more than limit bytes have been produced. Both the raw and the
// decoded streams are capped: the raw cap stops never-ending bodies before
// they are decoded, the decoded cap stops compression bombs. Content-Length
// is used only to fail early, never trusted as the real size. With
// truncate, a body over the limit is cut to its first limit bytes instead
// of failing (robots.txt is read that way, as RFC 9309 allows).
func readBody(r io.Reader, encoding string, contentLength, limit int64, truncate bool) ([]byte, error) {
	encs := parseEncodings(encoding)
	if contentLength > limit && !truncate {
		return nil, &TooLargeError{Limit: limit, ContentLength: contentLength}
	}
	raw := &cappedReader{r: r, left: limit}
	var dec io.Reader = raw
	// Encodings are listed in the order applied; undo them in reverse.
	for i := len(encs) - 1; i >= 0; i-- {
		var err error
		dec, err = decoder(encs[i], dec)
		if err != nil {
			return nil, err
		}
	}
	size := 32 << 10
	if contentLength > 0 && len(encs) == 0 {
		size = int(contentLength) + bytes.MinRead
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	n, err := buf.ReadFrom(io.LimitReader(dec, limit+1))
	if truncate && (n > limit || errors.Is(err, errRawCap)) {
		return buf.Bytes()[:min(int64(buf.Len()), limit)], nil
	}
	if err != nil {
		if errors.Is(err, errRawCap) {
			return nil, &TooLargeError{Limit: limit}
		}
		if len(encs) > 0 {
			return nil, fmt.Errorf("decode %s body: %w", strings.Join(encs, ", "), err)
		}
		return nil, err
	}
	if n > limit {
		return nil, &TooLargeError{Limit: limit, Encoded: len(encs) > 0}
	}
	return buf.Bytes(), nil
}

func parseEncodings(h string) []string {
	var out []string
	for _, e := range strings.Split(h, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != "" && e != "identity" {
			out = append(out, e)
		}
	}
	return out
}

func decoder(enc string, r io.Reader) (io.Reader, error) {
	switch enc {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			if errors.Is(err, errRawCap) {
				return nil, err
			}
			if err == io.EOF { // empty body labelled gzip
				return strings.NewReader(""), nil
			}
			return nil, fmt.Errorf("decode gzip body: %w", err)
		}
		return zr, nil
	case "br":
		return brotli.NewReader(r), nil
	case "deflate":
		// "deflate" is specified as zlib-wrapped, but some servers send raw
		// deflate; peek at the header to tell them apart.
		br := &peekReader{r: r}
		hdr, _ := br.peek(2)
		if len(hdr) == 2 && hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return nil, fmt.Errorf("decode deflate body: %w", err)
			}
			return zr, nil
		}
		return flate.NewReader(br), nil
	}
	return nil, fmt.Errorf("unsupported Content-Encoding %q", enc)
}

var errRawCap = errors.New("raw body over limit")

// cappedReader fails once more than left bytes are read.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errRawCap
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errRawCap
	}
	return n, err
}

type peekReader struct {
	r   io.Reader
	buf []byte
}

func (p *peekReader) peek(n int) ([]byte, error) {
	for len(p.buf) < n {
		tmp := make([]byte, n-len(p.buf))
		m, err := p.r.Read(tmp)
		p.buf = append(p.buf, tmp[:m]...)
		if err != nil {
			return p.buf, err
		}
	}
	return p.buf, nil
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

func isConnReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
func isConnRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
