package refdata

import (
	"sort"
	"sync"
)

// Country is an ISO 3166-1 country: its alpha-2 code and short name.
type Country struct {
	Code string
	Name string
}

var (
	countryListOnce sync.Once
	countryList     []Country
)

// Countries returns every ISO 3166-1 country in the tables, ordered by name, for pickers. The
// slice is shared: callers must not change it.
func Countries() []Country {
	countryListOnce.Do(func() {
		countryList = make([]Country, 0, len(isoCountries))
		for code, name := range isoCountries {
			countryList = append(countryList, Country{Code: code, Name: name})
		}
		sort.Slice(countryList, func(i, j int) bool { return countryList[i].Name < countryList[j].Name })
	})
	return countryList
}
