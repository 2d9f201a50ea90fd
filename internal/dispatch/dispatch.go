// Package dispatch calls the methods of bound services by name, with the
// rules of Wails bindings: JSON arguments in order, and a result, an error,
// or both. The dev bridge serves it over HTTP; the contract generator and
// the guard tests list its methods. Method names are unique across all
// services, so the UI calls a method without naming its service.
package dispatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
)

// Method is one bound method.
type Method struct {
	Service string // the service's type name, as Wails binds it
	Name    string
	Type    reflect.Type // without the receiver
	fn      reflect.Value
}

// Table is the methods of a set of services.
type Table struct {
	methods map[string]Method
}

// ErrNoMethod: no bound service has the method.
var ErrNoMethod = errors.New("dispatch: no such method")

var errorType = reflect.TypeFor[error]()

// New lists the exported methods of services (pointers to structs). Two
// services with a method of the same name are a programming error.
func New(services ...any) (*Table, error) {
	t := &Table{methods: map[string]Method{}}
	for _, s := range services {
		v := reflect.ValueOf(s)
		svc := reflect.Indirect(v).Type().Name()
		for i := range v.NumMethod() {
			m := v.Type().Method(i)
			if prev, ok := t.methods[m.Name]; ok {
				return nil, fmt.Errorf("dispatch: %s.%s and %s.%s: method names must be unique", prev.Service, m.Name, svc, m.Name)
			}
			t.methods[m.Name] = Method{Service: svc, Name: m.Name, Type: v.Method(i).Type(), fn: v.Method(i)}
		}
	}
	return t, nil
}

// Methods in name order.
func (t *Table) Methods() []Method {
	out := make([]Method, 0, len(t.methods))
	for _, m := range t.methods {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup finds a method.
func (t *Table) Lookup(name string) (Method, bool) {
	m, ok := t.methods[name]
	return m, ok
}

// Call runs a method with its arguments as a JSON array. The method's own
// error is returned as is; a bad argument list wraps ErrBadArgs.
func (t *Table) Call(name string, body []byte) (any, error) {
	m, ok := t.methods[name]
	if !ok {
		return nil, ErrNoMethod
	}
	args, err := decodeArgs(m.Type, body)
	if err != nil {
		return nil, err
	}
	return m.call(args)
}

// CallZero runs a method with the zero value of every argument: what the
// guard tests send to check that a method refuses without permission.
func (m Method) CallZero() (any, error) {
	args := make([]reflect.Value, m.Type.NumIn())
	for i := range args {
		args[i] = reflect.Zero(m.Type.In(i))
	}
	return m.call(args)
}

func (m Method) call(args []reflect.Value) (any, error) {
	var result any
	for _, v := range m.fn.Call(args) {
		if v.Type() == errorType {
			if !v.IsNil() {
				return nil, v.Interface().(error)
			}
			continue
		}
		result = v.Interface()
	}
	return result, nil
}

// ErrBadArgs: the arguments are not a JSON array of the method's types.
var ErrBadArgs = errors.New("dispatch: bad arguments")

func decodeArgs(mt reflect.Type, body []byte) ([]reflect.Value, error) {
	var raw []json.RawMessage
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, fmt.Errorf("%w: not a JSON array: %w", ErrBadArgs, err)
		}
	}
	want := mt.NumIn()
	if len(raw) != want {
		return nil, fmt.Errorf("%w: want %d arguments, got %d", ErrBadArgs, want, len(raw))
	}
	args := make([]reflect.Value, want)
	for i := range want {
		p := reflect.New(mt.In(i))
		if err := json.Unmarshal(raw[i], p.Interface()); err != nil {
			return nil, fmt.Errorf("%w: argument %d: %w", ErrBadArgs, i+1, err)
		}
		args[i] = p.Elem()
	}
	return args, nil
}
