package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// client sends the benchmark's requests: one http.Client and Transport shared by every
// operation and by the HTTP ceiling, with as many idle connections per host as workers.
type client struct {
	hc   *http.Client
	base string
	auth []string
}

// requestTimeout bounds one request, so that no worker can hang a run.
const requestTimeout = 30 * time.Second

func newClient(base, user, secret string, conc int) *client {
	tr := &http.Transport{
		Proxy:               nil, // loopback: never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * conc,
		MaxIdleConnsPerHost: conc,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &client{
		hc:   &http.Client{Transport: tr, Timeout: requestTimeout},
		base: base,
		auth: []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))},
	}
}

var jsonContentType = []string{"application/json"}

// do sends a request to base+path and returns the status and, when keep is set, the body;
// otherwise the body is drained so that the connection is reused. A non-2xx answer is a
// *statusError carrying the start of the body.
func (c *client) do(ctx context.Context, base, method, path string, body []byte, keep bool) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header["Authorization"] = c.auth
	if body != nil {
		req.Header["Content-Type"] = jsonContentType
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		io.Copy(io.Discard, resp.Body)
		return nil, &statusError{status: resp.StatusCode, body: string(bytes.TrimSpace(b))}
	}
	if keep {
		return io.ReadAll(resp.Body)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return nil, err
}

// customerPage is the part of a GET /customers answer the benchmark reads.
type customerPage struct {
	Data []struct {
		ID string `json:"id"`
	} `json:"data"`
	HasMore    bool   `json:"hasMore"`
	NextCursor string `json:"nextCursor"`
	TotalCount *int   `json:"totalCount"`
}

func (c *client) listPage(ctx context.Context, query string) (*customerPage, error) {
	b, err := c.do(ctx, c.base, http.MethodGet, "/customers?"+query, nil, true)
	if err != nil {
		return nil, err
	}
	var p customerPage
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("GET /customers?%s: decode: %w", query, err)
	}
	return &p, nil
}

func (c *client) close() { c.hc.CloseIdleConnections() }
