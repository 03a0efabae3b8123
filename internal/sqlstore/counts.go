package sqlstore

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/gridd/gridd/internal/grid"
)

// countShards is how many rows of customer_counts hold one platform's count (see migration
// 0009).
const countShards = 16

// countShard picks one of a platform's count rows from a customer id.
func countShard(customerID string) int {
	h := fnv.New32a()
	h.Write([]byte(customerID))
	return int(h.Sum32() % countShards)
}

// countsAllActive reports whether f selects every active customer of the platform, the number
// customer_counts keeps. The keyset position, page size and SkipCount do not change what is
// counted; any other field set, including one added to the filter later, means counting rows.
func countsAllActive(f grid.CustomerFilter) bool {
	f.AfterID, f.Limit, f.SkipCount = "", 0, false
	return f == grid.CustomerFilter{}
}

// activeDelta collects what one transaction changes in its platforms' counts of active
// customers. It is written by one statement at the end of the transaction rather than one per
// customer: on PostgreSQL the count row stays locked from that statement to the commit, so
// adding to it last keeps other creates waiting only for the commit itself, and a transaction
// that creates many customers takes one row lock per platform instead of one per shard it
// happens to hash to (two such transactions taking several in different orders could
// deadlock).
type activeDelta struct {
	shard int
	by    map[string]int64
}

// add counts n more active customers (n < 0: fewer) on c's platform. The first customer of the
// transaction picks the shard, so that concurrent transactions spread over the rows.
func (d *activeDelta) add(c *grid.Customer, n int64) {
	if d.by == nil {
		d.by = map[string]int64{}
		d.shard = countShard(c.ID)
	}
	d.by[c.PlatformID] += n
}

// pending returns what the transaction has added to platformID's count so far.
func (d *activeDelta) pending(platformID string) int64 { return d.by[platformID] }

// write adds the collected changes to customer_counts and forgets them. Platforms go in id
// order, so that two transactions that both change two platforms lock their rows in the same
// order.
func (d *activeDelta) write(ctx context.Context, q queryer) error {
	var platforms []string
	for p, n := range d.by {
		if n != 0 {
			platforms = append(platforms, p)
		}
	}
	if len(platforms) == 0 {
		return nil
	}
	slices.Sort(platforms)
	var b strings.Builder
	b.WriteString(`INSERT INTO customer_counts (platform_id, shard, active) VALUES `)
	args := make([]any, 0, 3*len(platforms))
	for i, p := range platforms {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "($%d, $%d, $%d)", len(args)+1, len(args)+2, len(args)+3)
		args = append(args, p, int64(d.shard), d.by[p])
	}
	b.WriteString(` ON CONFLICT (platform_id, shard) DO UPDATE SET active = customer_counts.active + excluded.active`)
	if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("update customer counts: %w", err)
	}
	clear(d.by)
	return nil
}
