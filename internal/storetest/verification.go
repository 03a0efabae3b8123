package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// Verification checks the KYC/KYB storage: beneficial owners, documents with their files,
// verifications and internal accounts — round trips, updates, platform scoping, filters and
// keyset paging.
func Verification(t *testing.T, st grid.Store) {
	t.Run("BeneficialOwners", func(t *testing.T) { beneficialOwners(t, st) })
	t.Run("Documents", func(t *testing.T) { documents(t, st) })
	t.Run("Verifications", func(t *testing.T) { verifications(t, st) })
	t.Run("InternalAccounts", func(t *testing.T) { internalAccounts(t, st) })
	t.Run("CustomerReadLocks", func(t *testing.T) { lockCustomer(t, st) })
}

// kycFixture inserts two platforms and, on the first, a business and an individual.
func kycFixture(t *testing.T, st grid.Store) (p, other *grid.Platform, biz, ind *grid.Customer) {
	base := now()
	p, other = newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, p, other)
	biz, ind = newCustomer(p.ID, base), newCustomer(p.ID, base)
	biz.Type = grid.Business
	insertCustomers(t, st, biz, ind)
	return p, other, biz, ind
}

func newOwner(p *grid.Platform, c *grid.Customer, at time.Time, lastName string) *grid.BeneficialOwner {
	return &grid.BeneficialOwner{
		ID: grid.NewID("BeneficialOwner"), PlatformID: p.ID, CustomerID: c.ID,
		Roles: []string{"UBO", "DIRECTOR"}, OwnershipPercentage: 35,
		Info: grid.OwnerInfo{
			FirstName: "Grace", MiddleName: "B", LastName: lastName, BirthDate: "1906-12-09", Nationality: "US",
			Email: "grace@example.com", PhoneNumber: "+14155550100", IDType: "SSN", CountryOfIssuance: "US", HasIdentifier: true,
			Address: &grid.Address{Line1: "1 Navy Way", City: "Arlington", State: "VA", PostalCode: "22201", Country: "US"},
		},
		Sealed: []byte{0x02, 0x00, 0xfe}, Status: grid.StatusUnverified, CreatedAt: at, UpdatedAt: at,
	}
}

func beneficialOwners(t *testing.T, st grid.Store) {
	ctx := t.Context()
	p, other, biz, _ := kycFixture(t, st)
	base := now()
	var owners []*grid.BeneficialOwner
	for i := range 5 {
		owners = append(owners, newOwner(p, biz, base.Add(time.Duration(i)*time.Microsecond), fmt.Sprintf("Hopper %03d", i)))
	}
	owners[1].Sealed, owners[1].Info.Address, owners[1].Roles = nil, nil, []string{}
	mustTx(t, st, func(tx grid.Tx) error {
		for _, o := range owners {
			if err := tx.InsertBeneficialOwner(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})

	got, err := st.GetBeneficialOwner(ctx, p.ID, owners[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "owner", owners[0], got)
	got, err = st.GetBeneficialOwner(ctx, p.ID, owners[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "owner without address or secrets", owners[1], got)
	_, err = st.GetBeneficialOwner(ctx, other.ID, owners[0].ID)
	wantNotFound(t, "owner of another platform", err)

	o := owners[2]
	o.Status, o.OwnershipPercentage, o.Roles, o.Info.LastName = grid.StatusApproved, 10, []string{"CONTROL_PERSON"}, "Changed"
	o.Sealed, o.UpdatedAt = []byte{0x03}, base.Add(time.Second)
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdateBeneficialOwner(ctx, o) })
	got, _ = st.GetBeneficialOwner(ctx, p.ID, o.ID)
	checkEqual(t, "updated owner", o, got)
	ghost := newOwner(other, biz, base, "Ghost")
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.UpdateBeneficialOwner(ctx, ghost) })
	wantNotFound(t, "UpdateBeneficialOwner(unknown)", err)

	var ids []string
	f := grid.OwnerFilter{CustomerID: biz.ID, Limit: 2}
	for range 5 {
		page, err := st.ListBeneficialOwners(ctx, p.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 5 {
			t.Errorf("TotalCount = %d, want 5", page.TotalCount)
		}
		for _, o := range page.Owners {
			ids = append(ids, o.ID)
		}
		if !page.HasMore {
			break
		}
		f.AfterID = page.Owners[len(page.Owners)-1].ID
	}
	want := make([]string, len(owners))
	for i, o := range owners {
		want[i] = o.ID
	}
	checkEqual(t, "paged owners", sortedIDs(want...), ids)
	page, err := st.ListBeneficialOwners(ctx, other.ID, grid.OwnerFilter{CustomerID: biz.ID})
	if err != nil || len(page.Owners) != 0 || page.TotalCount != 0 {
		t.Errorf("another platform lists %d owners (err %v)", len(page.Owners), err)
	}
}

func newDocument(p *grid.Platform, holderID, customerID, typ string, at time.Time) *grid.Document {
	return &grid.Document{
		ID: grid.NewID("Document"), PlatformID: p.ID, HolderID: holderID, CustomerID: customerID, Type: typ,
		Side: "FRONT", Country: "US", Number: "A123", IssuingAuthority: "State Dept", FileName: "scan.png",
		ContentType: "image/png", Size: 4, CreatedAt: at, UpdatedAt: at,
	}
}

func documents(t *testing.T, st grid.Store) {
	ctx := t.Context()
	p, other, biz, ind := kycFixture(t, st)
	base := now()
	owner := newOwner(p, biz, base, "Hopper")
	big := bytes.Repeat([]byte{0x00, 0xff, 0x7f}, 700_000) // ~2 MB: files live in the database
	d1 := newDocument(p, ind.ID, ind.ID, "PASSPORT", base)
	d2 := newDocument(p, biz.ID, biz.ID, "SHAREHOLDER_REGISTER", base.Add(time.Microsecond))
	d3 := newDocument(p, owner.ID, biz.ID, "NATIONAL_ID", base.Add(2*time.Microsecond))
	d2.Side, d2.Number, d2.IssuingAuthority = "", "", ""
	mustTx(t, st, func(tx grid.Tx) error {
		if err := tx.InsertBeneficialOwner(ctx, owner); err != nil {
			return err
		}
		for _, d := range []*grid.Document{d1, d2, d3} {
			content := []byte("file")
			if d == d2 {
				content = big
			}
			if err := tx.InsertDocument(ctx, d, content); err != nil {
				return err
			}
		}
		return nil
	})
	for _, d := range []*grid.Document{d1, d2, d3} {
		got, err := st.GetDocument(ctx, p.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkEqual(t, "document "+d.Type, d, got)
	}
	if got, err := st.GetDocumentContent(ctx, p.ID, d2.ID); err != nil || !bytes.Equal(got, big) {
		t.Errorf("GetDocumentContent: %d bytes, err %v; want %d", len(got), err, len(big))
	}
	_, err := st.GetDocument(ctx, other.ID, d1.ID)
	wantNotFound(t, "document of another platform", err)
	_, err = st.GetDocumentContent(ctx, other.ID, d1.ID)
	wantNotFound(t, "document content of another platform", err)

	list := func(f grid.DocumentFilter) []string {
		t.Helper()
		page, err := st.ListDocuments(ctx, p.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range page.Documents {
			ids = append(ids, d.ID)
		}
		return ids
	}
	checkEqual(t, "all documents", sortedIDs(d1.ID, d2.ID, d3.ID), list(grid.DocumentFilter{}))
	checkEqual(t, "by holder", []string{d3.ID}, list(grid.DocumentFilter{HolderID: owner.ID}))
	checkEqual(t, "by customer", sortedIDs(d2.ID, d3.ID), list(grid.DocumentFilter{CustomerID: biz.ID}))
	first := sortedIDs(d1.ID, d2.ID, d3.ID)
	checkEqual(t, "after", first[1:], list(grid.DocumentFilter{AfterID: first[0]}))

	// Replace the description only, then the file too.
	d1.Type, d1.Country, d1.UpdatedAt = "DRIVERS_LICENSE", "CA", base.Add(time.Second)
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdateDocument(ctx, d1, nil) })
	got, _ := st.GetDocument(ctx, p.ID, d1.ID)
	checkEqual(t, "document after a metadata update", d1, got)
	if c, _ := st.GetDocumentContent(ctx, p.ID, d1.ID); string(c) != "file" {
		t.Errorf("a metadata update changed the file to %q", c)
	}
	d1.FileName, d1.Size = "new.pdf", 3
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdateDocument(ctx, d1, []byte("new")) })
	if c, _ := st.GetDocumentContent(ctx, p.ID, d1.ID); string(c) != "new" {
		t.Errorf("file after replacement = %q", c)
	}
	ghost := newDocument(other, ind.ID, ind.ID, "PASSPORT", base)
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.UpdateDocument(ctx, ghost, nil) })
	wantNotFound(t, "UpdateDocument(unknown)", err)

	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.DeleteDocument(ctx, other.ID, d1.ID) })
	wantNotFound(t, "DeleteDocument(other platform)", err)
	mustTx(t, st, func(tx grid.Tx) error { return tx.DeleteDocument(ctx, p.ID, d1.ID) })
	_, err = st.GetDocument(ctx, p.ID, d1.ID)
	wantNotFound(t, "deleted document", err)
	_, err = st.GetDocumentContent(ctx, p.ID, d1.ID)
	wantNotFound(t, "deleted document's file", err)
}

func verifications(t *testing.T, st grid.Store) {
	ctx := t.Context()
	p, other, biz, ind := kycFixture(t, st)
	base := now()
	v1 := &grid.Verification{ID: grid.NewID("Verification"), PlatformID: p.ID, CustomerID: ind.ID, Status: grid.VerificationResolveErrors,
		Errors: []grid.VerificationError{
			{ResourceID: ind.ID, Type: grid.ProblemMissingField, Field: "identifier", Reason: "Identifier is required"},
			{ResourceID: ind.ID, Type: grid.ProblemMissingIdentityDocument, AcceptedDocumentTypes: []string{"PASSPORT", "NATIONAL_ID"}, Reason: "Identity document is required"},
		}, CreatedAt: base, UpdatedAt: base}
	v2 := &grid.Verification{ID: grid.NewID("Verification"), PlatformID: p.ID, CustomerID: ind.ID, Status: grid.VerificationPendingReview,
		Errors: []grid.VerificationError{}, CreatedAt: base.Add(time.Microsecond), UpdatedAt: base.Add(time.Microsecond)}
	v3 := &grid.Verification{ID: grid.NewID("Verification"), PlatformID: p.ID, CustomerID: biz.ID, Status: grid.VerificationApproved,
		Errors: []grid.VerificationError{}, CreatedAt: base, UpdatedAt: base}
	mustTx(t, st, func(tx grid.Tx) error {
		for _, v := range []*grid.Verification{v1, v2, v3} {
			if err := tx.InsertVerification(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
	for _, v := range []*grid.Verification{v1, v2, v3} {
		got, err := st.GetVerification(ctx, p.ID, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkEqual(t, "verification", v, got)
	}
	_, err := st.GetVerification(ctx, other.ID, v1.ID)
	wantNotFound(t, "verification of another platform", err)

	list := func(f grid.VerificationFilter) ([]string, int) {
		t.Helper()
		page, err := st.ListVerifications(ctx, p.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, v := range page.Verifications {
			ids = append(ids, v.ID)
		}
		return ids, page.TotalCount
	}
	ids, total := list(grid.VerificationFilter{CustomerID: ind.ID})
	checkEqual(t, "by customer", sortedIDs(v1.ID, v2.ID), ids)
	if total != 2 {
		t.Errorf("TotalCount = %d, want 2", total)
	}
	ids, _ = list(grid.VerificationFilter{CustomerID: ind.ID, Status: grid.VerificationPendingReview})
	checkEqual(t, "by customer and status", []string{v2.ID}, ids)
	ids, _ = list(grid.VerificationFilter{Status: grid.VerificationApproved})
	checkEqual(t, "by status", []string{v3.ID}, ids)
	page, err := st.ListVerifications(ctx, p.ID, grid.VerificationFilter{Limit: 1})
	if err != nil || len(page.Verifications) != 1 || !page.HasMore || page.TotalCount != 3 {
		t.Errorf("first page of 1: %d verifications, hasMore %v, total %d (err %v)", len(page.Verifications), page.HasMore, page.TotalCount, err)
	}

	v2.Status, v2.UpdatedAt = grid.VerificationApproved, base.Add(time.Second)
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdateVerification(ctx, v2) })
	got, _ := st.GetVerification(ctx, p.ID, v2.ID)
	checkEqual(t, "updated verification", v2, got)
	ghost := &grid.Verification{ID: grid.NewID("Verification"), PlatformID: other.ID, CustomerID: ind.ID, Status: "APPROVED", CreatedAt: base, UpdatedAt: base}
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.UpdateVerification(ctx, ghost) })
	wantNotFound(t, "UpdateVerification(unknown)", err)
}

func internalAccounts(t *testing.T, st grid.Store) {
	ctx := t.Context()
	p, other, biz, ind := kycFixture(t, st)
	base := now()
	acct := func(c *grid.Customer, cur, typ string, i int) *grid.InternalAccount {
		at := base.Add(time.Duration(i) * time.Microsecond)
		return &grid.InternalAccount{ID: grid.NewID("InternalAccount"), PlatformID: p.ID, CustomerID: c.ID, Currency: cur, Type: typ,
			Status: grid.AccountActive, Balance: int64(i), CreatedAt: at, UpdatedAt: at}
	}
	accounts := []*grid.InternalAccount{
		acct(ind, "USD", grid.AccountFiat, 0), acct(ind, "USDC", grid.AccountCrypto, 1), acct(biz, "USD", grid.AccountFiat, 2), acct(biz, "EUR", grid.AccountFiat, 3),
	}
	mustTx(t, st, func(tx grid.Tx) error {
		for _, a := range accounts {
			if err := tx.InsertInternalAccount(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	err := withTx(ctx, st, func(tx grid.Tx) error { return tx.InsertInternalAccount(ctx, acct(ind, "USD", grid.AccountFiat, 9)) })
	wantDuplicate(t, "InsertInternalAccount(second USD account)", err, grid.KeyInternalAccount)

	list := func(platformID string, f grid.InternalAccountFilter) []*grid.InternalAccount {
		t.Helper()
		page, err := st.ListInternalAccounts(ctx, platformID, f)
		if err != nil {
			t.Fatal(err)
		}
		return page.Accounts
	}
	ids := func(as []*grid.InternalAccount) []string {
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = a.ID
		}
		return out
	}
	all := list(p.ID, grid.InternalAccountFilter{})
	if len(all) != 4 {
		t.Fatalf("ListInternalAccounts = %d accounts, want 4", len(all))
	}
	for _, got := range all {
		for _, want := range accounts {
			if want.ID == got.ID {
				checkEqual(t, "internal account", want, got)
			}
		}
	}
	checkEqual(t, "by customer", sortedIDs(accounts[0].ID, accounts[1].ID), ids(list(p.ID, grid.InternalAccountFilter{CustomerID: ind.ID})))
	checkEqual(t, "by currency", sortedIDs(accounts[0].ID, accounts[2].ID), ids(list(p.ID, grid.InternalAccountFilter{Currency: "USD"})))
	checkEqual(t, "by type", []string{accounts[1].ID}, ids(list(p.ID, grid.InternalAccountFilter{Type: grid.AccountCrypto})))
	if n := len(list(other.ID, grid.InternalAccountFilter{})); n != 0 {
		t.Errorf("another platform lists %d accounts", n)
	}
	page, err := st.ListInternalAccounts(ctx, p.ID, grid.InternalAccountFilter{Limit: 3})
	if err != nil || len(page.Accounts) != 3 || !page.HasMore || page.TotalCount != 4 {
		t.Errorf("first page of 3: %d accounts, hasMore %v, total %d (err %v)", len(page.Accounts), page.HasMore, page.TotalCount, err)
	}
	rest := list(p.ID, grid.InternalAccountFilter{AfterID: page.Accounts[2].ID})
	if len(rest) != 1 {
		t.Errorf("second page: %d accounts, want 1", len(rest))
	}

	a := accounts[1]
	a.Status, a.UpdatedAt = grid.AccountClosed, base.Add(time.Second)
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdateInternalAccount(ctx, a) })
	got := list(p.ID, grid.InternalAccountFilter{Type: grid.AccountCrypto})
	if len(got) != 1 {
		t.Fatalf("crypto accounts = %d", len(got))
	}
	checkEqual(t, "closed account", a, got[0])
	ghost := acct(ind, "BTC", grid.AccountCrypto, 5)
	ghost.PlatformID = other.ID
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.UpdateInternalAccount(ctx, ghost) })
	wantNotFound(t, "UpdateInternalAccount(unknown)", err)
}

// lockCustomer checks that a customer read inside a transaction answers ErrNotFound for another
// platform's or an unknown id, and that a transaction reading a customer another one has read
// (and so locked) sees that one's committed change.
func lockCustomer(t *testing.T, st grid.Store) {
	ctx := t.Context()
	p, other, _, ind := kycFixture(t, st)
	read := func(platformID, id string) func(grid.Tx) error {
		return func(tx grid.Tx) error { _, err := tx.GetCustomer(ctx, platformID, id); return err }
	}
	wantNotFound(t, "GetCustomer in a transaction (other platform)", withTx(ctx, st, read(other.ID, ind.ID)))
	wantNotFound(t, "GetCustomer in a transaction (unknown)", withTx(ctx, st, read(p.ID, "Customer:nope")))

	locked, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		var once bool
		first <- withTx(ctx, st, func(tx grid.Tx) error {
			c, err := tx.GetCustomer(ctx, p.ID, ind.ID)
			if err != nil {
				return err
			}
			if !once {
				once = true
				close(locked)
				<-release
			}
			c.Status = grid.StatusApproved
			return tx.UpdateCustomer(ctx, c)
		})
	}()
	<-locked
	second := make(chan error, 1)
	var seen grid.Status
	go func() {
		second <- withTx(ctx, st, func(tx grid.Tx) error {
			c, err := tx.GetCustomer(ctx, p.ID, ind.ID)
			if err != nil {
				return err
			}
			seen = c.Status
			return nil
		})
	}()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if seen != grid.StatusApproved {
		t.Errorf("the second locker read status %s, want the first one's APPROVED", seen)
	}
}
