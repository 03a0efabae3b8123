package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// SoakOptions configure Soak.
type SoakOptions struct {
	BaseURL, User, Secret string
	// Duration is how long the mixed load runs.
	Duration time.Duration
	// Concurrency is the number of workers, each with one request in flight.
	Concurrency int
	// Every is the interval between samples of the server.
	Every time.Duration
	// PID is the server's process id: its resident memory and open files are sampled.
	PID int
	// PprofURL, when set, is the server's pprof listener (GRIDD_PPROF_ADDR), from which the
	// goroutine count is sampled.
	PprofURL string
	Log      io.Writer
}

// SoakSample is one look at the server during a soak.
type SoakSample struct {
	At         time.Duration
	Requests   int64
	Errors     int64
	RSSKiB     int64
	Goroutines int // -1 when not sampled
	OpenFiles  int // -1 when unknown
}

// SoakReport is the outcome of Soak.
type SoakReport struct {
	Options    SoakOptions
	Samples    []SoakSample
	FirstError string
	// PerOp counts requests by operation.
	PerOp map[string]int64
}

// The soak's operations, and how many of every 20 requests each takes: mostly reads, and
// every write path the cache and the outbox see (create, change, delete).
var soakMix = []struct {
	op    string
	share int
}{{"get", 12}, {"create", 3}, {"patch", 2}, {"list-after-cursor", 2}, {"delete", 1}}

// Soak runs a mixed load for o.Duration and samples the server's memory, goroutines and open
// files every o.Every, to show whether they stay flat.
func Soak(ctx context.Context, o SoakOptions) (*SoakReport, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Every <= 0 {
		o.Every = 30 * time.Second
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	base := strings.TrimRight(o.BaseURL, "/")
	c := newClient(base, o.User, o.Secret, o.Concurrency)
	defer c.close()

	// Ids to read, and a cursor for the list: the first page of 100.
	first, err := c.listPage(ctx, "limit=100")
	if err != nil {
		return nil, fmt.Errorf("soak setup: %w", err)
	}
	var ids []string
	for _, d := range first.Data {
		ids = append(ids, d.ID)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("soak setup: the platform has no customers (run gridd seed first)")
	}
	cursor := first.NextCursor

	var mix []string
	for _, m := range soakMix {
		for range m.share {
			mix = append(mix, m.op)
		}
	}
	perOp := make([]atomic.Int64, len(soakMix))
	opIndex := map[string]int{}
	for i, m := range soakMix {
		opIndex[m.op] = i
	}

	rep := &SoakReport{Options: o, PerOp: map[string]int64{}}
	var requests, errs atomic.Int64
	var firstErr sync.Once
	run := fmt.Sprintf("soak-%d-%s", time.Now().Unix(), randomHex(2))
	start := time.Now()
	deadline := start.Add(o.Duration)
	var wg sync.WaitGroup
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var own []createdCustomer // this worker's customers, to change and delete
			for n := 0; ctx.Err() == nil && time.Now().Before(deadline); n++ {
				op := mix[(n*7+w)%len(mix)]
				if (op == "patch" || op == "delete") && len(own) == 0 {
					op = "create"
				}
				var err error
				switch op {
				case "get":
					_, err = c.do(ctx, base, http.MethodGet, "/customers/"+ids[(w*7919+n)%len(ids)], nil, false)
				case "create":
					var b []byte
					b, err = c.do(ctx, base, http.MethodPost, "/customers", CreateBody(w<<24|n, fmt.Sprintf("%s-%d-%d", run, w, n)), true)
					if err == nil {
						var cc createdCustomer
						if jerr := json.Unmarshal(b, &cc); jerr == nil && cc.ID != "" {
							own = append(own, cc)
						}
					}
				case "patch":
					cc := own[n%len(own)]
					_, err = c.do(ctx, base, http.MethodPatch, "/customers/"+cc.ID, patchBody(cc.Type, n), false)
				case "delete":
					cc := own[len(own)-1]
					own = own[:len(own)-1]
					_, err = c.do(ctx, base, http.MethodDelete, "/customers/"+cc.ID, nil, false)
				case "list-after-cursor":
					q := "limit=20"
					if cursor != "" {
						q += "&cursor=" + url.QueryEscape(cursor)
					}
					_, err = c.do(ctx, base, http.MethodGet, "/customers?"+q, nil, false)
				}
				requests.Add(1)
				perOp[opIndex[op]].Add(1)
				if err != nil {
					errs.Add(1)
					firstErr.Do(func() { rep.FirstError = op + ": " + err.Error() })
				}
				// Keep each worker's list of customers short: old ones are simply left.
				if len(own) > 64 {
					own = own[len(own)-32:]
				}
			}
		}()
	}

	sample := func() {
		s := SoakSample{At: time.Since(start), Requests: requests.Load(), Errors: errs.Load(), Goroutines: -1, OpenFiles: -1}
		if o.PID > 0 {
			if m, err := ReadMemory(o.PID); err == nil {
				s.RSSKiB = m.RSSKiB
			}
			if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", o.PID)); err == nil {
				s.OpenFiles = len(fds)
			}
		}
		if o.PprofURL != "" {
			s.Goroutines = goroutines(ctx, strings.TrimRight(o.PprofURL, "/"))
		}
		rep.Samples = append(rep.Samples, s)
		fmt.Fprintf(logw, "soak %s: %d requests, %d errors, RSS %s, goroutines %d, open files %d\n",
			s.At.Round(100*time.Millisecond), s.Requests, s.Errors, MiB(s.RSSKiB), s.Goroutines, s.OpenFiles)
	}
	sample()
	tick := time.NewTicker(o.Every)
	for done := false; !done; {
		select {
		case <-tick.C:
			sample()
			done = !time.Now().Before(deadline)
		case <-ctx.Done():
			done = true
		}
	}
	tick.Stop()
	wg.Wait()
	sample()
	for i, m := range soakMix {
		rep.PerOp[m.op] = perOp[i].Load()
	}
	return rep, ctx.Err()
}

type createdCustomer struct {
	ID   string `json:"id"`
	Type string `json:"customerType"`
}

// patchBody changes a customer's email, which both customer types have.
func patchBody(customerType string, n int) []byte {
	return []byte(fmt.Sprintf(`{"customerType":%q,"email":"soak-%d@example.com"}`, customerType, n))
}

// goroutines reads the total from the goroutine profile's text form, or -1.
func goroutines(ctx context.Context, pprofURL string) int {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pprofURL+"/debug/pprof/goroutine?debug=1", nil)
	if err != nil {
		return -1
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	line, _ := bufio.NewReader(res.Body).ReadString('\n') // "goroutine profile: total 42"
	io.Copy(io.Discard, res.Body)
	_, total, ok := strings.Cut(strings.TrimSpace(line), "total ")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(total)
	if err != nil {
		return -1
	}
	return n
}

// Write prints the samples and compares the second half of the run with the first.
func (r *SoakReport) Write(w io.Writer) error {
	o := r.Options
	fmt.Fprintf(w, "gridd bench -soak: %s, concurrency %d, %s, a sample every %s\n", o.BaseURL, o.Concurrency, o.Duration, o.Every)
	var mix []string
	for _, m := range soakMix {
		mix = append(mix, fmt.Sprintf("%s %d", m.op, r.PerOp[m.op]))
	}
	fmt.Fprintf(w, "requests by operation: %s\n\n", strings.Join(mix, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "at\trequests\treq/s\terrors\tRSS MiB\tgoroutines\topen files\t")
	var prev SoakSample
	for _, s := range r.Samples {
		// The rate over the interval since the previous sample; the last sample, taken right
		// after the load stopped, shows none.
		rate := ""
		if d := s.At - prev.At; d >= o.Every/2 {
			rate = fmt.Sprintf("%.0f", float64(s.Requests-prev.Requests)/d.Seconds())
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%.1f\t%d\t%d\t\n", s.At.Round(100*time.Millisecond), s.Requests, rate, s.Errors, float64(s.RSSKiB)/1024, s.Goroutines, s.OpenFiles)
		prev = s
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
	// The last sample is taken after the load stopped; compare the samples under load.
	under := r.Samples
	if len(under) > 1 {
		under = under[:len(under)-1]
	}
	if len(under) < 4 {
		fmt.Fprintln(w, "too few samples to compare halves")
		return nil
	}
	half := len(under) / 2
	// The first sample is taken before any load: the halves start from the second. Medians
	// show the level, peaks the spikes (goroutines come and go with connections and queries).
	a, b := under[1:half], under[half:]
	stat := func(ss []SoakSample, f func(SoakSample) int64) (median, peak int64) {
		vs := make([]int64, len(ss))
		for i, s := range ss {
			vs[i] = f(s)
		}
		slices.Sort(vs)
		return vs[len(vs)/2], vs[len(vs)-1]
	}
	for _, k := range []struct {
		name string
		f    func(SoakSample) int64
	}{
		{"RSS KiB", func(s SoakSample) int64 { return s.RSSKiB }},
		{"goroutines", func(s SoakSample) int64 { return int64(s.Goroutines) }},
		{"open files", func(s SoakSample) int64 { return int64(s.OpenFiles) }},
	} {
		ma, pa := stat(a, k.f)
		mb, pb := stat(b, k.f)
		if pa <= 0 {
			continue
		}
		fmt.Fprintf(w, "%s: median %d in the first half, %d in the second (%+.1f%%); peak %d, then %d\n",
			k.name, ma, mb, 100*float64(mb-ma)/float64(max(ma, 1)), pa, pb)
	}
	return nil
}
