package httpapi

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/refdata"
)

// The hosted KYC/KYB flow: plain HTML pages, rendered with html/template from embedded
// templates, with no script and no external asset. Every change they make goes through the
// same service operations as the API (PATCH /customers, POST /beneficial-owners,
// POST /documents, POST /verifications), acting for the link.

//go:embed hosted/*.html
var hostedFS embed.FS

// hostedPages are the page templates, each joined with the layout.
var hostedPages = func() map[string]*template.Template {
	pages := map[string]*template.Template{}
	for _, name := range []string{"form", "done", "error"} {
		pages[name] = template.Must(template.New(name).ParseFS(hostedFS, "hosted/layout.html", "hosted/"+name+".html"))
	}
	return pages
}()

// Upload limits of the hosted form: each file as on POST /documents, the whole form a few
// files' worth.
const (
	maxHostedFormBytes  = 4*grid.MaxDocumentSize + 1<<20
	maxHostedValueBytes = 4 << 10
	maxHostedParts      = 200
)

// hostedCSP allows inline styles and same-origin form posts, and nothing else.
const hostedCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"

// hosted wraps a page handler: an error becomes an HTML error page with its status, and a
// panic a logged 500 page. Logs name the route pattern, never the path: it holds the token.
func (a *API) hosted(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.ErrorContext(r.Context(), "panic", "method", r.Method, "pattern", r.Pattern, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				a.hostedError(w, r, errors.New("panic in hosted page"))
			}
		}()
		if err := h(w, r); err != nil {
			a.hostedError(w, r, err)
		}
	})
}

// renderHosted writes a page with the hosted flow's headers. The page is rendered whole
// before anything is sent, so a template failure is still a clean 500.
func (a *API) renderHosted(w http.ResponseWriter, r *http.Request, status int, page string, v *hostedView) {
	var buf bytes.Buffer
	if err := hostedPages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		a.log.ErrorContext(r.Context(), "render hosted page", "page", page, "err", err)
		buf.Reset()
		status = http.StatusInternalServerError
		buf.WriteString("<!doctype html><title>Error</title><p>Something went wrong. Try again in a moment.</p>")
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", hostedCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// hostedError answers an error as a page: a domain error keeps its status and gets a plain
// explanation; anything else is logged and answered 500.
func (a *API) hostedError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := grid.AsError(err)
	if !ok {
		a.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "pattern", r.Pattern, "err", err)
		e = grid.Errorf(500, grid.CodeInternal, "internal error")
	}
	v := &hostedView{Title: "Verification", Heading: "Something went wrong", Message: "The page could not be shown. Try again in a moment."}
	switch e.Code {
	case grid.CodeKycLinkNotFound:
		v.Heading, v.Message = "This link is not valid", "Check that you opened the whole link you were sent, or ask for a new one."
	case grid.CodeKycLinkExpired:
		v.Heading, v.Message = "This link has expired", fmt.Sprintf("Verification links can be used for %d hours. Ask the service that sent it for a new link.", int(grid.KycLinkTTL/time.Hour))
	case grid.CodeKycLinkUsed:
		v.Heading, v.Message = "This link has already been used", "Your information was submitted with this link. If you need to change something, ask the service that sent it for a new link."
	case grid.CodeKycComplete:
		v.Heading, v.Message = "Your verification is complete", "There is nothing left to do with this link."
	case grid.CodeCustomerDeleted:
		v.Heading, v.Message = "This link is no longer valid", "The account it was issued for has been closed."
	case grid.CodeKycFormStale:
		v.Heading, v.Message, v.Back = "The form has expired", "Open the form again and send it once more. Nothing was saved.", true
	case grid.CodePayloadTooLarge:
		v.Heading, v.Back = "The upload is too large", true
		v.Message = fmt.Sprintf("Each file may be at most %d MiB, and one form at most %d MiB. Nothing was saved. Go back and send fewer or smaller files; use “Save” to send them in several steps.",
			grid.MaxDocumentSize>>20, maxHostedFormBytes>>20)
	case grid.CodeUnsupportedMediaType:
		v.Heading, v.Message, v.Back = "The form could not be read", "Send the form from the page itself.", true
	case grid.CodeMethodNotAllowed:
		v.Heading, v.Message = "Not allowed", "This page can only be opened or sent from its form."
	case grid.CodeNotFound:
		v.Heading, v.Message = "Page not found", "There is no page at this address."
	case grid.CodeInternal:
	default:
		if e.Status < 500 {
			v.Heading, v.Message, v.Back = "The request could not be completed", sentence(e.Message), true
		}
	}
	a.renderHosted(w, r, e.Status, "error", v)
}

// hostedUnrouted answers every other request under /hosted/: 405 for a link's path with
// another method, 404 elsewhere.
func (a *API) hostedUnrouted(w http.ResponseWriter, r *http.Request) error {
	rest, ok := strings.CutPrefix(r.URL.Path, hostedKycPath)
	if ok && rest != "" && !strings.Contains(rest, "/") {
		w.Header().Set("Allow", "GET, HEAD, POST")
		return grid.Errorf(405, grid.CodeMethodNotAllowed, "method not allowed")
	}
	return grid.Errorf(404, grid.CodeNotFound, "no such page")
}

// hostedKycGet shows the flow: the data on file, what is missing, and the form.
func (a *API) hostedKycGet(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.svc.OpenKycLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	v, err := a.formView(sess, nil, nil)
	if err != nil {
		return err
	}
	a.renderHosted(w, r, http.StatusOK, "form", v)
	return nil
}

// hostedKycPost saves what the form carries and, for "submit", submits the customer for
// verification. Problems with the input show the form again with them (400); a verification
// that lists missing items shows the form again with those (200); a submission that goes
// through shows the outcome and consumes the link.
func (a *API) hostedKycPost(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	token := r.PathValue("token")
	// A dead link is answered before its body is read.
	if _, err := a.svc.OpenKycLink(ctx, token); err != nil {
		return err
	}
	form, err := readHostedForm(w, r)
	if err != nil {
		return err
	}
	sess, err := a.svc.OpenKycLinkForm(ctx, token, form.value("nonce"))
	if err != nil {
		return err
	}
	// Uploads may take long: give the answer time to go out.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(60 * time.Second))

	st := &postState{form: form, fieldErrs: map[string]string{}}
	if err := a.applyHostedForm(r, sess, st); err != nil {
		return err
	}
	if len(st.errors) > 0 || form.value("action") != "submit" {
		fresh, err := a.svc.OpenKycLink(ctx, token)
		if err != nil {
			return err
		}
		v, err := a.formView(fresh, nil, st)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if len(st.errors) > 0 {
			status = http.StatusBadRequest
		} else {
			v.Notice = "Your information was saved. Submit it when you are ready."
		}
		a.renderHosted(w, r, status, "form", v)
		return nil
	}

	ver, err := a.svc.SubmitKycLink(ctx, sess)
	if err != nil {
		if e, ok := grid.AsError(err); ok && e.Status == 400 {
			st.errors = append(st.errors, sentence(e.Message))
			return a.renderPostForm(w, r, token, st, nil)
		}
		return err
	}
	if ver.Status == grid.VerificationResolveErrors {
		return a.renderPostForm(w, r, token, st, ver.Errors)
	}
	a.renderHosted(w, r, http.StatusOK, "done", doneView(sess, ver))
	return nil
}

// renderPostForm shows the form again after a submission that did not go through, listing
// requirements (when given) as what is still needed.
func (a *API) renderPostForm(w http.ResponseWriter, r *http.Request, token string, st *postState, requirements []grid.VerificationError) error {
	fresh, err := a.svc.OpenKycLink(r.Context(), token)
	if err != nil {
		return err
	}
	v, err := a.formView(fresh, requirements, st)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if requirements == nil {
		status = http.StatusBadRequest
	} else {
		v.Errors = append(v.Errors, "Your information could not be submitted yet: some items are still missing. They are listed below.")
	}
	a.renderHosted(w, r, status, "form", v)
	return nil
}

// ---- the posted form ----

// hostedForm is a posted multipart form: text values by name, and the files that were chosen.
type hostedForm struct {
	values map[string][]string
	files  map[string]*grid.DocumentFile
}

// value returns a text field, trimmed ("" when absent).
func (f *hostedForm) value(name string) string {
	if vs := f.values[name]; len(vs) > 0 {
		return strings.TrimSpace(vs[0])
	}
	return ""
}

// opt returns a text field, or nil when it is absent or blank.
func (f *hostedForm) opt(name string) *string {
	v := f.value(name)
	if v == "" {
		return nil
	}
	return &v
}

// readHostedForm reads a multipart form as a stream with the hosted limits: 413 beyond the
// size of a file or of the form.
func readHostedForm(w http.ResponseWriter, r *http.Request) (*hostedForm, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, &grid.Error{Status: 415, Code: grid.CodeUnsupportedMediaType, Message: "the form must be sent as multipart/form-data"}
	}
	body := &uploadBody{ReadCloser: http.MaxBytesReader(w, r.Body, maxHostedFormBytes), rc: http.NewResponseController(w)}
	mr := multipart.NewReader(body, params["boundary"])
	f := &hostedForm{values: map[string][]string{}, files: map[string]*grid.DocumentFile{}}
	tooLarge := &grid.Error{Status: 413, Code: grid.CodePayloadTooLarge, Message: "the form is too large"}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		if err != nil {
			return nil, body.hostedFailure(tooLarge)
		}
		if n >= maxHostedParts {
			return nil, grid.Errorf(400, grid.CodeInvalidInput, "the form has too many fields")
		}
		name := part.FormName()
		if name == "" {
			part.Close()
			continue
		}
		if isFilePart(part) {
			data, err := io.ReadAll(io.LimitReader(part, grid.MaxDocumentSize+1))
			if err != nil {
				return nil, body.hostedFailure(tooLarge)
			}
			if len(data) > grid.MaxDocumentSize {
				return nil, tooLarge
			}
			// A file input left empty arrives as a part without a name or content.
			if len(data) > 0 || part.FileName() != "" {
				f.files[name] = &grid.DocumentFile{Name: part.FileName(), DeclaredType: part.Header.Get("Content-Type"), Data: data}
			}
			part.Close()
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(part, maxHostedValueBytes+1))
		if err != nil {
			return nil, body.hostedFailure(tooLarge)
		}
		if len(raw) > maxHostedValueBytes {
			return nil, grid.Errorf(400, grid.CodeInvalidInput, "a field of the form is longer than %d bytes", maxHostedValueBytes)
		}
		f.values[name] = append(f.values[name], string(raw))
		part.Close()
	}
}

// isFilePart reports whether a part comes from a file input: its disposition names a file,
// even an empty name (a file input left empty).
func isFilePart(part *multipart.Part) bool {
	_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	if err != nil {
		return false
	}
	_, ok := params["filename"]
	return ok
}

// hostedFailure is the error for a form body that could not be read: 413 past the limit, else
// a 400 about the framing.
func (b *uploadBody) hostedFailure(tooLarge error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(b.err, &mbe):
		return tooLarge
	case b.err != nil:
		return grid.Errorf(499, grid.CodeInternal, "the upload was interrupted")
	}
	return grid.Errorf(400, grid.CodeInvalidInput, "the form could not be read")
}

// postState collects what happened to a posted form: error messages for the summary, errors
// by input name, and the groups of inputs that were saved (their values are not shown again).
type postState struct {
	form      *hostedForm
	errors    []string
	fieldErrs map[string]string
	saved     map[string]bool
}

// fail records a failed step: a domain error's field errors go to their inputs (mapped by
// input), anything else to the summary. Unexpected errors are returned.
func (st *postState) fail(err error, section string, input func(field string) string) error {
	e, ok := grid.AsError(err)
	if !ok || e.Status >= 500 || e.Status == 499 {
		return err
	}
	if len(e.Fields) == 0 {
		st.errors = append(st.errors, section+": "+sentence(e.Message))
		return nil
	}
	for _, f := range e.Fields {
		name := input(f.Field)
		msg := fieldMessage(fieldLabel(f.Field), f.Message)
		st.errors = append(st.errors, section+": "+sentence(msg))
		if name != "" {
			if _, taken := st.fieldErrs[name]; !taken {
				st.fieldErrs[name] = sentence(msg)
			}
		}
	}
	return nil
}

func (st *postState) markSaved(prefix string) {
	if st.saved == nil {
		st.saved = map[string]bool{}
	}
	st.saved[prefix] = true
}

// applyHostedForm saves what the form carries, step by step through the service: the
// customer's missing details, documents, a new beneficial owner with its identity document.
// A step that fails is recorded in st and the others still run.
func (a *API) applyHostedForm(r *http.Request, sess *grid.KycSession, st *postState) error {
	ctx := r.Context()
	f := st.form

	if d := detailsFromForm(f, sess.Customer.Type); d != nil {
		if err := a.svc.KycLinkFill(ctx, sess, d); err != nil {
			if err := st.fail(err, detailsSection(sess.Customer.Type), detailInput); err != nil {
				return err
			}
		} else {
			st.markSaved("details")
		}
	}

	// Documents of the customer and of the owners on file, one slot per requirement.
	var slots []string
	for name := range f.files {
		if key, ok := slotKeyOf(name); ok && !slices.Contains(slots, key) {
			slots = append(slots, key)
		}
	}
	for name := range f.values {
		if key, ok := slotKeyOf(name); ok && !slices.Contains(slots, key) && slotHasInput(f, key) {
			slots = append(slots, key)
		}
	}
	slices.Sort(slots)
	for _, key := range slots {
		holder := slotHolder(key)
		prefix := "doc." + key + "."
		label := "Document"
		if holder == sess.Customer.ID {
			label = "Your document"
			if sess.Customer.Type == grid.Business {
				label = "Business document"
			}
		} else if o := findOwner(sess.Owners, holder); o != nil {
			label = "Document of " + ownerName(o)
		}
		file := f.files[prefix+"file"]
		if file == nil {
			st.errors = append(st.errors, label+": choose the file to upload.")
			st.fieldErrs[prefix+"file"] = "Choose the file to upload."
			continue
		}
		in := &grid.DocumentInput{HolderID: &holder, Type: f.opt(prefix + "type"), Country: f.opt(prefix + "country"),
			Number: f.opt(prefix + "number"), IssuingAuthority: f.opt(prefix + "authority"), File: file}
		if _, err := a.svc.KycLinkUpload(ctx, sess, in); err != nil {
			if err := st.fail(err, label, docInput(prefix)); err != nil {
				return err
			}
			continue
		}
		st.markSaved(prefix)
	}

	// A new beneficial owner, and its identity document once it exists.
	if sess.Customer.Type == grid.Business && ownerHasInput(f) {
		in := ownerFromForm(f)
		o, err := a.svc.KycLinkAddOwner(ctx, sess, in)
		if err != nil {
			if err := st.fail(err, "New beneficial owner", ownerInput); err != nil {
				return err
			}
			if f.files["owner.doc.file"] != nil {
				st.errors = append(st.errors, "New beneficial owner: choose the identity document again once the owner's details are corrected.")
			}
			return nil
		}
		st.markSaved("owner.")
		if file := f.files["owner.doc.file"]; file != nil {
			in := &grid.DocumentInput{HolderID: &o.ID, Type: f.opt("owner.doc.type"), Country: f.opt("owner.doc.country"),
				Number: f.opt("owner.doc.number"), IssuingAuthority: f.opt("owner.doc.authority"), File: file}
			if _, err := a.svc.KycLinkUpload(ctx, sess, in); err != nil {
				// The owner was added: the form now asks for its document in a slot of its own.
				if err := st.fail(err, "Identity document of "+ownerName(o), func(string) string { return "" }); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// detailsFromForm reads the customer's detail inputs; nil when none was filled in.
func detailsFromForm(f *hostedForm, typ grid.CustomerType) *grid.KycLinkDetails {
	d := &grid.KycLinkDetails{Address: addressFromForm(f, "address.")}
	sent := d.Address != nil
	set := func(dst **string, name string) {
		if v := f.opt(name); v != nil {
			*dst, sent = v, true
		}
	}
	if typ == grid.Individual {
		set(&d.FullName, "fullName")
		set(&d.BirthDate, "birthDate")
		set(&d.Nationality, "nationality")
		// The ID type picker comes preset with the type on file: it counts with a number only.
		if f.value("identifier") != "" {
			set(&d.IDType, "idType")
			set(&d.Identifier, "identifier")
		}
	} else {
		b := &grid.BusinessInput{}
		set(&b.LegalName, "businessInfo.legalName")
		set(&b.Country, "businessInfo.country")
		set(&b.RegistrationNumber, "businessInfo.registrationNumber")
		set(&b.IncorporatedOn, "businessInfo.incorporatedOn")
		set(&b.EntityType, "businessInfo.entityType")
		set(&b.TaxID, "businessInfo.taxId")
		if v := f.value("businessInfo.countriesOfOperation"); v != "" {
			list := strings.FieldsFunc(strings.ToUpper(v), func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
			b.CountriesOfOperation, sent = &list, true
		}
		if *b != (grid.BusinessInput{}) {
			d.Business = b
		}
	}
	if !sent {
		return nil
	}
	return d
}

// addressFromForm reads an address under prefix; nil when no text part is filled in (the
// country picker comes preset, so it alone does not count).
func addressFromForm(f *hostedForm, prefix string) *grid.AddressInput {
	a := &grid.AddressInput{
		Line1: f.opt(prefix + "line1"), Line2: f.opt(prefix + "line2"), City: f.opt(prefix + "city"),
		State: f.opt(prefix + "state"), PostalCode: f.opt(prefix + "postalCode"),
	}
	if *a == (grid.AddressInput{}) {
		return nil
	}
	a.Country = f.opt(prefix + "country")
	return a
}

// ownerTextInputs are the text inputs of the new owner form; any of them filled in means the
// customer is adding an owner.
var ownerTextInputs = []string{"owner.firstName", "owner.lastName", "owner.birthDate", "owner.ownershipPercentage",
	"owner.identifier", "owner.address.line1", "owner.address.city", "owner.address.postalCode"}

func ownerHasInput(f *hostedForm) bool {
	for _, n := range ownerTextInputs {
		if f.value(n) != "" {
			return true
		}
	}
	return len(f.values["owner.roles"]) > 0 || f.files["owner.doc.file"] != nil
}

// ownerFromForm reads the new owner form as POST /beneficial-owners would receive it.
func ownerFromForm(f *hostedForm) *grid.OwnerInput {
	in := &grid.OwnerInput{Info: &grid.OwnerInfoInput{
		FirstName: f.opt("owner.firstName"), LastName: f.opt("owner.lastName"), BirthDate: f.opt("owner.birthDate"),
		Nationality: f.opt("owner.nationality"), IDType: f.opt("owner.idType"), Identifier: f.opt("owner.identifier"),
		Address: addressFromForm(f, "owner.address."),
	}}
	var roles []string
	for _, r := range f.values["owner.roles"] {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	if len(roles) > 0 {
		in.Roles = &roles
	}
	if v := f.value("owner.ownershipPercentage"); v != "" {
		pct, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
		if err != nil {
			pct = -1 // reported as out of range
		}
		in.OwnershipPercentage = &pct
	}
	return in
}

// Document slots are named doc.<kind>.<holder id>.<part>.
func slotKey(kind, holder string) string { return kind + "." + holder }

func slotKeyOf(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "doc.")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 || !strings.Contains(rest[:i], ".") {
		return "", false
	}
	return rest[:i], true
}

func slotHolder(key string) string {
	_, holder, _ := strings.Cut(key, ".")
	return holder
}

// slotHasInput reports whether the customer filled in any text input of a slot (the selects
// come preset, so they do not count).
func slotHasInput(f *hostedForm, key string) bool {
	return f.value("doc."+key+".number") != "" || f.value("doc."+key+".authority") != ""
}

// Mapping of domain field names to form inputs.

func detailInput(field string) string {
	field = stripIndex(field)
	if field == "customerType" {
		return ""
	}
	return field
}

func ownerInput(field string) string {
	field = stripIndex(field)
	if rest, ok := strings.CutPrefix(field, "personalInfo."); ok {
		return "owner." + rest
	}
	switch field {
	case "roles", "ownershipPercentage":
		return "owner." + field
	}
	return ""
}

func docInput(prefix string) func(string) string {
	return func(field string) string {
		switch field {
		case "documentType":
			return prefix + "type"
		case "country":
			return prefix + "country"
		case "documentNumber":
			return prefix + "number"
		case "issuingAuthority":
			return prefix + "authority"
		case "file":
			return prefix + "file"
		}
		return ""
	}
}

// stripIndex removes list indexes: countriesOfOperation[2] -> countriesOfOperation.
func stripIndex(field string) string {
	if i := strings.IndexByte(field, '['); i >= 0 {
		if j := strings.IndexByte(field[i:], ']'); j >= 0 {
			return stripIndex(field[:i] + field[i+j+1:])
		}
	}
	return field
}

// fieldLabels name the fields of every form in plain words.
var fieldLabels = map[string]string{
	"fullName": "Full name", "birthDate": "Date of birth", "nationality": "Nationality", "idType": "ID type",
	"identifier": "ID number", "address": "Address", "address.line1": "Address line 1", "address.line2": "Address line 2",
	"address.city": "City", "address.state": "State or region", "address.postalCode": "Postal code", "address.country": "Country",
	"businessInfo": "Business details", "businessInfo.legalName": "Legal name", "businessInfo.country": "Country of incorporation",
	"businessInfo.registrationNumber": "Registration number", "businessInfo.incorporatedOn": "Date of incorporation",
	"businessInfo.entityType": "Entity type", "businessInfo.taxId": "Tax ID", "businessInfo.countriesOfOperation": "Countries of operation",
	"firstName": "First name", "middleName": "Middle name", "lastName": "Last name", "roles": "Roles",
	"ownershipPercentage": "Ownership percentage", "countryOfIssuance": "Country of issuance",
	"documentType": "Document type", "country": "Issuing country", "documentNumber": "Document number",
	"issuingAuthority": "Issuing authority", "file": "File", "side": "Side", "documentHolder": "Document holder",
	"email": "Email address", "phoneNumber": "Phone number", "customerId": "Customer",
}

// fieldLabel names a domain field path in plain words.
func fieldLabel(field string) string {
	field = strings.TrimPrefix(stripIndex(field), "personalInfo.")
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		if l, ok := fieldLabels[field[i+1:]]; ok {
			return l
		}
	}
	return field
}

// fieldMessage joins a field's label and a message about it: "Postal code is required",
// "ID number: an SSN must have the form ###-##-####".
func fieldMessage(label, msg string) string {
	msg = strings.TrimSuffix(strings.TrimSpace(msg), ".")
	first, _, _ := strings.Cut(msg, " ")
	switch first {
	case "is", "must", "cannot", "belongs", "was", "has":
		return label + " " + msg
	}
	return label + ": " + msg
}

// sentence capitalises a message and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func detailsSection(t grid.CustomerType) string {
	if t == grid.Business {
		return "Business details"
	}
	return "Your details"
}

func findOwner(owners []*grid.BeneficialOwner, id string) *grid.BeneficialOwner {
	for _, o := range owners {
		if o.ID == id {
			return o
		}
	}
	return nil
}

func ownerName(o *grid.BeneficialOwner) string {
	return strings.Join(strings.Fields(o.Info.FirstName+" "+o.Info.MiddleName+" "+o.Info.LastName), " ")
}

// ---- views ----

// hostedView is what a page shows.
type hostedView struct {
	Title    string
	Heading  string
	Message  string
	Platform string
	// Back offers a link back to the form (error pages).
	Back bool

	Intro       string
	OnFile      []reviewRow
	Owners      []ownerView
	Documents   []docView
	Needed      []string
	Errors      []string
	Notice      string
	Sections    []formSection
	Nonce       string
	NothingToDo bool

	Status      string
	StatusLabel string
	RedirectURI string
}

type reviewRow struct {
	Label, Value string
	Missing      bool
}

type ownerView struct {
	Name, Roles, Ownership, Status string
}

type docView struct {
	Holder, Type, File string
}

// formSection is one fieldset of the form.
type formSection struct {
	ID, Title, Intro string
	Inputs           []inputView
}

// inputView is one form control. Kind is text, date, number, select, checks or file.
type inputView struct {
	Kind, Name, ID, Label, Hint, Value, Err, Autocomplete string
	Options                                               []optionView
	Required                                              bool
}

type optionView struct {
	Value, Label string
	Selected     bool
}

// formView builds the form page of a session. requirements, when not nil, replace the
// session's own (the answer of a submission); st carries the last post's errors and values.
func (a *API) formView(sess *grid.KycSession, requirements []grid.VerificationError, st *postState) (*hostedView, error) {
	nonce, err := a.svc.KycFormNonce(sess)
	if err != nil {
		return nil, err
	}
	if requirements == nil {
		requirements = sess.Requirements
	}
	c := sess.Customer
	business := c.Type == grid.Business
	v := &hostedView{Platform: sess.Platform.Name, Nonce: nonce}
	if business {
		v.Title = "Verify your business"
		v.Intro = "To finish setting up the business account, confirm the details we have and provide what is missing."
	} else {
		v.Title = "Verify your identity"
		v.Intro = "To finish setting up your account, confirm your details and provide what is missing."
	}
	v.Heading = v.Title
	v.OnFile = reviewRows(c)
	for _, o := range sess.Owners {
		v.Owners = append(v.Owners, ownerView{Name: ownerName(o), Roles: humanList(o.Roles, roleLabel), Ownership: fmt.Sprintf("%d%%", o.OwnershipPercentage), Status: statusLabel(o.Status)})
	}
	for _, d := range sess.Documents {
		holder := "You"
		if business {
			holder = "The business"
		}
		if o := findOwner(sess.Owners, d.HolderID); o != nil {
			holder = ownerName(o)
		}
		v.Documents = append(v.Documents, docView{Holder: holder, Type: docTypeLabel(d.Type), File: d.FileName})
	}
	for _, req := range requirements {
		v.Needed = append(v.Needed, requirementMessage(sess, req))
	}
	if st != nil {
		v.Errors = append(v.Errors, st.errors...)
	}
	fb := &formBuilder{sess: sess, st: st}
	v.Sections = fb.sections(requirements)
	v.NothingToDo = len(requirements) == 0
	return v, nil
}

// requirementMessage is a verification problem in plain words.
func requirementMessage(sess *grid.KycSession, req grid.VerificationError) string {
	who := ""
	if o := findOwner(sess.Owners, req.ResourceID); o != nil {
		who = ownerName(o) + ": "
	}
	switch req.Type {
	case grid.ProblemMissingField:
		label := fieldLabel(req.Field)
		if req.Field == "identifier" || req.Field == "personalInfo.identifier" {
			label = "Identification number"
		}
		return who + label + " is missing."
	case grid.ProblemMissingIdentityDocument:
		return who + "An identity document (" + humanList(req.AcceptedDocumentTypes, docTypeLabel) + ") is missing."
	}
	return who + sentence(req.Reason)
}

// formBuilder lays out the inputs a session needs.
type formBuilder struct {
	sess *grid.KycSession
	st   *postState
}

// val is the value an input shows: what was posted (unless its group was saved), else the
// default. Write-only inputs never show a value.
func (fb *formBuilder) val(name, def string) string {
	if fb.st == nil || secretInput(name) {
		return def
	}
	for prefix := range fb.st.saved {
		if strings.HasPrefix(name, prefix) || (prefix == "details" && !strings.HasPrefix(name, "doc.") && !strings.HasPrefix(name, "owner.")) {
			return def
		}
	}
	if vs, ok := fb.st.form.values[name]; ok && len(vs) > 0 {
		return strings.TrimSpace(vs[0])
	}
	return def
}

func secretInput(name string) bool {
	return name == "identifier" || name == "owner.identifier" || name == "businessInfo.taxId" || name == "nonce"
}

func (fb *formBuilder) err(name string) string {
	if fb.st == nil {
		return ""
	}
	return fb.st.fieldErrs[name]
}

func (fb *formBuilder) input(kind, name, label, hint string, required bool) inputView {
	return inputView{Kind: kind, Name: name, ID: "f-" + name, Label: label, Hint: hint, Value: fb.val(name, ""), Err: fb.err(name), Required: required}
}

func (fb *formBuilder) text(name, label, hint, autocomplete string, required bool) inputView {
	in := fb.input("text", name, label, hint, required)
	in.Autocomplete = autocomplete
	return in
}

func (fb *formBuilder) date(name, label, hint string, required bool) inputView {
	return fb.input("date", name, label, hint, required)
}

func (fb *formBuilder) selectOf(name, label, hint string, required bool, def string, values []string, labelOf func(string) string) inputView {
	in := fb.input("select", name, label, hint, required)
	cur := fb.val(name, def)
	in.Options = append(in.Options, optionView{Value: "", Label: "Choose…", Selected: cur == ""})
	for _, v := range values {
		in.Options = append(in.Options, optionView{Value: v, Label: labelOf(v), Selected: v == cur})
	}
	return in
}

func (fb *formBuilder) country(name, label, hint string, required bool, def string) inputView {
	in := fb.input("select", name, label, hint, required)
	cur := fb.val(name, def)
	in.Options = append(in.Options, optionView{Value: "", Label: "Choose a country…", Selected: cur == ""})
	for _, c := range refdata.Countries() {
		in.Options = append(in.Options, optionView{Value: c.Code, Label: c.Name, Selected: c.Code == cur})
	}
	return in
}

func (fb *formBuilder) file(name, label string) inputView {
	in := fb.input("file", name, label, fmt.Sprintf("A PDF, JPEG or PNG file of at most %d MiB.", grid.MaxDocumentSize>>20), true)
	in.Value = ""
	return in
}

func (fb *formBuilder) address(prefix, defCountry string) []inputView {
	return []inputView{
		fb.text(prefix+"line1", "Address line 1", "", "address-line1", true),
		fb.text(prefix+"line2", "Address line 2 (optional)", "", "address-line2", false),
		fb.text(prefix+"city", "City", "", "address-level2", false),
		fb.text(prefix+"state", "State or region", "", "address-level1", false),
		fb.text(prefix+"postalCode", "Postal code", "", "postal-code", true),
		fb.country(prefix+"country", "Country", "", true, defCountry),
	}
}

// sections lays out the form for the requirements: the missing details, one document slot
// per missing document, and for a business the new beneficial owner.
func (fb *formBuilder) sections(requirements []grid.VerificationError) []formSection {
	c := fb.sess.Customer
	missing := map[string]bool{}
	for _, f := range grid.KycFillable(c) {
		missing[f] = true
	}
	need := map[string]bool{}
	for _, r := range requirements {
		if r.ResourceID == c.ID && r.Type == grid.ProblemMissingField && missing[r.Field] {
			need[r.Field] = true
		}
	}
	var out []formSection
	homeCountry := c.Profile.Nationality
	if c.Type == grid.Individual {
		var details []inputView
		if need["fullName"] {
			details = append(details, fb.text("fullName", "Full name", "Your given and family names, as on your identity document.", "name", true))
		}
		if need["birthDate"] {
			details = append(details, fb.date("birthDate", "Date of birth", "", true))
		}
		if need["nationality"] {
			details = append(details, fb.country("nationality", "Nationality", "", true, ""))
		}
		if len(details) > 0 {
			out = append(out, formSection{ID: "details", Title: "Your details", Inputs: details})
		}
		if need["identifier"] {
			id := fb.text("identifier", "ID number", "Format 123-45-6789. It is stored encrypted and never shown again.", "off", true)
			out = append(out, formSection{ID: "identification", Title: "Identification", Inputs: []inputView{
				fb.selectOf("idType", "ID type", "", true, c.Profile.IDType, grid.IndividualIDTypes(), idTypeLabel), id,
			}})
		}
		if need["address"] {
			out = append(out, formSection{ID: "address", Title: "Home address", Inputs: fb.address("address.", c.Profile.Nationality)})
		}
	} else {
		b := c.Profile.Business
		if b == nil {
			b = &grid.BusinessInfo{}
		}
		homeCountry = b.Country
		var details []inputView
		if need["businessInfo.legalName"] {
			details = append(details, fb.text("businessInfo.legalName", "Legal name", "The full registered name of the business.", "organization", true))
		}
		if need["businessInfo.country"] {
			details = append(details, fb.country("businessInfo.country", "Country of incorporation", "", true, ""))
		}
		if need["businessInfo.registrationNumber"] {
			details = append(details, fb.text("businessInfo.registrationNumber", "Registration number", "", "off", true))
		}
		if need["businessInfo.incorporatedOn"] {
			details = append(details, fb.date("businessInfo.incorporatedOn", "Date of incorporation", "", true))
		}
		if need["businessInfo.entityType"] {
			details = append(details, fb.selectOf("businessInfo.entityType", "Entity type", "", true, "", grid.EntityTypes(), humanEnum))
		}
		if need["businessInfo.taxId"] {
			details = append(details, fb.text("businessInfo.taxId", "Tax ID", "For a US business, the EIN (12-3456789). It is stored encrypted and never shown again.", "off", true))
		}
		if need["businessInfo.countriesOfOperation"] {
			details = append(details, fb.text("businessInfo.countriesOfOperation", "Countries of operation", "Two-letter country codes separated by commas, for example US, CA.", "off", true))
		}
		if len(details) > 0 {
			out = append(out, formSection{ID: "details", Title: "Business details", Inputs: details})
		}
		if need["address"] {
			out = append(out, formSection{ID: "address", Title: "Business address", Inputs: fb.address("address.", b.Country)})
		}
	}

	// One upload slot per missing document.
	seen := map[string]bool{}
	for _, r := range requirements {
		kind, title, intro := "", "", ""
		holder := r.ResourceID
		switch r.Type {
		case grid.ProblemMissingIdentityDocument:
			kind, title = "identity", "Identity document"
		case grid.ProblemPoorQualityDocument:
			kind, title, intro = "identity", "New identity document", "The identity document on file could not be read. Upload a sharp, complete image of it."
			holder = c.ID
			for _, d := range fb.sess.Documents {
				if d.ID == r.ResourceID {
					holder = d.HolderID
				}
			}
		case grid.ProblemMissingLegalPresence:
			kind, title, intro = "legal", "Company formation document", "A document showing that the business was formed and exists."
		case grid.ProblemMissingOwnershipDocument:
			kind, title, intro = "ownership", "Ownership structure", "A document showing who owns the business."
		case grid.ProblemMissingProofOfAddress:
			kind, title, intro = "address", "Proof of address", "A recent document showing the business's address."
		default:
			continue
		}
		key := slotKey(kind, holder)
		if seen[key] {
			continue
		}
		seen[key] = true
		defCountry := homeCountry
		if o := findOwner(fb.sess.Owners, holder); o != nil {
			title += " of " + ownerName(o)
			defCountry = o.Info.Nationality
		}
		accepted := r.AcceptedDocumentTypes
		if len(accepted) == 0 {
			accepted = grid.IdentityDocumentTypes
		}
		def := ""
		if len(accepted) == 1 {
			def = accepted[0]
		}
		prefix := "doc." + key + "."
		inputs := []inputView{fb.selectOf(prefix+"type", "Document type", "", true, def, accepted, docTypeLabel),
			fb.country(prefix+"country", "Issuing country", "", true, defCountry)}
		if kind == "identity" {
			inputs = append(inputs, fb.text(prefix+"number", "Document number", "", "off", false),
				fb.text(prefix+"authority", "Issuing authority", "For example U.S. Department of State.", "off", false))
		}
		inputs = append(inputs, fb.file(prefix+"file", "File"))
		out = append(out, formSection{ID: "doc-" + kind + "-" + strconv.Itoa(len(out)), Title: title, Intro: intro, Inputs: inputs})
	}

	// A business adds its beneficial owners here, unless its verification is decided at once.
	if c.Type == grid.Business && !fb.sess.DecidedAtSubmit {
		intro := "Add each person who owns 25% or more of the business, and the person who controls it. Use “Save” to add another one."
		if slices.ContainsFunc(requirements, func(r grid.VerificationError) bool { return r.Type == grid.ProblemMissingBeneficialOwner }) {
			intro = "At least one beneficial owner is required. " + intro
		}
		roles := fb.input("checks", "owner.roles", "Roles", "", true)
		var posted []string
		if fb.st != nil && !fb.st.saved["owner."] {
			posted = fb.st.form.values["owner.roles"]
		}
		for _, r := range grid.OwnerRoles() {
			roles.Options = append(roles.Options, optionView{Value: r, Label: roleLabel(r), Selected: slices.Contains(posted, r)})
		}
		pct := fb.input("number", "owner.ownershipPercentage", "Ownership percentage", "A whole number from 0 to 100.", true)
		inputs := []inputView{
			fb.text("owner.firstName", "First name", "", "off", true),
			fb.text("owner.lastName", "Last name", "", "off", true),
			fb.date("owner.birthDate", "Date of birth", "", true),
			fb.country("owner.nationality", "Nationality", "", true, ""),
			roles, pct,
			fb.selectOf("owner.idType", "ID type", "", true, "", ownerIDTypes(), idTypeLabel),
			fb.text("owner.identifier", "ID number", "For an SSN or ITIN the format is 123-45-6789. It is stored encrypted and never shown again.", "off", true),
		}
		inputs = append(inputs, fb.address("owner.address.", homeCountry)...)
		inputs = append(inputs,
			fb.selectOf("owner.doc.type", "Identity document type", "", true, "", grid.IdentityDocumentTypes, docTypeLabel),
			fb.country("owner.doc.country", "Issuing country of the document", "", true, ""),
			fb.text("owner.doc.number", "Document number", "", "off", false),
			fb.text("owner.doc.authority", "Issuing authority", "", "off", false),
			fb.file("owner.doc.file", "Identity document file"))
		out = append(out, formSection{ID: "owner", Title: "Add a beneficial owner", Intro: intro, Inputs: inputs})
	}
	return out
}

// ownerIDTypes are the identification types offered for an owner: a person has no EIN.
func ownerIDTypes() []string {
	return slices.DeleteFunc(grid.OwnerIDTypes(), func(t string) bool { return t == "EIN" })
}

// reviewRows lists the data on file; write-only values only show whether they are on file.
func reviewRows(c *grid.Customer) []reviewRow {
	pr := &c.Profile
	var rows []reviewRow
	add := func(label, value string) {
		rows = append(rows, reviewRow{Label: label, Value: value, Missing: value == ""})
	}
	onFile := func(ok bool) string {
		if ok {
			return "On file (hidden)"
		}
		return ""
	}
	if c.Type == grid.Individual {
		add("Full name", pr.FullName)
		add("Date of birth", pr.BirthDate)
		add("Nationality", countryName(pr.Nationality))
		id := ""
		if pr.HasIdentifier && pr.IDType != "" {
			id = idTypeLabel(pr.IDType) + ": on file (hidden)"
		}
		add("ID number", id)
		add("Address", formatAddress(pr.Address))
		add("Email", pr.Email)
		if pr.PhoneNumber != "" {
			add("Phone", pr.PhoneNumber)
		}
		return rows
	}
	b := pr.Business
	if b == nil {
		b = &grid.BusinessInfo{}
	}
	add("Legal name", b.LegalName)
	if b.DoingBusinessAs != "" {
		add("Doing business as", b.DoingBusinessAs)
	}
	add("Country of incorporation", countryName(b.Country))
	add("Registration number", b.RegistrationNumber)
	add("Date of incorporation", b.IncorporatedOn)
	add("Entity type", humanEnumOrEmpty(b.EntityType))
	add("Tax ID", onFile(b.HasTaxID))
	add("Countries of operation", humanList(b.CountriesOfOperation, countryName))
	add("Address", formatAddress(pr.Address))
	add("Email", pr.Email)
	if pr.PhoneNumber != "" {
		add("Phone", pr.PhoneNumber)
	}
	return rows
}

func formatAddress(a *grid.Address) string {
	if a == nil {
		return ""
	}
	var parts []string
	for _, p := range []string{a.Line1, a.Line2, a.City, strings.TrimSpace(a.State + " " + a.PostalCode), countryName(a.Country)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

func countryName(code string) string {
	if code == "" {
		return ""
	}
	if name, ok := refdata.CountryName(code); ok {
		return name
	}
	return code
}

func humanList(vs []string, label func(string) string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = label(v)
	}
	return strings.Join(out, ", ")
}

// humanEnum turns an enum value into words: S_CORPORATION -> S corporation.
func humanEnum(v string) string {
	switch v {
	case "LLC":
		return "LLC"
	}
	s := strings.ToLower(strings.ReplaceAll(v, "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func humanEnumOrEmpty(v string) string {
	if v == "" {
		return ""
	}
	return humanEnum(v)
}

var docTypeLabels = map[string]string{
	"PASSPORT": "Passport", "DRIVERS_LICENSE": "Driver’s license", "NATIONAL_ID": "National ID card",
	"PROOF_OF_ADDRESS": "Proof of address", "UTILITY_BILL": "Utility bill", "ELECTRICITY_BILL": "Electricity bill",
	"RENT_OR_LEASE_AGREEMENT": "Rent or lease agreement", "BANK_STATEMENT": "Bank statement", "TAX_RETURN": "Tax return",
}

func docTypeLabel(t string) string {
	if l, ok := docTypeLabels[t]; ok {
		return l
	}
	return humanEnum(t)
}

func idTypeLabel(t string) string {
	switch t {
	case "SSN":
		return "Social Security number (SSN)"
	case "ITIN":
		return "Individual Taxpayer Identification Number (ITIN)"
	case "EIN":
		return "Employer Identification Number (EIN)"
	case "NON_US_TAX_ID":
		return "Tax ID from another country"
	}
	return humanEnum(t)
}

func roleLabel(r string) string {
	if r == "UBO" {
		return "Ultimate beneficial owner"
	}
	return humanEnum(r)
}

func statusLabel(s grid.Status) string {
	switch s {
	case grid.StatusUnverified:
		return "Not verified yet"
	case grid.StatusPending:
		return "Under review"
	case grid.StatusApproved:
		return "Verified"
	case grid.StatusRejected:
		return "Not verified"
	case grid.StatusHold:
		return "On hold"
	}
	return string(s)
}

// doneView is the final page of a submission that went through.
func doneView(sess *grid.KycSession, v *grid.Verification) *hostedView {
	out := &hostedView{Title: "Verification submitted", Platform: sess.Platform.Name, Status: v.Status, RedirectURI: sess.Link.RedirectURI}
	switch v.Status {
	case grid.VerificationApproved:
		out.Heading, out.StatusLabel = "You are verified", "Approved"
		out.Message = "Your verification is complete. You can return to the service that sent you here."
	case grid.VerificationRejected:
		out.Heading, out.StatusLabel = "We could not verify the information", "Not approved"
		out.Message = "The service that sent you here will contact you about the next steps."
	case grid.VerificationPendingReview:
		out.Heading, out.StatusLabel = "Thank you, your information was submitted", "Under review"
		out.Message = "It is now being reviewed. The service that sent you here will let you know the outcome."
	default:
		out.Heading, out.StatusLabel = "Thank you, your information was submitted", humanEnum(v.Status)
		out.Message = "The service that sent you here will let you know the outcome."
	}
	return out
}
