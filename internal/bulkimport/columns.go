package bulkimport

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gridd/gridd/internal/grid"
)

// column is one CSV column gridd reads: the request field it fills, by its POST /customers
// path ("" for the columns Grid documents but that describe nothing gridd keeps).
type column struct {
	name  string
	field string
	set   func(in *grid.CustomerInput, v string)
}

// columns lists every column gridd reads. The first group is the one the Grid guide
// documents; the second (gridd extension) fills the POST /customers fields the guide's columns
// leave out, notably those a business needs (businessCountry, businessIncorporatedOn).
var columns = []column{
	{"umaAddress", "umaAddress", func(in *grid.CustomerInput, v string) { in.UMAAddress = &v }},
	{"platformCustomerId", "platformCustomerId", func(in *grid.CustomerInput, v string) { in.PlatformCustomerID = &v }},
	{"customerType", "customerType", func(in *grid.CustomerInput, v string) { in.CustomerType = &v }},
	{"fullName", "fullName", func(in *grid.CustomerInput, v string) { in.FullName = &v }},
	{"birthDate", "birthDate", func(in *grid.CustomerInput, v string) { in.BirthDate = &v }},
	{"email", "email", func(in *grid.CustomerInput, v string) { in.Email = &v }},
	{"addressLine1", "address.line1", func(in *grid.CustomerInput, v string) { address(in).Line1 = &v }},
	{"addressLine2", "address.line2", func(in *grid.CustomerInput, v string) { address(in).Line2 = &v }},
	{"city", "address.city", func(in *grid.CustomerInput, v string) { address(in).City = &v }},
	{"state", "address.state", func(in *grid.CustomerInput, v string) { address(in).State = &v }},
	{"postalCode", "address.postalCode", func(in *grid.CustomerInput, v string) { address(in).PostalCode = &v }},
	{"country", "address.country", func(in *grid.CustomerInput, v string) { address(in).Country = &v }},
	{"businessLegalName", "businessInfo.legalName", func(in *grid.CustomerInput, v string) { business(in).LegalName = &v }},
	{"businessRegistrationNumber", "businessInfo.registrationNumber", func(in *grid.CustomerInput, v string) { business(in).RegistrationNumber = &v }},
	{"businessTaxId", "businessInfo.taxId", func(in *grid.CustomerInput, v string) { business(in).TaxID = &v }},
	{"platformAccountId", "", nil},
	{"description", "", nil},

	{"phoneNumber", "phoneNumber", func(in *grid.CustomerInput, v string) { in.PhoneNumber = &v }},
	{"region", "region", func(in *grid.CustomerInput, v string) { in.Region = &v }},
	{"currencies", "currencies", func(in *grid.CustomerInput, v string) {
		list := strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' || unicode.IsSpace(r) })
		in.Currencies = &list
	}},
	{"nationality", "nationality", func(in *grid.CustomerInput, v string) { in.Nationality = &v }},
	{"kycStatus", "kycStatus", func(in *grid.CustomerInput, v string) { in.KYCStatus = &v }},
	{"kybStatus", "kybStatus", func(in *grid.CustomerInput, v string) { in.KYBStatus = &v }},
	{"businessCountry", "businessInfo.country", func(in *grid.CustomerInput, v string) { business(in).Country = &v }},
	{"businessIncorporatedOn", "businessInfo.incorporatedOn", func(in *grid.CustomerInput, v string) { business(in).IncorporatedOn = &v }},
	{"businessEntityType", "businessInfo.entityType", func(in *grid.CustomerInput, v string) { business(in).EntityType = &v }},
	{"businessDoingBusinessAs", "businessInfo.doingBusinessAs", func(in *grid.CustomerInput, v string) { business(in).DoingBusinessAs = &v }},
}

func address(in *grid.CustomerInput) *grid.AddressInput {
	if in.Address == nil {
		in.Address = &grid.AddressInput{}
	}
	return in.Address
}

func business(in *grid.CustomerInput) *grid.BusinessInput {
	if in.Business == nil {
		in.Business = &grid.BusinessInput{}
	}
	return in.Business
}

var (
	columnsByName  = map[string]*column{} // lower-cased name
	columnsByField = map[string]string{}
)

func init() {
	for i := range columns {
		c := &columns[i]
		columnsByName[strings.ToLower(c.name)] = c
		if c.field != "" {
			columnsByField[c.field] = c.name
		}
	}
}

// ColumnOf returns the CSV column that fills a request field, given by the path a field error
// names ("currencies[1]" is the currencies column), or "" when no single column does.
func ColumnOf(field string) string {
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	return columnsByField[field]
}

// Columns returns the names of the columns gridd reads, in documentation order.
func Columns() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.name
	}
	return out
}

// header is a file's first row, resolved to columns.
type header struct {
	cols []*column
}

// headerRow is the record number of the header.
const headerRow = 1

// parseHeader resolves a header row. Names are matched without regard to case or surrounding
// blanks. A file with an unknown or repeated column, or without customerType, cannot be
// imported: the error says why.
func parseHeader(rec []string) (*header, *grid.BulkRowError) {
	fail := func(format string, args ...any) (*header, *grid.BulkRowError) {
		return nil, &grid.BulkRowError{Row: headerRow, Code: grid.CodeInvalidInput, Message: fmt.Sprintf(format, args...)}
	}
	h := &header{cols: make([]*column, len(rec))}
	seen := map[*column]bool{}
	for i, name := range rec {
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF") // the byte order mark spreadsheets write
		}
		if !utf8.ValidString(name) {
			return fail("the header row is not valid UTF-8")
		}
		name = strings.TrimSpace(name)
		c, ok := columnsByName[strings.ToLower(name)]
		switch {
		case !ok:
			return fail("unknown column %q in the header row; the columns are: %s", name, strings.Join(Columns(), ", "))
		case seen[c]:
			return fail("column %s appears twice in the header row", c.name)
		}
		seen[c] = true
		h.cols[i] = c
	}
	if !slices.ContainsFunc(h.cols, func(c *column) bool { return c.name == "customerType" }) {
		return fail("the header row lacks the required column customerType")
	}
	return h, nil
}

// row turns a data record into a create request. An empty or blank cell is a field not sent;
// any other value is sent as it is, so that the row meets exactly the rules of POST
// /customers.
func (h *header) row(n int64, rec []string) grid.BulkRow {
	in := &grid.CustomerInput{}
	for i, v := range rec {
		if i >= len(h.cols) || strings.TrimSpace(v) == "" || h.cols[i].set == nil {
			continue
		}
		h.cols[i].set(in, v)
	}
	r := grid.BulkRow{Row: n, Input: in}
	switch {
	case len(rec) != len(h.cols):
		r.Err = grid.Errorf(400, grid.CodeInvalidInput, "the row has %d values but the header has %d columns", len(rec), len(h.cols))
	case !validUTF8(rec):
		r.Err = grid.Errorf(400, grid.CodeInvalidInput, "the row is not valid UTF-8")
	}
	return r
}

func validUTF8(rec []string) bool {
	for _, v := range rec {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}
