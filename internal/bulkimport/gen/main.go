// Command gen writes a CSV file of customers for POST /customers/bulk/csv on stdout, for
// measurements and manual tests:
//
//	go run ./internal/bulkimport/gen -rows 1000000 > customers.csv
//
// Every row is a valid individual unless -bad-every or -dup-every make some rows invalid (a
// birth date that does not exist) or repeat an earlier row's platformCustomerId.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	rows := flag.Int("rows", 1000, "data rows to write")
	prefix := flag.String("prefix", "gen", "platformCustomerId prefix, so that several files can be imported side by side")
	badEvery := flag.Int("bad-every", 0, "make every Nth row invalid (0: none)")
	dupEvery := flag.Int("dup-every", 0, "make every Nth row repeat the previous row's platformCustomerId (0: none)")
	flag.Parse()
	if err := write(os.Stdout, *rows, *prefix, *badEvery, *dupEvery); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

var cities = []struct{ city, state, postal string }{
	{"San Francisco", "CA", "94105"}, {"Austin", "TX", "78701"}, {"New York", "NY", "10001"},
	{"Seattle", "WA", "98101"}, {"Chicago", "IL", "60601"}, {"Denver", "CO", "80202"},
}

func write(out io.Writer, rows int, prefix string, badEvery, dupEvery int) error {
	w := bufio.NewWriterSize(out, 1<<16)
	fmt.Fprintln(w, "platformCustomerId,customerType,fullName,birthDate,email,addressLine1,city,state,postalCode,country")
	for i := 1; i <= rows; i++ {
		id := i
		if dupEvery > 0 && i%dupEvery == 0 && i > 1 {
			id = i - 1
		}
		birth := fmt.Sprintf("19%02d-%02d-%02d", 50+i%50, 1+i%12, 1+i%28)
		if badEvery > 0 && i%badEvery == 0 {
			birth = fmt.Sprintf("19%02d-02-30", 50+i%50)
		}
		c := cities[i%len(cities)]
		fmt.Fprintf(w, "%s-%08d,INDIVIDUAL,Customer %d Example,%s,c%d@example.com,%d Market Street,%s,%s,%s,US\n",
			prefix, id, i, birth, i, 1+i%9999, c.city, c.state, c.postal)
	}
	return w.Flush()
}
