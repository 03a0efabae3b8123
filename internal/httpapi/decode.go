package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/gridd/gridd/internal/grid"
)

// maxBodyBytes bounds a JSON request body.
const maxBodyBytes = 1 << 20

// readBody reads a request body up to limit bytes, answering 413 beyond it.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, &grid.Error{Status: 413, Code: grid.CodePayloadTooLarge, Message: fmt.Sprintf("the request body is larger than %d bytes", limit)}
	}
	if err != nil {
		return nil, grid.Errorf(400, grid.CodeInvalidInput, "the request body could not be read")
	}
	return body, nil
}

// decodeJSON reads a JSON object into dst strictly: the content type must be JSON, unknown
// fields and values of the wrong type are reported together, one field error each, before
// anything is decoded.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &grid.Error{Status: 415, Code: grid.CodeUnsupportedMediaType, Message: "the request body must be application/json"}
		}
	} else if r.ContentLength != 0 {
		return nil, &grid.Error{Status: 415, Code: grid.CodeUnsupportedMediaType, Message: "the Content-Type header must be application/json"}
	}
	body, err := readBody(w, r, maxBodyBytes)
	if err != nil {
		return nil, err
	}
	return body, decodeBytes(body, dst)
}

// decodeBytes decodes a JSON object held in memory into dst, with decodeJSON's strictness.
func decodeBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return grid.InvalidInput(grid.FieldError{Field: "body", Message: "a JSON object is required"})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return malformed(err)
	}
	if dec.More() {
		return grid.InvalidInput(grid.FieldError{Field: "body", Message: "malformed JSON: unexpected data after the object"})
	}
	if _, ok := raw.(map[string]any); !ok {
		return grid.InvalidInput(grid.FieldError{Field: "body", Message: "must be a JSON object"})
	}
	var fe grid.FieldErrors
	checkShape(&fe, reflect.TypeOf(dst).Elem(), raw, "")
	if len(fe) > 0 {
		return fe.Err()
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return grid.InvalidInput(grid.FieldError{Field: "body", Message: "could not be decoded: " + err.Error()})
	}
	return nil
}

func malformed(err error) error {
	var se *json.SyntaxError
	msg := "malformed JSON"
	if errors.As(err, &se) {
		msg = fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error())
	} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		msg = "malformed JSON: the body ends too early"
	}
	return grid.InvalidInput(grid.FieldError{Field: "body", Message: msg})
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

// checkShape compares a decoded JSON value with the Go type it will be decoded into and
// records unknown fields and type mismatches by dot path.
func checkShape(fe *grid.FieldErrors, t reflect.Type, v any, path string) {
	if t == rawMessageType {
		return
	}
	if t.Kind() == reflect.Pointer {
		if v == nil {
			return
		}
		t = t.Elem()
	}
	if v == nil {
		// null for a non-pointer field: the value cannot be absent.
		fe.Add(nonEmpty(path), "must not be null")
		return
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			fe.Add(nonEmpty(path), "must be a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			fe.Add(nonEmpty(path), "must be a boolean")
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			fe.Add(nonEmpty(path), "must be an integer")
		} else if _, err := n.Int64(); err != nil {
			fe.Add(nonEmpty(path), "must be an integer")
		}
	case reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			fe.Add(nonEmpty(path), "must be a number")
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			fe.Add(nonEmpty(path), "must be an array")
			return
		}
		for i, el := range arr {
			checkShape(fe, t.Elem(), el, fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if _, ok := v.(map[string]any); !ok {
			fe.Add(nonEmpty(path), "must be an object")
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			fe.Add(nonEmpty(path), "must be an object")
			return
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			ft, ok := fields[k]
			if !ok {
				fe.Add(sub, "is not a known field")
				continue
			}
			checkShape(fe, ft, obj[k], sub)
		}
	}
}

func nonEmpty(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// fieldCache holds jsonFields' answer per struct type (reflect.Type to map[string]reflect.Type):
// a request type's fields never change, and working them out is most of checkShape's cost.
var fieldCache sync.Map

// jsonFields maps the JSON names of a struct's fields to their types. The map is shared:
// callers must not change it.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m, _ := fieldCache.LoadOrStore(t, structFields(t))
	return m.(map[string]reflect.Type)
}

func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
