package httpapi

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// listQuery reads the query parameters every list operation shares and records problems.
type listQuery struct {
	q  url.Values
	fe grid.FieldErrors
}

func (l *listQuery) limit() int {
	s := l.q.Get("limit")
	if s == "" {
		return grid.DefaultPageSize
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > grid.MaxPageSize {
		l.fe.Add("limit", "must be an integer from 1 to %d", grid.MaxPageSize)
		return grid.DefaultPageSize
	}
	return n
}

func (l *listQuery) time(name string) time.Time {
	s := l.q.Get(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		l.fe.AddFormat(name, "date-time", "must be an RFC 3339 date-time such as 2025-07-21T17:32:28Z")
	}
	return t
}

func (l *listQuery) timeRange(prefix string) grid.TimeRange {
	r := grid.TimeRange{After: l.time(prefix + "After"), Before: l.time(prefix + "Before")}
	if !r.Before.IsZero() && r.Before.Nanosecond() == 0 {
		// Timestamps go out in whole seconds, so a bound without a fraction covers its whole
		// second: a createdAt copied from a response selects that resource.
		r.Before = r.Before.Add(time.Second - time.Microsecond)
	}
	return r
}

// enum returns a parameter's value, recording one outside allowed.
func (l *listQuery) enum(name string, allowed []string) string {
	s := l.q.Get(name)
	if s != "" && !slices.Contains(allowed, s) {
		l.fe.AddEnum(name, allowed)
		return ""
	}
	return s
}

func (l *listQuery) boolean(name string) bool {
	switch strings.ToLower(l.q.Get(name)) {
	case "", "false":
		return false
	case "true":
		return true
	}
	l.fe.Add(name, "must be true or false")
	return false
}

// cursorPrefix tells this server's cursors from arbitrary strings.
const cursorPrefix = "c1:"

// cursor decodes the opaque cursor into the id after which the page starts.
func (l *listQuery) cursor() string {
	s := l.q.Get("cursor")
	if s == "" {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) {
		l.fe.Add("cursor", "is not a cursor returned by this API")
		return ""
	}
	return strings.TrimPrefix(string(raw), cursorPrefix)
}

func encodeCursor(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + lastID))
}
