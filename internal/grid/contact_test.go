package grid

import (
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var contactClock = time.Date(2025, 7, 21, 17, 32, 28, 0, time.UTC)

func contactCustomer(cv map[string]string) *Customer {
	return &Customer{
		ID: "Customer:c1", PlatformID: "PlatformConfig:p1", Type: Individual,
		Profile: Profile{Email: "jane@example.com", PhoneNumber: "+14155550100", ContactVerification: cv},
	}
}

// wantContactError checks an error's status, code and field names (nil fields: none checked).
func wantContactError(t *testing.T, err error, status int, code string, fields ...string) {
	t.Helper()
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("error = %v, want %d %s", err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("error = %d %s (%s), want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field)
	}
	if d := cmp.Diff(fields, got); len(fields) > 0 && d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
}

func TestContactTarget(t *testing.T) {
	both := &Platform{ContactVerification: []string{"email", "phone"}}
	none := &Platform{}
	deleted := contactCustomer(map[string]string{"email": "PENDING"})
	deleted.DeletedAt = &contactClock
	noEmail := contactCustomer(map[string]string{"email": "PENDING", "phone": "PENDING"})
	noEmail.Profile.Email = ""
	noPhone := contactCustomer(map[string]string{"phone": "PENDING"})
	noPhone.Profile.PhoneNumber = ""

	cases := []struct {
		name     string
		platform *Platform
		customer *Customer
		channel  string
		wantTo   string
		status   int
		code     string
		field    string
	}{
		{"pending email", both, contactCustomer(map[string]string{"email": "PENDING", "phone": "PENDING"}), "email", "jane@example.com", 0, "", ""},
		{"pending phone", both, contactCustomer(map[string]string{"email": "PENDING", "phone": "PENDING"}), "phone", "+14155550100", 0, "", ""},
		{"required by the platform since creation", both, contactCustomer(nil), "phone", "+14155550100", 0, "", ""},
		{"still carried by the customer", none, contactCustomer(map[string]string{"email": "PENDING"}), "email", "jane@example.com", 0, "", ""},
		{"not required", none, contactCustomer(nil), "email", "", 409, CodeConflict, ""},
		{"other channel not required", &Platform{ContactVerification: []string{"email"}}, contactCustomer(map[string]string{"email": "PENDING"}), "phone", "", 409, CodeConflict, ""},
		{"already verified", both, contactCustomer(map[string]string{"email": "VERIFIED"}), "email", "", 409, CodeConflict, ""},
		{"deleted", both, deleted, "email", "", 410, CodeCustomerDeleted, ""},
		{"no email", both, noEmail, "email", "", 400, CodeMissingMandatoryUserInf, "email"},
		{"no phone", both, noPhone, "phone", "", 400, CodeMissingMandatoryUserInf, "phoneNumber"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			to, err := contactTarget(tc.platform, tc.customer, tc.channel)
			if tc.status == 0 {
				if err != nil || to != tc.wantTo {
					t.Fatalf("contactTarget = %q, %v; want %q, nil", to, err, tc.wantTo)
				}
				return
			}
			var fields []string
			if tc.field != "" {
				fields = []string{tc.field}
			}
			wantContactError(t, err, tc.status, tc.code, fields...)
		})
	}
}

func TestCheckCodeFormat(t *testing.T) {
	for _, code := range []string{"", "12345", "1234567", "12345a", " 123456", "１２３４５６"} {
		if err := checkCodeFormat(code); err == nil {
			t.Errorf("checkCodeFormat(%q) = nil, want 400", code)
		} else {
			wantContactError(t, err, 400, CodeInvalidInput, "code")
		}
	}
	for _, code := range []string{"000000", "123456", "999999"} {
		if err := checkCodeFormat(code); err != nil {
			t.Errorf("checkCodeFormat(%q) = %v, want nil", code, err)
		}
	}
}

func TestNewContactCode(t *testing.T) {
	re := regexp.MustCompile(`^[0-9]{6}$`)
	seen := map[string]bool{}
	for range 200 {
		c := newContactCode()
		if !re.MatchString(c) {
			t.Fatalf("newContactCode() = %q, want 6 digits", c)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Errorf("200 codes gave only %d distinct values", len(seen))
	}
}

func TestContactHashIsSalted(t *testing.T) {
	a := contactHash("code", "Customer:a", "email", "123456")
	if cmp.Equal(a, contactHash("code", "Customer:b", "email", "123456")) {
		t.Error("the same code hashes alike for two customers")
	}
	if cmp.Equal(a, contactHash("code", "Customer:a", "phone", "123456")) {
		t.Error("the same code hashes alike for two channels")
	}
	if cmp.Equal(a, contactHash("destination", "Customer:a", "email", "123456")) {
		t.Error("a code and a destination hash alike")
	}
}

func TestContactIssue(t *testing.T) {
	pol := ContactPolicy{}.withDefaults()
	c := contactCustomer(nil)
	now := contactClock

	first, err := pol.issue(nil, c, "email", "jane@example.com", "111111", now)
	if err != nil {
		t.Fatal(err)
	}
	want := &ContactCode{
		PlatformID: c.PlatformID, CustomerID: c.ID, Channel: "email",
		CodeHash:        contactHash("code", c.ID, "email", "111111"),
		DestinationHash: contactHash("destination", c.ID, "email", "jane@example.com"),
		ExpiresAt:       now.Add(10 * time.Minute), WindowStart: now, Sends: 1, Version: 1, UpdatedAt: now,
	}
	if d := cmp.Diff(want, first); d != "" {
		t.Fatalf("first code (-want +got):\n%s", d)
	}

	// Resending replaces the code and forgets wrong guesses, within the same window.
	used := *first
	used.Attempts = 3
	later := now.Add(20 * time.Minute)
	second, err := pol.issue(&used, c, "email", "jane@example.com", "222222", later)
	if err != nil {
		t.Fatal(err)
	}
	if second.Sends != 2 || !second.WindowStart.Equal(now) || second.Attempts != 0 || second.Version != 2 ||
		!second.ExpiresAt.Equal(later.Add(10*time.Minute)) || cmp.Equal(second.CodeHash, first.CodeHash) {
		t.Errorf("second code = %+v", second)
	}

	// The sixth code within the hour is refused until the window ends.
	full := *second
	full.Sends = 5
	_, err = pol.issue(&full, c, "email", "jane@example.com", "333333", now.Add(59*time.Minute))
	wantContactError(t, err, 429, CodeRateLimited)
	if e, _ := AsError(err); e.RetryAfter != time.Minute || e.RetryAfterSeconds() != 60 {
		t.Errorf("RetryAfter = %v (%d s), want 1m", e.RetryAfter, e.RetryAfterSeconds())
	}
	fresh, err := pol.issue(&full, c, "email", "jane@example.com", "333333", now.Add(time.Hour))
	if err != nil {
		t.Fatalf("a code after the window: %v", err)
	}
	if fresh.Sends != 1 || !fresh.WindowStart.Equal(now.Add(time.Hour)) {
		t.Errorf("new window: sends %d from %v, want 1 from %v", fresh.Sends, fresh.WindowStart, now.Add(time.Hour))
	}
}

func TestContactCheck(t *testing.T) {
	pol := ContactPolicy{}.withDefaults()
	c := contactCustomer(nil)
	const to = "jane@example.com"
	rec, err := pol.issue(nil, c, "email", to, "424242", contactClock)
	if err != nil {
		t.Fatal(err)
	}
	at := contactClock.Add(time.Minute)
	with := func(f func(r *ContactCode)) *ContactCode {
		r := *rec
		f(&r)
		return &r
	}

	// The right code is used up.
	next, err := pol.check(rec, c.ID, to, "424242", at)
	if err != nil {
		t.Fatalf("right code: %v", err)
	}
	if next.CodeHash != nil || next.Attempts != 0 || next.Version != rec.Version+1 || !next.UpdatedAt.Equal(at) {
		t.Errorf("after the right code: %+v", next)
	}

	// A wrong code is counted and answered 400 on code.
	next, err = pol.check(rec, c.ID, to, "000000", at)
	wantContactError(t, err, 400, CodeInvalidInput, "code")
	if next == nil || next.Attempts != 1 || next.Version != rec.Version+1 || !cmp.Equal(next.CodeHash, rec.CodeHash) {
		t.Errorf("after a wrong code: %+v", next)
	}

	refusals := []struct {
		name   string
		rec    *ContactCode
		code   string
		at     time.Time
		to     string
		status int
		code2  string
		wait   time.Duration
	}{
		{"no outstanding code", with(func(r *ContactCode) { r.CodeHash = nil }), "424242", at, to, 400, CodeInvalidInput, 0},
		{"locked, even with the right code", with(func(r *ContactCode) { r.Attempts = 5 }), "424242", at, to, 429, CodeRateLimited, 0},
		{"locked with no sends left", with(func(r *ContactCode) { r.Attempts, r.Sends = 5, 5 }), "424242", at, to, 429, CodeRateLimited, 59 * time.Minute},
		{"expired at the TTL", rec, "424242", contactClock.Add(10 * time.Minute), to, 400, CodeInvalidInput, 0},
		{"sent to a previous address", rec, "424242", at, "jane.roe@example.com", 400, CodeInvalidInput, 0},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			next, err := pol.check(tc.rec, c.ID, tc.to, tc.code, tc.at)
			if next != nil {
				t.Errorf("a refusal writes %+v, want nothing", next)
			}
			wantContactError(t, err, tc.status, tc.code2)
			if e, _ := AsError(err); e.RetryAfter != tc.wait {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tc.wait)
			}
		})
	}
	// One second before the TTL the code still works.
	if _, err := pol.check(rec, c.ID, to, "424242", contactClock.Add(10*time.Minute-time.Second)); err != nil {
		t.Errorf("a code one second before its expiry: %v", err)
	}
}

func TestPendingContactChannels(t *testing.T) {
	cases := []struct {
		cv   map[string]string
		want []string
	}{
		{nil, nil},
		{map[string]string{"email": "VERIFIED"}, nil},
		{map[string]string{"phone": "PENDING", "email": "PENDING"}, []string{"email", "phone"}},
		{map[string]string{"phone": "PENDING", "email": "VERIFIED"}, []string{"phone"}},
	}
	for _, tc := range cases {
		if got := PendingContactChannels(contactCustomer(tc.cv)); !cmp.Equal(got, tc.want) {
			t.Errorf("PendingContactChannels(%v) = %v, want %v", tc.cv, got, tc.want)
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {time.Hour, 3600}} {
		if got := (&Error{RetryAfter: tc.d}).RetryAfterSeconds(); got != tc.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}
