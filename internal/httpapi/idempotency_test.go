package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/apitest"
	"github.com/gridd/gridd/internal/grid"
)

const tokenBody = `{"name": "ci", "permissions": ["VIEW"]}`

// customerCount returns how many active customers a platform has.
func (e *env) customerCount(p *grid.Platform) int {
	e.t.Helper()
	page, err := e.store.ListCustomers(context.Background(), p.ID, grid.CustomerFilter{})
	if err != nil {
		e.t.Fatalf("list customers: %v", err)
	}
	return page.TotalCount
}

// send makes a request and checks its answer against the project's document only. It is for
// answers the public Grid document has no code for (Grid's Error409 lists no idempotency
// codes) and for use from several goroutines (it never calls Fatal; check is separate).
func (e *env) send(c *cred, method, path, body string, headers ...string) (*http.Request, resp, error) {
	req, err := http.NewRequest(method, e.srv.URL+base+path, strings.NewReader(body))
	if err != nil {
		return nil, resp{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	req.SetBasicAuth(c.id, c.secret)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		return nil, resp{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return req, resp{status: res.StatusCode, header: res.Header, raw: raw}, err
}

// checkOurs validates a response from send against api/openapi.yaml and decodes its body.
func (e *env) checkOurs(req *http.Request, path string, r resp) resp {
	e.t.Helper()
	apitest.Ours(e.t).Check(e.t, req, path, r.status, r.header, r.raw)
	r.body = nil
	if err := json.Unmarshal(r.raw, &r.body); err != nil {
		e.t.Fatalf("%s %s: body is not JSON: %v\n%s", req.Method, path, err, r.raw)
	}
	return r
}

// wantReplay checks that second is a replay of first: same status, Content-Type and bytes.
func wantReplay(t testing.TB, first, second resp) {
	t.Helper()
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("first answer has Idempotent-Replayed = %q, want none", first.header.Get("Idempotent-Replayed"))
	}
	if got := second.header.Get("Idempotent-Replayed"); got != "true" {
		t.Errorf("replay has Idempotent-Replayed = %q, want true", got)
	}
	if first.status != second.status {
		t.Errorf("replay status = %d, want %d", second.status, first.status)
	}
	if a, b := first.header.Get("Content-Type"), second.header.Get("Content-Type"); a != b {
		t.Errorf("replay Content-Type = %q, want %q", b, a)
	}
	if !bytes.Equal(first.raw, second.raw) {
		t.Errorf("replay body differs:\nfirst:  %s\nreplay: %s", first.raw, second.raw)
	}
}

func TestIdempotentReplay(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	first := e.do(&c, "POST", "/customers", seedBody, "Idempotency-Key", "create-jane-1").want(t, 201, "")
	second := e.do(&c, "POST", "/customers", seedBody, "Idempotency-Key", "create-jane-1").want(t, 201, "")
	wantReplay(t, first, second)
	if n := e.customerCount(p); n != 1 {
		t.Errorf("platform has %d customers after a replay, want 1", n)
	}

	// Without a key nothing is replayed: the same body now clashes with the customer.
	e.do(&c, "POST", "/customers", seedBody).want(t, 409, "CONFLICT")

	// Keys are per platform: another platform's identical key is a new request.
	p2, c2 := e.platform(grid.PlatformSpec{Name: "other", UMADomain: "uma.other.test", Sandbox: true})
	other := e.do(&c2, "POST", "/customers", seedBody, "Idempotency-Key", "create-jane-1").want(t, 201, "")
	if other.header.Get("Idempotent-Replayed") != "" || other.str("id") == first.str("id") {
		t.Errorf("another platform's request was replayed: %s", other.raw)
	}
	if n := e.customerCount(p2); n != 1 {
		t.Errorf("second platform has %d customers, want 1", n)
	}
}

func TestIdempotencyKeyReused(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	e.do(&c, "POST", "/customers", seedBody, "Idempotency-Key", "k1").want(t, 201, "")

	other := strings.Replace(seedBody, "Jane Smith", "Jane Smythe", 1)
	req, r, err := e.send(&c, "POST", "/customers", other, "Idempotency-Key", "k1")
	if err != nil {
		t.Fatal(err)
	}
	e.checkOurs(req, "/customers", r).want(t, 409, "IDEMPOTENCY_KEY_REUSED")
	if r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("a rejected reuse is marked as a replay")
	}
	// Another path with the same key is another request too.
	e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "k1").want(t, 409, "IDEMPOTENCY_KEY_REUSED")
	if n := e.customerCount(p); n != 1 {
		t.Errorf("platform has %d customers, want 1", n)
	}
}

func TestIdempotencyConcurrentRetries(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	const n = 20
	var wg sync.WaitGroup
	reqs := make([]*http.Request, n)
	answers := make([]resp, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			reqs[i], answers[i], errs[i] = e.send(&c, "POST", "/customers", seedBody, "Idempotency-Key", "burst")
		}()
	}
	close(start)
	wg.Wait()
	replays := 0
	var id string
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		r := e.checkOurs(reqs[i], "/customers", answers[i]).want(t, 201, "")
		apitest.Grid(t).Check(t, reqs[i], "/customers", r.status, r.header, r.raw)
		if i == 0 {
			id = r.str("id")
		}
		if r.str("id") != id || id == "" {
			t.Errorf("answer %d has id %q, answer 0 has %q", i, r.str("id"), id)
		}
		if !bytes.Equal(r.raw, answers[0].raw) {
			t.Errorf("answer %d differs from answer 0:\n%s\n%s", i, r.raw, answers[0].raw)
		}
		if r.header.Get("Idempotent-Replayed") == "true" {
			replays++
		}
	}
	if replays != n-1 {
		t.Errorf("%d of %d answers are replays, want %d", replays, n, n-1)
	}
	if got := e.customerCount(p); got != 1 {
		t.Errorf("platform has %d customers, want 1", got)
	}
}

func TestIdempotencyReplaysClientErrors(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	bad := `{"customerType": "INDIVIDUAL", "birthDate": "not a date", "unknownField": true}`
	first := e.do(&c, "POST", "/customers", bad, "Idempotency-Key", "bad-1").want(t, 400, "INVALID_INPUT")
	second := e.do(&c, "POST", "/customers", bad, "Idempotency-Key", "bad-1").want(t, 400, "INVALID_INPUT")
	wantReplay(t, first, second)

	// The key stays bound to the failed request: a corrected body needs a new key.
	req, r, err := e.send(&c, "POST", "/customers", seedBody, "Idempotency-Key", "bad-1")
	if err != nil {
		t.Fatal(err)
	}
	e.checkOurs(req, "/customers", r).want(t, 409, "IDEMPOTENCY_KEY_REUSED")
	e.do(&c, "POST", "/customers", seedBody, "Idempotency-Key", "bad-2").want(t, 201, "")
	if n := e.customerCount(p); n != 1 {
		t.Errorf("platform has %d customers, want 1", n)
	}
}

func TestIdempotencyTokenReplayIsSealed(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	first := e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "tok-1").want(t, 201, "")
	second := e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "tok-1").want(t, 201, "")
	wantReplay(t, first, second)
	if cc := second.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("replayed token answer has Cache-Control %q, want no-store", cc)
	}
	secret := first.str("clientSecret")
	rows, err := e.store.DB().Query(`SELECT body FROM idempotency_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		if secret == "" || bytes.Contains(body, []byte(secret)) {
			t.Errorf("recorded response holds the token secret in clear")
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// ageKeys moves every recorded key's timestamps back by d, as if it had been used d ago.
func (e *env) ageKeys(d time.Duration, set string) {
	e.t.Helper()
	_, err := e.store.DB().Exec(`UPDATE idempotency_keys SET created_at = created_at - $1, claimed_at = claimed_at - $1`+set, d.Microseconds())
	if err != nil {
		e.t.Fatalf("age idempotency keys: %v", err)
	}
}

func TestIdempotencyKeyExpires(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	first := e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "daily").want(t, 201, "")
	e.ageKeys(grid.DefaultIdempotencyTTL+time.Minute, "")
	again := e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "daily").want(t, 201, "")
	if again.header.Get("Idempotent-Replayed") != "" || again.str("id") == first.str("id") {
		t.Fatalf("an expired key was replayed: %s", again.raw)
	}
	// The key now belongs to the new request.
	wantReplay(t, again, e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "daily"))

	// An expired key may be reused with another body.
	e.ageKeys(grid.DefaultIdempotencyTTL+time.Minute, "")
	e.do(&c, "POST", "/tokens", `{"name": "other", "permissions": ["VIEW"]}`, "Idempotency-Key", "daily").want(t, 201, "")

	// Sweeping removes expired rows only.
	e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "fresh").want(t, 201, "")
	e.ageKeys(grid.DefaultIdempotencyTTL+time.Minute, " WHERE key = 'daily'")
	var swept int64
	err := e.store.WithTx(context.Background(), func(tx grid.Tx) error {
		var err error
		swept, err = tx.DeleteIdempotencyKeysBefore(context.Background(), e.svc.Now().Add(-grid.DefaultIdempotencyTTL))
		return err
	})
	if err != nil || swept != 1 {
		t.Fatalf("sweep removed %d rows (err %v), want 1", swept, err)
	}
}

func TestIdempotencyPendingClaims(t *testing.T) {
	e := newEnv(t)
	e.svc.SetIdempotencyPolicy(grid.IdempotencyPolicy{Wait: 300 * time.Millisecond})
	_, c := e.platform(sandbox())
	first := e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "stuck").want(t, 201, "")

	// A claim still within its lease whose request never finishes: a retry waits, then
	// gives up with 409 IDEMPOTENCY_KEY_IN_USE and creates nothing.
	e.ageKeys(0, ", state = 'pending', status = 0, content_type = '', body = NULL")
	began := time.Now()
	r := e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "stuck").want(t, 409, "IDEMPOTENCY_KEY_IN_USE")
	if waited := time.Since(began); waited < 250*time.Millisecond {
		t.Errorf("the retry answered after %v, want it to wait for the first request", waited)
	}
	if r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("409 IDEMPOTENCY_KEY_IN_USE is marked as a replay")
	}

	// Past its lease the claim is presumed dead (its node crashed) and is taken over.
	e.ageKeys(grid.DefaultIdempotencyLease+time.Second, "")
	again := e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "stuck").want(t, 201, "")
	if again.header.Get("Idempotent-Replayed") != "" || again.str("id") == first.str("id") {
		t.Fatalf("a dead claim was not taken over: %s", again.raw)
	}
	wantReplay(t, again, e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "stuck"))
}

func TestIdempotencyKeyInvalid(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	for name, key := range map[string]string{
		"empty":     "",
		"too long":  strings.Repeat("k", 256),
		"non-ASCII": "clé",
		"tab":       "a\tb",
	} {
		r := e.do(&c, "POST", "/customers", seedBody, "Idempotency-Key", key).want(t, 400, "INVALID_INPUT")
		if got := r.fields(); len(got) != 1 || got[0] != "Idempotency-Key" {
			t.Errorf("%s key: fields = %v, want [Idempotency-Key]", name, got)
		}
	}
	req, r, err := e.send(&c, "POST", "/customers", seedBody, "Idempotency-Key", "a", "Idempotency-Key", "b")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.checkOurs(req, "/customers", r).want(t, 400, "INVALID_INPUT").fields(); len(got) != 1 || got[0] != "Idempotency-Key" {
		t.Errorf("two keys: fields = %v, want [Idempotency-Key]", got)
	}
	if n := e.customerCount(p); n != 0 {
		t.Errorf("platform has %d customers, want 0", n)
	}
	// The longest and the widest keys are accepted; other methods ignore the header.
	e.do(&c, "POST", "/customers", seedBody, "Idempotency-Key", strings.Repeat("~", 255)).want(t, 201, "")
	e.do(&c, "POST", "/tokens", tokenBody, "Idempotency-Key", "a !\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~").want(t, 201, "")
	e.do(&c, "GET", "/tokens", "", "Idempotency-Key", "").want(t, 200, "")
}
