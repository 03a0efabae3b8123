package httpapi_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridd/gridd/internal/grid"
)

// accountsOf lists internal accounts with a query and returns "CURRENCY TYPE STATUS" per
// account.
func accountsOf(t testing.TB, e *env, c *cred, query string) (resp, []string) {
	t.Helper()
	r := e.do(c, "GET", "/customers/internal-accounts"+query, "").want(t, 200, "")
	var out []string
	for _, a := range r.body["data"].([]any) {
		m := a.(map[string]any)
		cur := m["balance"].(map[string]any)["currency"].(map[string]any)["code"].(string)
		out = append(out, cur+" "+m["type"].(string)+" "+m["status"].(string))
	}
	return r, out
}

func TestInternalAccounts(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	a := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","platformCustomerId":"a","currencies":["USD","USDC"]}`).want(t, 201, "")
	b := e.do(&c, "POST", "/customers", kybBusinessBody("b", "REG-003")).want(t, 201, "")
	A, B := a.str("id"), b.str("id")

	r, got := accountsOf(t, e, &c, "?customerId="+A)
	if d := cmp.Diff([]string{"USD INTERNAL_FIAT ACTIVE", "USDC INTERNAL_CRYPTO ACTIVE"}, got); d != "" {
		t.Fatalf("accounts created with the customer (-want +got):\n%s", d)
	}
	first := r.body["data"].([]any)[0].(map[string]any)
	want := map[string]any{
		"id": first["id"], "customerId": A, "type": "INTERNAL_FIAT", "status": "ACTIVE",
		"balance":                    map[string]any{"amount": float64(0), "currency": map[string]any{"code": "USD", "name": "US Dollar", "decimals": float64(2)}},
		"totalBalance":               map[string]any{"amount": float64(0), "currency": map[string]any{"code": "USD", "name": "US Dollar", "decimals": float64(2)}},
		"fundingPaymentInstructions": []any{}, "createdAt": a.str("createdAt"), "updatedAt": a.str("createdAt"),
	}
	if d := cmp.Diff(want, first); d != "" {
		t.Errorf("internal account (-want +got):\n%s", d)
	}

	// Currencies changed by PATCH: a new account opens, a removed currency's account closes,
	// and comes back when the currency does.
	e.do(&c, "PATCH", "/customers/"+A, `{"customerType":"INDIVIDUAL","currencies":["USD","EUR"]}`).want(t, 200, "")
	if _, got = accountsOf(t, e, &c, "?customerId="+A); !cmp.Equal(got, []string{"USD INTERNAL_FIAT ACTIVE", "USDC INTERNAL_CRYPTO CLOSED", "EUR INTERNAL_FIAT ACTIVE"}) {
		t.Errorf("after PATCH = %v", got)
	}
	e.do(&c, "PATCH", "/customers/"+A, `{"customerType":"INDIVIDUAL","currencies":["USDC","USD","EUR"]}`).want(t, 200, "")
	if _, got = accountsOf(t, e, &c, "?customerId="+A); !cmp.Equal(got, []string{"USD INTERNAL_FIAT ACTIVE", "USDC INTERNAL_CRYPTO ACTIVE", "EUR INTERNAL_FIAT ACTIVE"}) {
		t.Errorf("after re-adding USDC = %v", got)
	}

	// Filters and paging.
	if _, got = accountsOf(t, e, &c, "?customerId="+B); !cmp.Equal(got, []string{"USD INTERNAL_FIAT ACTIVE"}) {
		t.Errorf("business accounts = %v", got)
	}
	if _, got = accountsOf(t, e, &c, "?currency=USD"); len(got) != 2 {
		t.Errorf("?currency=USD = %v", got)
	}
	if _, got = accountsOf(t, e, &c, "?type=INTERNAL_CRYPTO"); !cmp.Equal(got, []string{"USDC INTERNAL_CRYPTO ACTIVE"}) {
		t.Errorf("?type=INTERNAL_CRYPTO = %v", got)
	}
	if _, got = accountsOf(t, e, &c, "?type=EMBEDDED_WALLET"); len(got) != 0 {
		t.Errorf("?type=EMBEDDED_WALLET = %v", got)
	}
	e.do(&c, "GET", "/customers/internal-accounts?type=WALLET", "").want(t, 400, "INVALID_INPUT")
	e.do(&c, "GET", "/customers/internal-accounts?limit=0", "").want(t, 400, "INVALID_INPUT")
	var all []string
	cursor := ""
	for page := 0; page < 10; page++ {
		r, got := accountsOf(t, e, &c, "?limit=2"+cursor)
		all = append(all, got...)
		if r.body["totalCount"] != float64(4) {
			t.Errorf("totalCount = %v, want 4", r.body["totalCount"])
		}
		if r.body["hasMore"] != true {
			break
		}
		cursor = "&cursor=" + r.str("nextCursor")
	}
	if len(all) != 4 {
		t.Errorf("paged through %d accounts, want 4: %v", len(all), all)
	}

	// Another platform sees none of them; a token needs VIEW.
	_, c2 := e.platform(grid.PlatformSpec{Name: "other", UMADomain: "uma.other.test", Sandbox: true})
	if _, got = accountsOf(t, e, &c2, ""); len(got) != 0 {
		t.Errorf("other platform sees %v", got)
	}
	_, tr := e.platform(sandbox(), grid.PermTransact)
	e.do(&tr, "GET", "/customers/internal-accounts", "").want(t, 403, "FORBIDDEN")
}
