package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gridd/gridd/internal/grid"
)

// maxDocumentRequestBytes bounds a document upload request: the file and its form fields.
const maxDocumentRequestBytes = grid.MaxDocumentSize + 1<<20

// maxFormValueBytes bounds one text field of a document form.
const maxFormValueBytes = 1 << 10

type documentJSON struct {
	ID               string `json:"id"`
	DocumentHolder   string `json:"documentHolder"`
	DocumentType     string `json:"documentType"`
	Side             string `json:"side,omitempty"`
	Country          string `json:"country"`
	DocumentNumber   string `json:"documentNumber,omitempty"`
	IssuingAuthority string `json:"issuingAuthority,omitempty"`
	FileName         string `json:"fileName"`
	CreatedAt        string `json:"createdAt"`
	UpdatedAt        string `json:"updatedAt"`
}

type documentListJSON struct {
	Data       []*documentJSON `json:"data"`
	HasMore    bool            `json:"hasMore"`
	NextCursor string          `json:"nextCursor,omitempty"`
	TotalCount int             `json:"totalCount"`
}

// toDocumentJSON is a document's description; its file is never part of a response.
func toDocumentJSON(d *grid.Document) *documentJSON {
	return &documentJSON{
		ID: d.ID, DocumentHolder: d.HolderID, DocumentType: d.Type, Side: d.Side, Country: d.Country,
		DocumentNumber: d.Number, IssuingAuthority: d.IssuingAuthority, FileName: d.FileName,
		CreatedAt: timestamp(d.CreatedAt), UpdatedAt: timestamp(d.UpdatedAt),
	}
}

// decodeDocumentForm reads a multipart/form-data document request as a stream: every text
// field at most maxFormValueBytes, the file at most grid.MaxDocumentSize (413 beyond). Unknown
// and repeated fields are reported together; an empty text field counts as not sent.
func decodeDocumentForm(w http.ResponseWriter, r *http.Request) (*grid.DocumentInput, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, &grid.Error{Status: 415, Code: grid.CodeUnsupportedMediaType, Message: "the request body must be multipart/form-data with a boundary"}
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, maxDocumentRequestBytes), params["boundary"])
	in := &grid.DocumentInput{}
	text := map[string]**string{
		"documentHolder": &in.HolderID, "documentType": &in.Type, "side": &in.Side, "country": &in.Country,
		"documentNumber": &in.Number, "issuingAuthority": &in.IssuingAuthority,
	}
	var fe grid.FieldErrors
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, formError(err)
		}
		name := part.FormName()
		switch {
		case name == "":
			part.Close()
			continue
		case seen[name]:
			fe.Add(name, "must be sent once")
		case name == "file":
			data, err := io.ReadAll(io.LimitReader(part, grid.MaxDocumentSize+1))
			if err != nil {
				return nil, formError(err)
			}
			if len(data) > grid.MaxDocumentSize {
				return nil, &grid.Error{Status: 413, Code: grid.CodePayloadTooLarge,
					Message: fmt.Sprintf("the document file is larger than %d bytes (10 MiB)", grid.MaxDocumentSize),
					Fields:  []grid.FieldError{{Field: "file", Message: "must be at most 10 MiB"}}}
			}
			in.File = &grid.DocumentFile{Name: part.FileName(), DeclaredType: part.Header.Get("Content-Type"), Data: data}
		case text[name] != nil:
			raw, err := io.ReadAll(io.LimitReader(part, maxFormValueBytes+1))
			if err != nil {
				return nil, formError(err)
			}
			if len(raw) > maxFormValueBytes {
				fe.Add(name, "must be at most %d bytes", maxFormValueBytes)
			} else if v := strings.TrimSpace(string(raw)); v != "" {
				*text[name] = &v
			}
		default:
			fe.Add(name, "is not a known field")
		}
		seen[name] = true
		part.Close()
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return in, nil
}

// formError turns a failure to read a multipart body into the API's error.
func formError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &grid.Error{Status: 413, Code: grid.CodePayloadTooLarge, Message: fmt.Sprintf("the request body is larger than %d bytes", int64(maxDocumentRequestBytes))}
	}
	return grid.InvalidInput(grid.FieldError{Field: "body", Message: "malformed multipart/form-data: " + err.Error()})
}

func (a *API) uploadDocument(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	in, err := decodeDocumentForm(w, r)
	if err != nil {
		return err
	}
	d, err := a.svc.UploadDocument(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toDocumentJSON(d))
	return nil
}

func (a *API) replaceDocument(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	in, err := decodeDocumentForm(w, r)
	if err != nil {
		return err
	}
	d, err := a.svc.ReplaceDocument(r.Context(), p, r.PathValue("documentId"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDocumentJSON(d))
	return nil
}

func (a *API) getDocument(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	d, err := a.svc.GetDocument(r.Context(), p, r.PathValue("documentId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDocumentJSON(d))
	return nil
}

func (a *API) listDocuments(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermView); err != nil {
		return err
	}
	lq := listQuery{q: r.URL.Query()}
	f := grid.DocumentFilter{HolderID: lq.q.Get("documentHolder"), AfterID: lq.cursor(), Limit: lq.limit()}
	if err := lq.fe.Err(); err != nil {
		return err
	}
	page, err := a.svc.ListDocuments(r.Context(), p, f)
	if err != nil {
		return err
	}
	out := documentListJSON{Data: make([]*documentJSON, len(page.Documents)), HasMore: page.HasMore, TotalCount: page.TotalCount}
	for i, d := range page.Documents {
		out.Data[i] = toDocumentJSON(d)
	}
	if page.HasMore {
		out.NextCursor = encodeCursor(page.Documents[len(page.Documents)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) deleteDocument(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := a.svc.DeleteDocument(r.Context(), p, r.PathValue("documentId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
