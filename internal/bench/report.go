package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Write prints the report: one row per operation and ceiling, then the ratios and memory.
func (r *Report) Write(w io.Writer) error {
	o := r.Options
	fmt.Fprintf(w, "gridd bench: %s, concurrency %d, %s per operation\n", o.BaseURL, o.Concurrency, o.Duration)
	if r.Customers >= 0 {
		fmt.Fprintf(w, "customers on the platform: %d\n", r.Customers)
	}
	switch {
	case r.DeepPage > 0:
		fmt.Fprintf(w, "deep page: page %d of 20 customers (after %d), reached in %s; reuse with -deep-cursor %s\n",
			r.DeepPage, 20*(r.DeepPage-1), r.WalkTime.Round(time.Millisecond), r.DeepCursor)
	case r.DeepCursor != "":
		fmt.Fprintf(w, "deep page: the page after -deep-cursor %s\n", r.DeepCursor)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\trequests\treq/s\tp50\tp90\tp99\terrors\t")
	row := func(res *OpResult) {
		if res.Unavailable != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t  unavailable: %s\n", res.Name, res.Unavailable)
			return
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%d\t\n", res.Name, res.Requests, res.Throughput(), ms(res.P50), ms(res.P90), ms(res.P99), res.Errors)
	}
	for i := range r.Ops {
		row(&r.Ops[i])
	}
	if r.HTTPCeiling != nil {
		row(r.HTTPCeiling)
	}
	if r.StoreCeiling != nil {
		row(r.StoreCeiling)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, res := range append(r.Ops, ceilings(r)...) {
		if res.Errors > 0 && res.FirstError != "" {
			fmt.Fprintf(w, "first error of %s: %s\n", res.Name, res.FirstError)
		}
	}
	fmt.Fprintln(w)
	if r.HTTPCeiling != nil {
		fmt.Fprintf(w, "HTTP ceiling: bare net/http answering the same %d bytes\n", r.GetBytes)
		ratio(w, "get / HTTP ceiling", r.Op(OpGet), r.HTTPCeiling, 0.6)
	}
	if r.StoreCeiling != nil {
		fmt.Fprintf(w, "store ceiling: %s, one transaction per customer through WithTx\n", r.StoreCeilingDriver)
		ratio(w, "create / store ceiling", r.Op(OpCreate), r.StoreCeiling, 1.0)
	}
	if list, deep := r.Op(OpList), r.Op(OpListDeep); list != nil && deep != nil && list.Unavailable == "" && deep.Unavailable == "" && list.P50 > 0 {
		fmt.Fprintf(w, "deep page p50 / first page p50: %.2f (target <= 1.2)\n", float64(deep.P50)/float64(list.P50))
	}
	if r.RSSBefore != nil {
		fmt.Fprintf(w, "server RSS before: %s (peak so far %s)\n", MiB(r.RSSBefore.RSSKiB), MiB(r.RSSBefore.PeakKiB))
	}
	if r.RSSAfter != nil {
		fmt.Fprintf(w, "server RSS after:  %s (peak %s; target <= 150 MB)\n", MiB(r.RSSAfter.RSSKiB), MiB(r.RSSAfter.PeakKiB))
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

func ceilings(r *Report) []OpResult {
	var out []OpResult
	for _, c := range []*OpResult{r.HTTPCeiling, r.StoreCeiling} {
		if c != nil {
			out = append(out, *c)
		}
	}
	return out
}

func ratio(w io.Writer, label string, op, ceiling *OpResult, target float64) {
	if op == nil || op.Unavailable != "" || ceiling.Throughput() == 0 {
		fmt.Fprintf(w, "%s: not measured\n", label)
		return
	}
	fmt.Fprintf(w, "%s: %.0f / %.0f req/s = %.2f (target >= %.1f)\n", label, op.Throughput(), ceiling.Throughput(), op.Throughput()/ceiling.Throughput(), target)
}

// ms formats a latency in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}
