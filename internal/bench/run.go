package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/sqlstore"
)

// The operations Run knows, in the order it runs them by default.
const (
	OpCreate       = "create"
	OpGet          = "get"
	OpList         = "list"
	OpListDeep     = "list-deep"
	OpListFiltered = "list-filtered"
)

// AllOps lists every operation.
var AllOps = []string{OpCreate, OpGet, OpList, OpListDeep, OpListFiltered}

// Query strings of the list operations.
const (
	firstPageQuery = "limit=20"
	filteredQuery  = "customerType=BUSINESS&region=US&limit=20"
)

// Options configure Run.
type Options struct {
	// BaseURL is the API root of the running server, e.g. http://127.0.0.1:8080/grid/2025-10-13.
	BaseURL string
	// User and Secret are a token's client id and secret; the token needs VIEW and MANAGE.
	User, Secret string
	// Duration is how long each operation and each ceiling runs.
	Duration time.Duration
	// Concurrency is the number of workers, each with at most one request in flight.
	Concurrency int
	// Ops are the operations to run, from AllOps.
	Ops []string
	// DeepPages is the page (of 20) the deep-list operation reads: its cursor is found once
	// by walking the list, then that one page is requested over and over.
	DeepPages int
	// DeepCursor, when set, is the deep page's cursor (printed by an earlier run): the walk
	// is skipped.
	DeepCursor string
	// IDs is how many customer ids the get operation cycles through.
	IDs int
	// SetupTimeout bounds the preparation (collecting ids, walking to the deep page); when
	// it runs out the deep page is the deepest reached.
	SetupTimeout time.Duration
	// PID, when set, is the server's process id: its resident memory is read before and after.
	PID int
	// Ceilings runs the HTTP and store ceilings after the operations.
	Ceilings bool
	// CeilingStore opens the store of the store ceiling; nil means a fresh SQLite file in a
	// temporary directory, removed afterwards.
	CeilingStore func(ctx context.Context) (*sqlstore.Store, string, func(), error)
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Report is the outcome of Run.
type Report struct {
	Options Options
	// Customers is the totalCount of the first list page (-1 when unknown).
	Customers int
	// DeepPage is the page number the deep-list operation read (0 when given a cursor).
	DeepPage int
	// DeepCursor is the cursor of that page.
	DeepCursor string
	// WalkTime is how long following nextCursor to the deep page took.
	WalkTime time.Duration
	// GetBytes is the size of the customer answer the HTTP ceiling serves.
	GetBytes     int
	Ops          []OpResult
	HTTPCeiling  *OpResult
	StoreCeiling *OpResult
	// StoreCeilingDriver names the database of the store ceiling.
	StoreCeilingDriver string
	RSSBefore          *Memory
	RSSAfter           *Memory
	Notes              []string
}

// Op returns the result of the named operation, or nil.
func (r *Report) Op(name string) *OpResult {
	for i := range r.Ops {
		if r.Ops[i].Name == name {
			return &r.Ops[i]
		}
	}
	return nil
}

// Run prepares what the operations need, runs each for the configured duration, then the two
// ceilings with the same client and concurrency. Every phase is bounded in time.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.DeepPages <= 0 {
		o.DeepPages = 50_000
	}
	if o.IDs <= 0 {
		o.IDs = 1000
	}
	if o.SetupTimeout <= 0 {
		o.SetupTimeout = 10 * time.Minute
	}
	if len(o.Ops) == 0 {
		o.Ops = AllOps
	}
	for _, op := range o.Ops {
		if !knownOp(op) {
			return nil, fmt.Errorf("unknown operation %q (known: %s)", op, strings.Join(AllOps, ","))
		}
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	base := strings.TrimRight(o.BaseURL, "/")
	if _, err := url.Parse(base); err != nil || !strings.HasPrefix(base, "http") {
		return nil, fmt.Errorf("-url must be an http URL such as http://127.0.0.1:8080/grid/2025-10-13")
	}
	c := newClient(base, o.User, o.Secret, o.Concurrency)
	defer c.close()
	rep := &Report{Options: o, Customers: -1}
	if o.PID > 0 {
		m, err := ReadMemory(o.PID)
		if err != nil {
			return nil, err
		}
		rep.RSSBefore = m
	}

	// Setup: credentials, the list (if served), ids to read, the deep cursor, one real answer.
	setupCtx, cancel := context.WithTimeout(ctx, o.SetupTimeout)
	defer cancel()
	st, err := setup(setupCtx, c, o, rep, logw)
	if err != nil {
		return nil, err
	}

	run := fmt.Sprintf("bench-%d-%s", time.Now().Unix(), randomHex(2))
	for _, op := range o.Ops {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		var res OpResult
		switch op {
		case OpCreate:
			fmt.Fprintf(logw, "running %s for %s at concurrency %d\n", op, o.Duration, o.Concurrency)
			res = hammer(ctx, op, o.Concurrency, o.Duration, func(ctx context.Context, w, n int) error {
				body := CreateBody(w<<24|n, fmt.Sprintf("%s-%d-%d", run, w, n))
				_, err := c.do(ctx, base, http.MethodPost, "/customers", body, false)
				return err
			})
		case OpGet:
			if len(st.ids) == 0 {
				res = OpResult{Name: op, Unavailable: "no customer ids: " + st.idsWhy}
				break
			}
			fmt.Fprintf(logw, "running %s for %s at concurrency %d over %d ids\n", op, o.Duration, o.Concurrency, len(st.ids))
			res = hammer(ctx, op, o.Concurrency, o.Duration, func(ctx context.Context, w, n int) error {
				id := st.ids[(w*7919+n)%len(st.ids)]
				_, err := c.do(ctx, base, http.MethodGet, "/customers/"+id, nil, false)
				return err
			})
		case OpList, OpListDeep, OpListFiltered:
			res = listOp(ctx, c, o, st, op, logw)
		}
		rep.Ops = append(rep.Ops, res)
	}

	if o.Ceilings && ctx.Err() == nil {
		fmt.Fprintf(logw, "running the HTTP ceiling (%d-byte answer) for %s at concurrency %d\n", len(st.getBody), o.Duration, o.Concurrency)
		hc, err := httpCeiling(ctx, c, st.getBody, o.Concurrency, o.Duration)
		if err != nil {
			return rep, fmt.Errorf("HTTP ceiling: %w", err)
		}
		rep.HTTPCeiling = &hc
		fmt.Fprintf(logw, "running the store ceiling for %s at concurrency %d\n", o.Duration, o.Concurrency)
		sc, driver, err := storeCeiling(ctx, o.CeilingStore, o.Concurrency, o.Duration)
		if err != nil {
			return rep, fmt.Errorf("store ceiling: %w", err)
		}
		rep.StoreCeiling, rep.StoreCeilingDriver = &sc, driver
	}
	if o.PID > 0 {
		m, err := ReadMemory(o.PID)
		if err != nil {
			rep.Notes = append(rep.Notes, "RSS after: "+err.Error())
		} else {
			rep.RSSAfter = m
		}
	}
	return rep, ctx.Err()
}

func knownOp(op string) bool {
	for _, k := range AllOps {
		if k == op {
			return true
		}
	}
	return false
}

func shorten(q string) string {
	if len(q) > 60 {
		return q[:57] + "..."
	}
	return q
}

// listOp runs one of the list operations.
func listOp(ctx context.Context, c *client, o Options, st *prepared, op string, logw io.Writer) OpResult {
	if st.listWhy != "" {
		return OpResult{Name: op, Unavailable: st.listWhy}
	}
	q := firstPageQuery
	switch op {
	case OpListDeep:
		if st.deepCursor == "" {
			return OpResult{Name: op, Unavailable: "the list has a single page: no cursor to follow"}
		}
		q = firstPageQuery + "&cursor=" + url.QueryEscape(st.deepCursor)
	case OpListFiltered:
		q = filteredQuery
	}
	fmt.Fprintf(logw, "running %s (GET /customers?%s) for %s at concurrency %d\n", op, shorten(q), o.Duration, o.Concurrency)
	path := "/customers?" + q
	return hammer(ctx, op, o.Concurrency, o.Duration, func(ctx context.Context, w, n int) error {
		_, err := c.do(ctx, c.base, http.MethodGet, path, nil, false)
		return err
	})
}

// prepared is what setup found.
type prepared struct {
	ids        []string
	idsWhy     string
	listWhy    string // why the list operations cannot run ("" when they can)
	deepCursor string
	getBody    []byte
}

// setup checks the credentials, finds whether GET /customers is served, collects ids for the
// get operation (from the list, or by creating customers when there is no list), walks to the
// deep page and captures one real GET /customers/{id} answer.
func setup(ctx context.Context, c *client, o Options, rep *Report, logw io.Writer) (*prepared, error) {
	st := &prepared{}
	first, err := c.listPage(ctx, firstPageQuery)
	switch s := statusOf(err); {
	case err == nil:
		if first.TotalCount != nil {
			rep.Customers = *first.TotalCount
		}
	case s == 401 || s == 403:
		return nil, fmt.Errorf("the server refused the credentials: %w", err)
	case s == 501 || s == 404 || s == 405:
		st.listWhy = fmt.Sprintf("GET /customers answered %d: not served by this server", s)
		fmt.Fprintln(logw, st.listWhy)
	default:
		return nil, fmt.Errorf("GET /customers?%s: %w", firstPageQuery, err)
	}

	// Ids for the get operation.
	if st.listWhy == "" {
		cursor := ""
		for page := 0; len(st.ids) < o.IDs && page < (o.IDs+99)/100; page++ {
			q := "limit=100"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			p, err := c.listPage(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("collect ids: %w", err)
			}
			for _, d := range p.Data {
				st.ids = append(st.ids, d.ID)
			}
			if !p.HasMore || p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
	}
	if len(st.ids) == 0 {
		n := min(o.IDs, 200)
		fmt.Fprintf(logw, "creating %d customers to read back\n", n)
		tag := "bench-get-" + randomHex(4)
		for i := 0; i < n; i++ {
			b, err := c.do(ctx, c.base, http.MethodPost, "/customers", CreateBody(i, fmt.Sprintf("%s-%d", tag, i)), true)
			if err != nil {
				return nil, fmt.Errorf("create a customer to read: %w", err)
			}
			var got struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(b, &got); err != nil || got.ID == "" {
				return nil, fmt.Errorf("create a customer to read: no id in %q", b)
			}
			st.ids = append(st.ids, got.ID)
		}
	}
	if len(st.ids) == 0 {
		st.idsWhy = "none found or created"
	}

	// One real answer, whose size the HTTP ceiling reproduces.
	if len(st.ids) > 0 {
		st.getBody, err = c.do(ctx, c.base, http.MethodGet, "/customers/"+st.ids[0], nil, true)
		if err != nil {
			return nil, fmt.Errorf("GET /customers/%s: %w", st.ids[0], err)
		}
		rep.GetBytes = len(st.getBody)
	}

	if st.listWhy == "" && contains(o.Ops, OpListDeep) && o.DeepCursor != "" {
		st.deepCursor, rep.DeepCursor = o.DeepCursor, o.DeepCursor
	} else if st.listWhy == "" && contains(o.Ops, OpListDeep) {
		fmt.Fprintf(logw, "following nextCursor to page %d\n", o.DeepPages)
		t0 := time.Now()
		cur, page, err := walkToPage(ctx, c, o.DeepPages, logw)
		rep.WalkTime = time.Since(t0)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("walk to page %d: %w", o.DeepPages, err)
		}
		if err != nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("the walk to page %d ran out of setup time at page %d", o.DeepPages, page))
		}
		st.deepCursor, rep.DeepPage, rep.DeepCursor = cur, page, cur
	}
	return st, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// walkToPage follows nextCursor to the cursor of page target (pages of 20, counting from 1)
// and returns it with the page number it leads to. It walks with pages of 100 — the
// cursor only names the last id seen, so five pages of 20 end where one page of 100 does —
// and stops early at the end of the list, returning the deepest page that has customers.
func walkToPage(ctx context.Context, c *client, target int, logw io.Writer) (string, int, error) {
	skip := 20 * (target - 1) // customers before the target page
	cursor, seen := "", 0
	lastReport := time.Now()
	// Each step moves at least 20 customers, so target steps always suffice.
	for step := 0; seen < skip && step < target; step++ {
		n := min(100, skip-seen)
		q := fmt.Sprintf("limit=%d", n)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		p, err := c.listPage(ctx, q)
		if err != nil {
			return cursor, seen/20 + 1, err
		}
		if len(p.Data) < n || !p.HasMore || p.NextCursor == "" {
			// The end of the list: keep the last full page of 20 as the deep page.
			break
		}
		cursor, seen = p.NextCursor, seen+n
		if time.Since(lastReport) > 10*time.Second {
			fmt.Fprintf(logw, "walking to page %d: at page %d\n", target, seen/20+1)
			lastReport = time.Now()
		}
	}
	return cursor, seen/20 + 1, nil
}
