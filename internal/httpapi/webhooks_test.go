package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/api"
	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/httpapi"
	"github.com/gridd/gridd/internal/seal"
	"github.com/gridd/gridd/internal/sqlite"
	"github.com/gridd/gridd/internal/webhook"
)

// newWebhookEnv is newEnv with a webhook signing key and, when dispatch is set, a running
// dispatcher with millisecond backoff.
func newWebhookEnv(t testing.TB, dispatch bool) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gridd.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	box, err := seal.New(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	svc := grid.NewService(st, box, nil)
	der, err := svc.WebhookSigningKey(context.Background(), webhook.GenerateKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := webhook.ParsePKCS8(der)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := webhook.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	client := webhook.NewClient(signer, 2*time.Second)
	h := httpapi.New(svc, httpapi.Options{BasePath: base, OpenAPI: api.OpenAPI, Webhooks: client})
	srv := httptest.NewServer(h)
	stop := func() {}
	if dispatch {
		d := webhook.New(st, client, webhook.Options{Node: "test", PollInterval: 10 * time.Millisecond,
			BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { d.Run(ctx); close(done) }()
		stop = func() { cancel(); <-done }
	}
	t.Cleanup(func() { stop(); srv.Close(); st.Close() })
	return &env{t: t, srv: srv, svc: svc, store: st, dbPath: path}
}

// hook is a webhook as a receiver saw it.
type hook struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// hookReceiver is a platform's webhook endpoint on loopback. It checks every signature with
// the public key the API serves and records the webhooks it accepted.
type hookReceiver struct {
	t      testing.TB
	srv    *httptest.Server
	pubPEM string

	mu       sync.Mutex
	status   int // answer while not 0; 200 otherwise
	requests int
	got      []hook
}

func newHookReceiver(t testing.TB, e *env, c *cred) *hookReceiver {
	t.Helper()
	r := e.do(c, "GET", "/webhooks/public-key", "").want(t, 200, "")
	h := &hookReceiver{t: t, pubPEM: r.str("publicKey")}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	if err := webhook.Verify(h.pubPEM, body, r.Header.Get("X-Grid-Signature")); err != nil {
		h.t.Errorf("webhook %s: %v", body, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("webhook Content-Type = %q", ct)
	}
	if h.status != 0 {
		w.WriteHeader(h.status)
		fmt.Fprint(w, `{"error":"not now"}`)
		return
	}
	var m hook
	if err := json.Unmarshal(body, &m); err != nil {
		h.t.Errorf("webhook body %s: %v", body, err)
	}
	h.got = append(h.got, m)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"received":true}`)
}

func (h *hookReceiver) setStatus(s int) {
	h.mu.Lock()
	h.status = s
	h.mu.Unlock()
}

func (h *hookReceiver) hooks() []hook {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

func (h *hookReceiver) waitFor(t testing.TB, what string, cond func([]hook) bool) []hook {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := h.hooks()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; received %d webhooks", what, len(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWebhooksArriveSignedAndInOrder drives customers through status changes while the
// endpoint is down, then brings it back: every webhook arrives, signed, once, in order per
// customer, with the data GET returns; changes that failed or rolled back announce nothing.
func TestWebhooksArriveSignedAndInOrder(t *testing.T) {
	e := newWebhookEnv(t, true)
	p, c := e.platform(grid.PlatformSpec{Name: "bank", UMADomain: "uma.bank.test", Regulated: true})
	rcv := newHookReceiver(t, e, &c)
	rcv.setStatus(http.StatusServiceUnavailable)

	// Setting the endpoint sends a TEST webhook.
	e.do(&c, "PATCH", "/config", fmt.Sprintf(`{"webhookEndpoint":%q}`, rcv.srv.URL+"/grid")).want(t, 200, "")

	steps := []string{"PENDING", "APPROVED", "REJECTED", "APPROVED"}
	var ids []string
	for i := range 3 {
		r := e.do(&c, "POST", "/customers", fmt.Sprintf(`{"customerType":"INDIVIDUAL","platformCustomerId":"c-%d","kycStatus":"PENDING"}`, i)).want(t, 201, "")
		ids = append(ids, r.str("id"))
	}
	for _, st := range steps[1:] {
		for _, id := range ids {
			e.do(&c, "PATCH", "/customers/"+id, fmt.Sprintf(`{"customerType":"INDIVIDUAL","kycStatus":%q}`, st)).want(t, 200, "")
		}
	}
	// A change that fails validation raises no webhook.
	e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"c-bad","kycStatus":"PENDING","birthDate":"someday"}`).want(t, 400, "INVALID_INPUT")
	// Nor does a transaction that fails after writing its event.
	ctx := context.Background()
	ghost, err := e.svc.NewEvent(p.ID, "CUSTOMER.KYC_APPROVED", ids[0], nil, e.svc.Now())
	if err != nil {
		t.Fatal(err)
	}
	err = e.store.WithTx(ctx, func(tx grid.Tx) error {
		if err := tx.InsertEvent(ctx, ghost); err != nil {
			return err
		}
		return fmt.Errorf("the change failed after its event was written")
	})
	if err == nil {
		t.Fatal("the failing transaction committed")
	}

	// The endpoint is down: attempts pile up, nothing is accepted.
	deadline := time.Now().Add(5 * time.Second)
	for {
		rcv.mu.Lock()
		n := rcv.requests
		rcv.mu.Unlock()
		if n >= 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d attempts while the endpoint was down", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	rcv.setStatus(0)

	// The TEST webhook is not retried: it died while the endpoint was down.
	want := len(ids) * len(steps)
	got := rcv.waitFor(t, "every customer webhook", func(h []hook) bool { return len(h) >= want })
	time.Sleep(100 * time.Millisecond)
	got = rcv.hooks()
	per := map[string][]string{}
	seen := map[string]bool{}
	for _, h := range got {
		if seen[h.ID] {
			t.Errorf("webhook %s accepted twice", h.ID)
		}
		seen[h.ID] = true
		if h.ID == ghost.ID {
			t.Errorf("the rolled-back event %s was delivered", h.ID)
		}
		id, _ := h.Data["id"].(string)
		if pcid, _ := h.Data["platformCustomerId"].(string); pcid == "c-bad" {
			t.Errorf("a webhook for the rejected request arrived: %+v", h)
		}
		status, _ := h.Data["kycStatus"].(string)
		if h.Type != "CUSTOMER.KYC_"+status {
			t.Errorf("webhook %s has type %s but data.kycStatus %s", h.ID, h.Type, status)
		}
		per[id] = append(per[id], status)
	}
	for _, id := range ids {
		if !slices.Equal(per[id], steps) {
			t.Errorf("customer %s: statuses arrived as %v, want %v", id, per[id], steps)
		}
	}
	if len(got) != len(ids)*len(steps) {
		t.Errorf("accepted %d webhooks, want %d", len(got), len(ids)*len(steps))
	}

	// The last webhook of a customer carries what GET returns.
	cur := e.do(&c, "GET", "/customers/"+ids[0], "").want(t, 200, "")
	var last hook
	for _, h := range got {
		if h.Data["id"] == ids[0] {
			last = h
		}
	}
	if last.Data["kycStatus"] != cur.body["kycStatus"] || last.Data["updatedAt"] != cur.body["updatedAt"] {
		t.Errorf("last webhook data = %v, GET = %v", last.Data, cur.body)
	}

	// The delivery log: the first customer webhook failed with 503s, then went through. (The
	// receiver answers before the outcome is recorded.)
	waitUntil(t, "every outcome to be recorded", func() bool {
		r := e.do(&c, "GET", "/webhooks/events?state=DELIVERED", "").want(t, 200, "")
		return r.body["totalCount"] == float64(len(ids)*len(steps))
	})
	list := e.do(&c, "GET", "/webhooks/events?limit=100", "").want(t, 200, "")
	if n := int(list.body["totalCount"].(float64)); n != 1+len(ids)*len(steps) {
		t.Errorf("totalCount = %d, want %d (no event for the failed changes)", n, 1+len(ids)*len(steps))
	}
	e.do(&c, "GET", "/webhooks/events/"+url.PathEscape(ghost.ID), "").want(t, 404, "NOT_FOUND")
	states := map[string]int{}
	var first map[string]any
	for _, v := range list.body["data"].([]any) {
		ev := v.(map[string]any)
		states[ev["state"].(string)]++
		if ev["type"] != "TEST" {
			first = ev // newest first: the last one seen is the oldest
		}
		if ev["type"] == "TEST" && ev["state"] != "DEAD" {
			t.Errorf("TEST webhook state = %v, want DEAD (not retried)", ev["state"])
		}
	}
	if states["DELIVERED"] != len(ids)*len(steps) {
		t.Errorf("states = %v", states)
	}
	if first["attempts"].(float64) < 2 || first["deliveredAt"] == nil || first["nextAttemptAt"] != nil {
		t.Errorf("oldest customer webhook = %v, want delivered after retries", first)
	}
	at := e.do(&c, "GET", "/webhooks/events/"+first["id"].(string)+"/attempts", "").want(t, 200, "")
	as := at.body["data"].([]any)
	if len(as) != int(first["attempts"].(float64)) {
		t.Fatalf("%d attempts listed, event says %v", len(as), first["attempts"])
	}
	for i, v := range as {
		a := v.(map[string]any)
		if i < len(as)-1 && (a["statusCode"] != float64(503) || a["error"] == nil) {
			t.Errorf("attempt %d = %v, want a 503 with an error", i, a)
		}
		if i == len(as)-1 && (a["statusCode"] != float64(200) || a["error"] != nil) {
			t.Errorf("last attempt = %v, want 200 without error", a)
		}
	}
}

func TestSendTestWebhook(t *testing.T) {
	e := newWebhookEnv(t, false)
	_, c := e.platform(grid.PlatformSpec{Name: "shop", UMADomain: "uma.shop.test"})
	rcv := newHookReceiver(t, e, &c)
	view := e.token(mustPlatform(t, e, c), grid.PermView)

	e.do(&c, "POST", "/sandbox/webhooks/test", "").want(t, 400, "WEBHOOK_ENDPOINT_NOT_SET")
	e.do(&view, "POST", "/sandbox/webhooks/test", "").want(t, 403, "FORBIDDEN")
	e.do(nil, "POST", "/sandbox/webhooks/test", "").want(t, 401, "UNAUTHORIZED")

	endpoint := rcv.srv.URL + "/hooks?src=grid"
	e.do(&c, "PATCH", "/config", fmt.Sprintf(`{"webhookEndpoint":%q}`, endpoint)).want(t, 200, "")
	r := e.do(&c, "POST", "/sandbox/webhooks/test", "").want(t, 200, "")
	if r.str("url") != endpoint || r.body["response_status"] != float64(200) || r.str("response_body") != `{"received":true}` {
		t.Errorf("test webhook answer = %s", r.raw)
	}
	got := rcv.hooks()
	if len(got) != 1 || got[0].Type != "TEST" || got[0].Data == nil || len(got[0].Data) != 0 || got[0].Timestamp == "" {
		t.Fatalf("receiver got %+v, want one TEST webhook with empty data", got)
	}

	// An answer that is not 2xx is reported as it is.
	rcv.setStatus(http.StatusInternalServerError)
	r = e.do(&c, "POST", "/sandbox/webhooks/test", "").want(t, 200, "")
	if r.body["response_status"] != float64(500) || r.str("response_body") != `{"error":"not now"}` {
		t.Errorf("test webhook answer = %s", r.raw)
	}

	// No answer at all is WEBHOOK_DELIVERY_ERROR.
	rcv.srv.Close()
	r = e.do(&c, "POST", "/sandbox/webhooks/test", "").want(t, 400, "WEBHOOK_DELIVERY_ERROR")
	if details, _ := r.body["details"].(map[string]any); details["url"] != endpoint {
		t.Errorf("delivery error details = %v", r.body["details"])
	}
}

// mustPlatform returns the platform a credential belongs to.
func mustPlatform(t testing.TB, e *env, c cred) *grid.Platform {
	t.Helper()
	p, err := e.svc.Authenticate(context.Background(), c.id, c.secret)
	if err != nil {
		t.Fatal(err)
	}
	return p.Platform
}

func TestWebhookEventsAPI(t *testing.T) {
	e := newWebhookEnv(t, true)
	_, c := e.platform(grid.PlatformSpec{Name: "bank", UMADomain: "uma.bank.test", Regulated: true})
	_, other := e.platform(grid.PlatformSpec{Name: "other", UMADomain: "uma.other.test"})
	rcv := newHookReceiver(t, e, &c)
	view := e.token(mustPlatform(t, e, c), grid.PermView)
	e.do(&c, "PATCH", "/config", fmt.Sprintf(`{"webhookEndpoint":%q}`, rcv.srv.URL)).want(t, 200, "")
	for i := range 5 {
		e.do(&c, "POST", "/customers", fmt.Sprintf(`{"customerType":"INDIVIDUAL","platformCustomerId":"e-%d","kycStatus":"APPROVED"}`, i)).want(t, 201, "")
	}
	rcv.waitFor(t, "six webhooks", func(h []hook) bool { return len(h) >= 6 })
	waitUntil(t, "six outcomes to be recorded", func() bool {
		r := e.do(&view, "GET", "/webhooks/events?state=DELIVERED", "").want(t, 200, "")
		return r.body["totalCount"] == float64(6)
	})

	// Paging, newest first.
	var all []string
	path := "/webhooks/events?limit=2"
	for page := 0; ; page++ {
		r := e.do(&view, "GET", path, "").want(t, 200, "")
		for _, v := range r.body["data"].([]any) {
			all = append(all, v.(map[string]any)["id"].(string))
		}
		if r.body["hasMore"] != true {
			break
		}
		path = "/webhooks/events?limit=2&cursor=" + url.QueryEscape(r.str("nextCursor"))
	}
	if len(all) != 6 || !slices.IsSortedFunc(all, func(a, b string) int { return -cmpString(a, b) }) {
		t.Errorf("paged ids = %v, want 6 newest first", all)
	}
	e.do(&view, "GET", "/webhooks/events?state=LOST", "").want(t, 400, "INVALID_INPUT")
	e.do(&view, "GET", "/webhooks/events?cursor=nope", "").want(t, 400, "INVALID_INPUT")
	r := e.do(&view, "GET", "/webhooks/events?state=DELIVERED", "").want(t, 200, "")
	if r.body["totalCount"] != float64(6) {
		t.Errorf("DELIVERED totalCount = %v, want 6", r.body["totalCount"])
	}

	id := all[0]
	esc := url.PathEscape(id)
	ev := e.do(&view, "GET", "/webhooks/events/"+esc, "").want(t, 200, "")
	if ev.str("state") != "DELIVERED" || ev.body["attempts"] != float64(1) {
		t.Errorf("event = %s", ev.raw)
	}
	e.do(&view, "GET", "/webhooks/events/"+id+"/attempts", "").want(t, 200, "")

	// Another platform cannot see or touch it.
	e.do(&other, "GET", "/webhooks/events/"+esc, "").want(t, 404, "NOT_FOUND")
	e.do(&other, "GET", "/webhooks/events/"+esc+"/attempts", "").want(t, 404, "NOT_FOUND")
	e.do(&other, "POST", "/webhooks/events/"+esc+"/redeliver", "").want(t, 404, "NOT_FOUND")
	if r := e.do(&other, "GET", "/webhooks/events", "").want(t, 200, ""); r.body["totalCount"] != float64(0) {
		t.Errorf("other platform sees %v events", r.body["totalCount"])
	}
	e.do(&c, "POST", "/webhooks/events/Webhook:0000/redeliver", "").want(t, 404, "NOT_FOUND")

	// Redelivery needs MANAGE and sends the same webhook again.
	e.do(&view, "POST", "/webhooks/events/"+esc+"/redeliver", "").want(t, 403, "FORBIDDEN")
	r = e.do(&c, "POST", "/webhooks/events/"+esc+"/redeliver", "").want(t, 202, "")
	if r.str("id") != id || r.str("nextAttemptAt") == "" {
		t.Errorf("redeliver answer = %s", r.raw)
	}
	rcv.waitFor(t, "the redelivery", func(h []hook) bool {
		n := 0
		for _, x := range h {
			if x.ID == id {
				n++
			}
		}
		return n == 2
	})
	waitUntil(t, "the redelivery to be recorded", func() bool {
		r := e.do(&view, "GET", "/webhooks/events/"+esc, "").want(t, 200, "")
		return r.str("state") == "DELIVERED" && r.body["attempts"] == float64(2)
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWebhooksWithoutSender: an API built without a sender still lists events but cannot
// sign.
func TestWebhooksWithoutSender(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(grid.PlatformSpec{Name: "shop", UMADomain: "uma.shop.test", Webhook: "https://hooks.example.com/x"})
	e.do(&c, "GET", "/webhooks/public-key", "").want(t, 501, "NOT_IMPLEMENTED")
	e.do(&c, "POST", "/sandbox/webhooks/test", "").want(t, 501, "NOT_IMPLEMENTED")
	e.do(&c, "GET", "/webhooks/events", "").want(t, 200, "")
}
