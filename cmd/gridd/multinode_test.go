package main

import (
	"context"
	"fmt"
	"github.com/gridd/gridd/internal/pgtest"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// postgresURL returns the test database, skipping (or, in CI, failing) when it is unreachable.
func postgresURL(t *testing.T) string { return pgtest.URL(t) }

// freshSchema returns a new schema name, dropped when the test ends.
func freshSchema(t *testing.T, url string) string { return pgtest.Schema(t, "mn_") }

// TestTwoNodesOnOnePostgres starts two gridd nodes on one database and races them.
func TestTwoNodesOnOnePostgres(t *testing.T) {
	url := postgresURL(t)
	schema := freshSchema(t, url)
	env := map[string]string{
		"GRIDD_ADDR": "127.0.0.1:0", "GRIDD_DATABASE_URL": url, "GRIDD_PG_SCHEMA": schema,
		"GRIDD_BOOTSTRAP_TOKEN": "mn-token:mn-secret",
	}
	// Both nodes start at once: one migrates, the other waits.
	var urls [2]string
	var stops [2]func()
	var wg sync.WaitGroup
	for i := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			urls[i], stops[i] = startServer(t, env)
		}()
	}
	wg.Wait()
	defer stops[1]()
	defer stops[0]()

	race := func(body string) map[int]int {
		counts := map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < 24; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, resp := call(t, "POST", urls[i%2]+"/customers", "mn-token", "mn-secret", body)
				mu.Lock()
				counts[status]++
				mu.Unlock()
				if status >= 500 {
					t.Errorf("server error: %s", resp)
				}
			}()
		}
		wg.Wait()
		return counts
	}
	if got := race(`{"customerType":"INDIVIDUAL","platformCustomerId":"raced-1"}`); got[201] != 1 || got[409] != 23 {
		t.Errorf("platformCustomerId race: statuses %v, want one 201 and 23 409", got)
	}
	if got := race(`{"customerType":"INDIVIDUAL","umaAddress":"$raced@sandbox.gridd.local"}`); got[201] != 1 || got[409] != 23 {
		t.Errorf("umaAddress race: statuses %v, want one 201 and 23 409", got)
	}

	// One Idempotency-Key retried concurrently across both nodes: one customer, one answer.
	var mu sync.Mutex
	answers := map[string]int{}
	var iwg sync.WaitGroup
	for i := 0; i < 16; i++ {
		iwg.Add(1)
		go func() {
			defer iwg.Done()
			status, resp := callWith(t, "POST", urls[i%2]+"/customers", "mn-token", "mn-secret",
				`{"customerType":"INDIVIDUAL","platformCustomerId":"idem-1"}`, "Idempotency-Key", "retry-across-nodes")
			mu.Lock()
			answers[fmt.Sprintf("%d %s", status, resp)]++
			mu.Unlock()
		}()
	}
	iwg.Wait()
	if len(answers) != 1 {
		t.Errorf("concurrent retries across nodes gave %d different answers: %v", len(answers), answers)
	}
	for a := range answers {
		if !strings.HasPrefix(a, "201 ") {
			t.Errorf("idempotent create answered %s", a)
		}
	}

	// A write-only value sealed through one node opens through another node's service,
	// which found the shared key in the database.
	status, body := call(t, "POST", urls[0]+"/customers", "mn-token", "mn-secret",
		`{"customerType":"INDIVIDUAL","platformCustomerId":"sealed","idType":"SSN","identifier":"123-45-6789"}`)
	if status != 201 {
		t.Fatalf("create = %d %s", status, body)
	}
	id := body[strings.Index(body, `"id":"`)+6:]
	id = id[:strings.Index(id, `"`)]
	var c config
	c.databaseURL, c.getenv = url, func(k string) string { return env[k] }
	svc, st, err := c.open(context.Background(), c.logger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := svc.Authenticate(context.Background(), "mn-token", "mn-secret")
	if err != nil {
		t.Fatal(err)
	}
	cust, err := svc.GetCustomer(context.Background(), p, id)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := svc.OpenSecrets(cust)
	if err != nil || sec.Identifier != "123-45-6789" {
		t.Errorf("secrets through another node = %+v, %v", sec, err)
	}

	// A node given a key that does not match the data refuses to start.
	bad := map[string]string{}
	for k, v := range env {
		bad[k] = v
	}
	bad["GRIDD_ENCRYPTION_KEY"] = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
	err = run(context.Background(), []string{"serve"}, func(k string) string { return bad[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "encryption key does not match") {
		t.Errorf("node with another key: err = %v, want a key mismatch", err)
	}
}

// TestNodesPagingAndRestartUnderLoad pages through one node while the other writes, and stops
// and restarts a node in the middle of a create load: every acknowledged write survives, none
// is duplicated, and no pre-existing row is skipped or repeated by the paging.
func TestNodesPagingAndRestartUnderLoad(t *testing.T) {
	url := postgresURL(t)
	schema := freshSchema(t, url)
	env := map[string]string{
		"GRIDD_ADDR": "127.0.0.1:0", "GRIDD_DATABASE_URL": url, "GRIDD_PG_SCHEMA": schema,
		"GRIDD_BOOTSTRAP_TOKEN": "mn-token:mn-secret",
	}
	a, stopA := startServer(t, env)
	defer func() { stopA() }()
	b, stopB := startServer(t, env)

	const before = 60
	for i := 0; i < before; i++ {
		if status, body := call(t, "POST", a+"/customers", "mn-token", "mn-secret", fmt.Sprintf(`{"customerType":"INDIVIDUAL","platformCustomerId":"pre-%03d"}`, i)); status != 201 {
			t.Fatalf("seed create = %d %s", status, body)
		}
	}

	// Writer on node B: creates and deletes its own customers while node A is paged.
	stopWriter := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stopWriter:
				return
			default:
			}
			status, body := call(t, "POST", b+"/customers", "mn-token", "mn-secret", fmt.Sprintf(`{"customerType":"INDIVIDUAL","platformCustomerId":"churn-%d"}`, i))
			if status == 201 && i%2 == 0 {
				id := body[strings.Index(body, `"id":"`)+6:]
				call(t, "DELETE", b+"/customers/"+id[:strings.Index(id, `"`)], "mn-token", "mn-secret", "")
			}
		}
	}()
	seen := map[string]int{}
	cursor := ""
	for page := 0; page < 500; page++ {
		status, body := call(t, "GET", a+"/customers?limit=7"+cursor, "mn-token", "mn-secret", "")
		if status != 200 {
			t.Fatalf("list = %d %s", status, body)
		}
		for _, part := range strings.Split(body, `"platformCustomerId":"`)[1:] {
			seen[part[:strings.Index(part, `"`)]]++
		}
		i := strings.Index(body, `"nextCursor":"`)
		if i < 0 {
			break
		}
		next := body[i+14:]
		cursor = "&cursor=" + next[:strings.Index(next, `"`)]
	}
	close(stopWriter)
	<-writerDone
	for i := 0; i < before; i++ {
		if n := seen[fmt.Sprintf("pre-%03d", i)]; n != 1 {
			t.Errorf("pre-%03d seen %d times while paging under writes, want 1", i, n)
		}
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("%s seen %d times", k, n)
		}
	}

	// Create load across both nodes with Idempotency-Keys; node B is stopped and restarted in
	// the middle. A request that fails in transit is retried with the same key on the other node.
	const total = 80
	acked := make([]string, total)
	var nodeMu sync.Mutex
	nodeB := func() string { nodeMu.Lock(); defer nodeMu.Unlock(); return b }
	var wg sync.WaitGroup
	restarted := make(chan struct{})
	for i := 0; i < total; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == total/2 {
				stopB()
				nb, stop := startServer(t, env)
				nodeMu.Lock()
				b, stopB = nb, stop
				nodeMu.Unlock()
				close(restarted)
			}
			body := fmt.Sprintf(`{"customerType":"INDIVIDUAL","platformCustomerId":"load-%03d"}`, i)
			for attempt := 0; attempt < 6; attempt++ {
				node := a
				if (i+attempt)%2 == 1 {
					node = nodeB()
				}
				status, resp, err := tryCall(node+"/customers", body, fmt.Sprintf("load-key-%03d", i))
				if err == nil && status == 201 {
					id := resp[strings.Index(resp, `"id":"`)+6:]
					acked[i] = id[:strings.Index(id, `"`)]
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	<-restarted
	defer func() { stopB() }()
	for i, id := range acked {
		status, body := call(t, "GET", a+fmt.Sprintf("/customers?platformCustomerId=load-%03d&isIncludingDeleted=true", i), "mn-token", "mn-secret", "")
		if status != 200 || !strings.Contains(body, `"totalCount":1`) {
			t.Errorf("load-%03d: list = %d %s, want exactly one customer", i, status, body)
		}
		if id == "" {
			t.Errorf("load-%03d was never acknowledged", i)
			continue
		}
		if status, _ := call(t, "GET", a+"/customers/"+id, "mn-token", "mn-secret", ""); status != 200 {
			t.Errorf("acknowledged customer %s missing: %d", id, status)
		}
	}
}

// tryCall posts with an Idempotency-Key and reports transport errors instead of failing.
func tryCall(url, body, key string) (int, string, error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	req.SetBasicAuth("mn-token", "mn-secret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}
