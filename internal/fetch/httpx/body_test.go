package httpx

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"errors"
	"strings"
	"testing"
)

func TestReadBodyEncodings(t *testing.T) {
	text := strings.Repeat("deflated text ", 100)
	var z, raw bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(text))
	zw.Close()
	fw, _ := flate.NewWriter(&raw, flate.BestCompression)
	fw.Write([]byte(text))
	fw.Close()
	for name, body := range map[string][]byte{"zlib": z.Bytes(), "raw deflate": raw.Bytes()} {
		got, err := readBody(bytes.NewReader(body), "deflate", -1, 1<<20, false)
		if err != nil || string(got) != text {
			t.Errorf("%s: %v %q", name, err, got)
		}
	}
	if got, err := readBody(bytes.NewReader(nil), "gzip", 0, 1<<20, false); err != nil || len(got) != 0 {
		t.Errorf("empty gzip: %v %q", err, got)
	}
	if _, err := readBody(strings.NewReader("x"), "compress", -1, 1<<20, false); err == nil || !strings.Contains(err.Error(), `unsupported Content-Encoding "compress"`) {
		t.Errorf("unknown encoding: %v", err)
	}
	if _, err := readBody(strings.NewReader("not gzip at all"), "gzip", -1, 1<<20, false); err == nil || !strings.Contains(err.Error(), "decode gzip body") {
		t.Errorf("corrupt gzip: %v", err)
	}
	// Exactly at the limit is fine; one byte over is not.
	if got, err := readBody(strings.NewReader("12345"), "", -1, 5, false); err != nil || string(got) != "12345" {
		t.Errorf("at limit: %v", err)
	}
	var tl *TooLargeError
	if _, err := readBody(strings.NewReader("123456"), "", -1, 5, false); !errors.As(err, &tl) {
		t.Errorf("over limit: %v", err)
	}
	// Truncating reads keep the first limit bytes, however the body comes.
	var gz bytes.Buffer
	zw2 := zlib.NewWriter(&gz)
	zw2.Write([]byte(text))
	zw2.Close()
	for name, c := range map[string]struct {
		body     []byte
		enc      string
		declared int64
	}{
		"identity":          {[]byte(text), "", -1},
		"declared too long": {[]byte(text), "", 10 << 30},
		"deflate":           {gz.Bytes(), "deflate", -1},
	} {
		got, err := readBody(bytes.NewReader(c.body), c.enc, c.declared, 100, true)
		if err != nil || string(got) != text[:100] {
			t.Errorf("truncate %s: %v %q", name, err, got)
		}
	}
}
