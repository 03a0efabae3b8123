package httpapi_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/api"
	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/httpapi"
	"github.com/gridd/gridd/internal/seal"
	"github.com/gridd/gridd/internal/sqlite"
)

// contactCapture records the codes the service hands out, in place of email and SMS.
type contactCapture struct {
	mu   sync.Mutex
	msgs []grid.ContactMessage
	fail error
}

func (c *contactCapture) SendContactCode(_ context.Context, m grid.ContactMessage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	return c.fail
}

func (c *contactCapture) setFail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = err
}

func (c *contactCapture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// last returns the latest message, failing when none was sent.
func (c *contactCapture) last(t testing.TB) grid.ContactMessage {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.msgs) == 0 {
		t.Fatal("no verification code was sent")
	}
	return c.msgs[len(c.msgs)-1]
}

// contactTestClock is a clock the test moves by hand.
type contactTestClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *contactTestClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *contactTestClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newContactEnv is newEnv with a clock the test sets and a sender that captures codes.
func newContactEnv(t testing.TB) (*env, *contactCapture, *contactTestClock) {
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
	clock := &contactTestClock{t: time.Now().UTC().Truncate(time.Second)}
	sender := &contactCapture{}
	svc := grid.NewService(st, box, clock.now)
	svc.SetContactSender(sender)
	srv := httptest.NewServer(httpapi.New(svc, httpapi.Options{BasePath: base, OpenAPI: api.OpenAPI}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &env{t: t, srv: srv, svc: svc, store: st, dbPath: path}, sender, clock
}

// contactPlatform is a production platform whose customers verify email and phone.
func contactPlatform() grid.PlatformSpec {
	return grid.PlatformSpec{Name: "eu-bank", UMADomain: "uma.eubank.test", ContactVerification: []string{"email", "phone"}}
}

const contactCustomerBody = `{"customerType":"INDIVIDUAL","region":"DE","email":"jane@example.com","phoneNumber":"+4915123456789"}`

var reContactCode = regexp.MustCompile(`^[0-9]{6}$`)

func contactState(r resp) map[string]any {
	cv, _ := r.body["contactVerification"].(map[string]any)
	return cv
}

func TestContactVerificationFlow(t *testing.T) {
	e, sender, _ := newContactEnv(t)
	p, c := e.platform(contactPlatform())
	cust := e.do(&c, "POST", "/customers", contactCustomerBody).want(t, 201, "")
	path := "/customers/" + cust.str("id")
	if cv := contactState(cust); cv["email"] != "PENDING" || cv["phone"] != "PENDING" {
		t.Fatalf("contactVerification at creation = %v, want both PENDING", cv)
	}

	// Email.
	e.do(&c, "POST", path+"/verify-email", "").want(t, 204, "")
	msg := sender.last(t)
	if msg.Channel != "email" || msg.To != "jane@example.com" || msg.CustomerID != cust.str("id") || msg.PlatformID != p.ID || msg.Sandbox || !reContactCode.MatchString(msg.Code) {
		t.Fatalf("sent %+v, want a 6-digit email code to jane@example.com", msg)
	}
	wrong := "000000"
	if msg.Code == wrong {
		wrong = "111111"
	}
	bad := e.do(&c, "POST", path+"/verify-email/confirm", `{"code":"`+wrong+`"}`).want(t, 400, "INVALID_INPUT")
	if f := bad.fields(); len(f) != 1 || f[0] != "code" {
		t.Errorf("wrong code names fields %v, want [code]", f)
	}
	// No phone code was sent yet: the email code does not verify the phone.
	e.do(&c, "POST", path+"/verify-phone/confirm", `{"code":"`+msg.Code+`"}`).want(t, 400, "INVALID_INPUT")
	ok := e.do(&c, "POST", path+"/verify-email/confirm", `{"code":"`+msg.Code+`"}`).want(t, 200, "")
	if cv := contactState(ok); cv["email"] != "VERIFIED" || cv["phone"] != "PENDING" {
		t.Errorf("contactVerification after the email code = %v, want email VERIFIED, phone PENDING", cv)
	}
	if ok.str("id") != cust.str("id") || ok.str("updatedAt") == "" {
		t.Errorf("confirm answered %s, want the customer", ok.raw)
	}
	// Verified: nothing more to send or confirm, and the used code is gone.
	e.do(&c, "POST", path+"/verify-email/confirm", `{"code":"`+msg.Code+`"}`).want(t, 409, "CONFLICT")
	e.do(&c, "POST", path+"/verify-email", "").want(t, 409, "CONFLICT")

	// Phone.
	e.do(&c, "POST", path+"/verify-phone", "").want(t, 204, "")
	msg = sender.last(t)
	if msg.Channel != "phone" || msg.To != "+4915123456789" || !reContactCode.MatchString(msg.Code) {
		t.Fatalf("sent %+v, want a phone code to +4915123456789", msg)
	}
	ok = e.do(&c, "POST", path+"/verify-phone/confirm", `{"code":"`+msg.Code+`"}`).want(t, 200, "")
	if cv := contactState(ok); cv["email"] != "VERIFIED" || cv["phone"] != "VERIFIED" {
		t.Errorf("contactVerification after both codes = %v, want both VERIFIED", cv)
	}
	got := e.do(&c, "GET", path, "").want(t, 200, "")
	if cv := contactState(got); cv["email"] != "VERIFIED" || cv["phone"] != "VERIFIED" {
		t.Errorf("GET after both codes: contactVerification = %v", cv)
	}

	// A new email must be verified again; the new code goes to the new address.
	e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","email":"jane.roe@example.com"}`).want(t, 200, "")
	e.do(&c, "POST", path+"/verify-email", "").want(t, 204, "")
	if to := sender.last(t).To; to != "jane.roe@example.com" {
		t.Errorf("code sent to %q, want the new address", to)
	}
	e.do(&c, "POST", path+"/verify-email/confirm", `{"code":"`+sender.last(t).Code+`"}`).want(t, 200, "")
}

func TestContactVerificationSandbox(t *testing.T) {
	e, sender, _ := newContactEnv(t)
	spec := contactPlatform()
	spec.Sandbox = true
	_, c := e.platform(spec)
	path := "/customers/" + e.do(&c, "POST", "/customers", contactCustomerBody).want(t, 201, "").str("id")

	for _, ch := range []string{"email", "phone"} {
		e.do(&c, "POST", path+"/verify-"+ch, "").want(t, 204, "")
		if msg := sender.last(t); msg.Code != "123456" || !msg.Sandbox || msg.Channel != ch {
			t.Errorf("sandbox %s code = %+v, want 123456 marked sandbox", ch, msg)
		}
		e.do(&c, "POST", path+"/verify-"+ch+"/confirm", `{"code":"654321"}`).want(t, 400, "INVALID_INPUT")
		e.do(&c, "POST", path+"/verify-"+ch+"/confirm", `{"code":"123456"}`).want(t, 200, "")
	}
	if cv := contactState(e.do(&c, "GET", path, "").want(t, 200, "")); cv["email"] != "VERIFIED" || cv["phone"] != "VERIFIED" {
		t.Errorf("contactVerification = %v, want both VERIFIED", cv)
	}
}

func TestContactWrongCodesLockOut(t *testing.T) {
	e, sender, _ := newContactEnv(t)
	_, c := e.platform(contactPlatform())
	path := "/customers/" + e.do(&c, "POST", "/customers", contactCustomerBody).want(t, 201, "").str("id")
	e.do(&c, "POST", path+"/verify-email", "").want(t, 204, "")
	code := sender.last(t).Code
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := range 5 {
		r := e.do(&c, "POST", path+"/verify-email/confirm", `{"code":"`+wrong+`"}`).want(t, 400, "INVALID_INPUT")
		if f := r.fields(); len(f) != 1 || f[0] != "code" {
			t.Errorf("attempt %d names fields %v, want [code]", i+1, f)
		}
	}
	// Locked: even the right code is refused until a new one is sent.
	r := e.do(&c, "POST", path+"/verify-email/confirm", `{"code":"`+code+`"}`).want(t, 429, "RATE_LIMITED")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want a number of seconds", r.header.Get("Retry-After"))
	}
	if r.body["status"] != float64(429) {
		t.Errorf("429 body = %s", r.raw)
	}
	e.do(&c, "POST", path+"/verify-email", "").want(t, 204, "")
	fresh := sender.last(t).Code
	// The old code is replaced by the new one.
	if fresh != code {
		e.do(&c, "POST", path+"/verify-email/confirm", `{"code":"`+code+`"}`).want(t, 400, "INVALID_INPUT")
	}
	e.do(&c, "POST", path+"/verify-email/confirm", `{"code":"`+fresh+`"}`).want(t, 200, "")
}

func TestContactCodeExpiry(t *testing.T) {
	e, sender, clock := newContactEnv(t)
	_, c := e.platform(contactPlatform())
	path := "/customers/" + e.do(&c, "POST", "/customers", contactCustomerBody).want(t, 201, "").str("id")

	e.do(&c, "POST", path+"/verify-phone", "").want(t, 204, "")
	code := sender.last(t).Code
	clock.advance(10 * time.Minute)
	r := e.do(&c, "POST", path+"/verify-phone/confirm", `{"code":"`+code+`"}`).want(t, 400, "INVALID_INPUT")
	if f := r.fields(); len(f) != 1 || f[0] != "code" {
		t.Errorf("expired code names fields %v, want [code]", f)
	}

	e.do(&c, "POST", path+"/verify-phone", "").want(t, 204, "")
	clock.advance(10*time.Minute - time.Second)
	e.do(&c, "POST", path+"/verify-phone/confirm", `{"code":"`+sender.last(t).Code+`"}`).want(t, 200, "")
}

func TestContactSendRateLimit(t *testing.T) {
	e, sender, clock := newContactEnv(t)
	_, c := e.platform(contactPlatform())
	path := "/customers/" + e.do(&c, "POST", "/customers", contactCustomerBody).want(t, 201, "").str("id")

	for range 5 {
		e.do(&c, "POST", path+"/verify-email", "").want(t, 204, "")
		clock.advance(time.Minute)
	}
	r := e.do(&c, "POST", path+"/verify-email", "").want(t, 429, "RATE_LIMITED")
	if got := r.header.Get("Retry-After"); got != strconv.Itoa(55*60) {
		t.Errorf("Retry-After = %q, want %d (the rest of the hour)", got, 55*60)
	}
	if n := sender.count(); n != 5 {
		t.Errorf("%d codes sent, want 5", n)
	}
	// The limit is per channel.
	e.do(&c, "POST", path+"/verify-phone", "").want(t, 204, "")
	// The last code sent still works while sending is refused.
	e.do(&c, "POST", path+"/verify-phone/confirm", `{"code":"`+sender.last(t).Code+`"}`).want(t, 200, "")

	clock.advance(55 * time.Minute)
	e.do(&c, "POST", path+"/verify-email", "").want(t, 204, "")
}

func TestContactVerificationRefusals(t *testing.T) {
	e, sender, _ := newContactEnv(t)
	_, c := e.platform(contactPlatform())
	_, plain := e.platform(grid.PlatformSpec{Name: "us-shop", UMADomain: "uma.usshop.test"})
	_, emailOnly := e.platform(grid.PlatformSpec{Name: "email-only", UMADomain: "uma.emailonly.test", ContactVerification: []string{"email"}})
	cust := e.do(&c, "POST", "/customers", contactCustomerBody).want(t, 201, "")
	path := "/customers/" + cust.str("id")

	// Platforms that do not require a channel.
	plainPath := "/customers/" + e.do(&plain, "POST", "/customers", contactCustomerBody).want(t, 201, "").str("id")
	for _, op := range []string{"/verify-email", "/verify-phone"} {
		e.do(&plain, "POST", plainPath+op, "").want(t, 409, "CONFLICT")
		e.do(&plain, "POST", plainPath+op+"/confirm", `{"code":"123456"}`).want(t, 409, "CONFLICT")
	}
	emailOnlyPath := "/customers/" + e.do(&emailOnly, "POST", "/customers", contactCustomerBody).want(t, 201, "").str("id")
	e.do(&emailOnly, "POST", emailOnlyPath+"/verify-phone", "").want(t, 409, "CONFLICT")
	e.do(&emailOnly, "POST", emailOnlyPath+"/verify-email", "").want(t, 204, "")

	// Another platform's customer and unknown ids.
	e.do(&plain, "POST", path+"/verify-email", "").want(t, 404, "USER_NOT_FOUND")
	e.do(&plain, "POST", path+"/verify-email/confirm", `{"code":"123456"}`).want(t, 404, "USER_NOT_FOUND")
	e.do(&c, "POST", "/customers/Customer:019ab3c2-6f1e-7c3a-9d2e-4b5f6a7b8c9d/verify-phone", "").want(t, 404, "USER_NOT_FOUND")

	// Permissions.
	p := principalOf(t, e, c).Platform
	view := e.token(p, grid.PermView)
	e.do(&view, "POST", path+"/verify-email", "").want(t, 403, "FORBIDDEN")
	e.do(&view, "POST", path+"/verify-email/confirm", `{"code":"123456"}`).want(t, 403, "FORBIDDEN")
	e.do(nil, "POST", path+"/verify-email", "").want(t, 401, "UNAUTHORIZED")

	// Bodies of confirm.
	for _, body := range []string{`{}`, `{"code":"12345"}`, `{"code":"abcdef"}`, `{"code":123456}`, `{"code":"123456","extra":1}`} {
		r := e.do(&c, "POST", path+"/verify-email/confirm", body).want(t, 400, "INVALID_INPUT")
		if len(r.fields()) == 0 {
			t.Errorf("%s: no field named: %s", body, r.raw)
		}
	}
	// No code was sent yet.
	r := e.do(&c, "POST", path+"/verify-email/confirm", `{"code":"123456"}`).want(t, 400, "INVALID_INPUT")
	if f := r.fields(); len(f) != 1 || f[0] != "code" {
		t.Errorf("confirm before any code names %v, want [code]", f)
	}

	// A customer without a phone number.
	noPhone := "/customers/" + e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","region":"DE","email":"ann@example.com"}`).want(t, 201, "").str("id")
	r = e.do(&c, "POST", noPhone+"/verify-phone", "").want(t, 400, "MISSING_MANDATORY_USER_INFO")
	if f := r.fields(); len(f) != 1 || f[0] != "phoneNumber" {
		t.Errorf("missing phone names %v, want [phoneNumber]", f)
	}

	// A code sent before the email changed does not verify the new address.
	e.do(&c, "POST", path+"/verify-email", "").want(t, 204, "")
	old := sender.last(t).Code
	e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","email":"jane.roe@example.com"}`).want(t, 200, "")
	e.do(&c, "POST", path+"/verify-email/confirm", `{"code":"`+old+`"}`).want(t, 400, "INVALID_INPUT")

	// A deleted customer.
	e.do(&c, "DELETE", path, "").want(t, 200, "")
	e.do(&c, "POST", path+"/verify-phone", "").want(t, 410, "CUSTOMER_DELETED")
	e.do(&c, "POST", path+"/verify-phone/confirm", `{"code":"123456"}`).want(t, 410, "CUSTOMER_DELETED")
}

func TestContactSendIdempotent(t *testing.T) {
	e, sender, _ := newContactEnv(t)
	_, c := e.platform(contactPlatform())
	path := "/customers/" + e.do(&c, "POST", "/customers", contactCustomerBody).want(t, 201, "").str("id")
	first := e.do(&c, "POST", path+"/verify-email", "", "Idempotency-Key", "send-1").want(t, 204, "")
	second := e.do(&c, "POST", path+"/verify-email", "", "Idempotency-Key", "send-1").want(t, 204, "")
	wantReplay(t, first, second)
	if n := sender.count(); n != 1 {
		t.Errorf("%d codes sent for one Idempotency-Key, want 1", n)
	}
}

func TestContactDeliveryFailure(t *testing.T) {
	e, sender, _ := newContactEnv(t)
	_, c := e.platform(contactPlatform())
	id := e.do(&c, "POST", "/customers", contactCustomerBody).want(t, 201, "").str("id")
	relayDown := errors.New("relay down")
	sender.setFail(relayDown)
	err := e.svc.SendContactCode(t.Context(), principalOf(t, e, c), id, grid.ChannelEmail)
	if err == nil || !errors.Is(err, relayDown) {
		t.Fatalf("SendContactCode = %v, want the delivery error", err)
	}
	if _, isDomain := grid.AsError(err); isDomain {
		t.Errorf("a delivery failure is a client error %v, want an internal one", err)
	}
	// The stored code is the one that failed to go out; a resend replaces it.
	sender.setFail(nil)
	e.do(&c, "POST", "/customers/"+id+"/verify-email", "").want(t, 204, "")
	e.do(&c, "POST", "/customers/"+id+"/verify-email/confirm", `{"code":"`+sender.last(t).Code+`"}`).want(t, 200, "")
}
