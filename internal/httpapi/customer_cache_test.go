package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestCustomerCacheReadYourWrites changes customers while other clients keep reading them
// (filling the cache with what they read, possibly just before a change): every GET that
// follows an answered PATCH must show that PATCH, never an older name.
func TestCustomerCacheReadYourWrites(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	const customers, rounds = 4, 60
	ids := make([]string, customers)
	for i := range ids {
		ids[i] = e.do(&c, "POST", "/customers", fmt.Sprintf(`{"customerType":"INDIVIDUAL","platformCustomerId":"rw-%d","fullName":"Name 0"}`, i)).want(t, 201, "").str("id")
	}
	send := func(method, id, body string) (int, string, error) {
		req, _ := http.NewRequest(method, e.srv.URL+base+"/customers/"+id, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.SetBasicAuth(c.id, c.secret)
		res, err := e.srv.Client().Do(req)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		var got struct{ FullName string }
		raw, _ := io.ReadAll(res.Body)
		json.Unmarshal(raw, &got)
		return res.StatusCode, got.FullName, nil
	}
	var stop atomic.Bool
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; !stop.Load(); i++ {
				if _, _, err := send("GET", ids[(r+i)%customers], ""); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for k, id := range ids {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for n := 1; n <= rounds; n++ {
				want := fmt.Sprintf("Name %d", n)
				if status, _, err := send("PATCH", id, `{"customerType":"INDIVIDUAL","fullName":"`+want+`"}`); err != nil || status != 200 {
					t.Errorf("PATCH customer %d: %d %v", k, status, err)
					return
				}
				for range 3 {
					if status, got, err := send("GET", id, ""); err != nil || status != 200 || got != want {
						t.Errorf("customer %d after PATCH %q: GET %d %q %v", k, want, status, got, err)
						return
					}
				}
			}
		}()
	}
	writers.Wait()
	stop.Store(true)
	readers.Wait()
}
