package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roster-dev/roster"
)

// plainText refuses text that the backends would not store alike: NUL
// characters (PostgreSQL rejects them, SQLite keeps them) and invalid UTF-8,
// in query parameters, the Idempotency-Key and JSON bodies. Refusing them
// here gives one 400 on both backends instead of a database error.
func (s *Server) plainText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name, values := range query(r) {
			for _, v := range append(values, name) {
				if !storableText(v) {
					writeProblem(w, r, newProblem(http.StatusBadRequest, roster.CodeInvalidRequest,
						"query parameter "+name+" must be UTF-8 text without NUL characters"))
					return
				}
			}
		}
		if key := r.Header.Get("Idempotency-Key"); key != "" && !printableASCII(key) {
			writeProblem(w, r, newProblem(http.StatusBadRequest, roster.CodeInvalidIdempotencyKey,
				"Idempotency-Key must be printable ASCII"))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := s.readBody(w, r)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				w.Header().Set("Connection", "close")
				writeProblem(w, r, newProblem(http.StatusRequestTimeout, roster.CodeRequestTimeout,
					"the request body did not arrive within "+s.bodyTimeout.String()))
				return
			}
			if err != nil {
				writeProblem(w, r, newProblem(http.StatusBadRequest, roster.CodeInvalidRequest, "the request body could not be read"))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			info(r.Context()).body = body
			// An import checks each line on its own, to report it by number.
			if r.URL.Path != importPath && len(body) <= maxBodyBytes && hasNULEscape(body) {
				writeProblem(w, r, newProblem(http.StatusBadRequest, roster.CodeInvalidRequest,
					"strings in the body must not contain NUL characters (\\u0000)"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads the request body (up to one byte past the limit) under the
// body read deadline, and lifts the deadline once read: a deadline left on
// the connection would end the request, and every later one on the same
// keep-alive connection, when it passed.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(s.bodyTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, err
	}
	defer rc.SetReadDeadline(time.Time{})
	return readAll(io.LimitReader(r.Body, s.bodyLimit(r)+1), r.ContentLength)
}

// readAll is io.ReadAll starting with room for the length the request
// declares (and the end after it) rather than growing to it from 512
// bytes: a batch of checks is some 100 kB.
func readAll(r io.Reader, length int64) ([]byte, error) {
	if length < 0 || length > maxBodyBytes {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, length+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // more than declared: let append grow it
		}
	}
}

// query is the request's query, without making a map for none.
func query(r *http.Request) url.Values {
	if r.URL.RawQuery == "" {
		return nil
	}
	return r.URL.Query()
}

// bodyLimit is the largest body r may carry: an import's is larger.
func (s *Server) bodyLimit(r *http.Request) int64 {
	if r.URL.Path == importPath {
		return s.maxImport
	}
	return maxBodyBytes
}

func storableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// hasNULEscape reports whether a JSON text holds a string with a NUL
// character. JSON can only carry one as the escape \u0000 (a raw NUL byte is
// not valid JSON); an escape is real when an odd number of backslashes
// leads up to the u.
func hasNULEscape(body []byte) bool {
	const escape = `\u0000`
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(escape))
		if j < 0 {
			return false
		}
		at := i + j
		slashes := 0
		for k := at; k >= 0 && body[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 1 {
			return true
		}
		i = at + len(escape)
	}
}
