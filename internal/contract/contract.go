// Package contract writes the UI contract, frontend/src/api/contract.gen.ts,
// from the Go side: every bound method (a dispatch.Table) with its argument
// and result types, the service that has it and the permission it needs,
// the message codes the UI must translate, and the backend's events with
// their payloads. The TypeScript types follow encoding/json exactly (json
// tags, omitempty, embedded structs, pointers), because JSON is what the
// Wails bridge and the dev bridge carry.
//
// The file also carries "shapes": where a result holds slices and maps, so
// the one call() can turn the null that Go marshals for a nil slice or map
// into [] or {} and the types can say T[] rather than T[] | null.
package contract

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"tsunagu/internal/dispatch"
)

// Spec is what the contract is generated from.
type Spec struct {
	Methods *dispatch.Table
	// Permissions is the permission each guarded method needs; Public the
	// methods callable without signing in. Every method is in exactly one.
	Permissions map[string]string
	Public      map[string]bool
	// PrimaryOnly are the methods only a primary's window may run: a seat
	// (子機) is refused them, and its screen hides what calls them
	// (methodInfo's primaryOnly).
	PrimaryOnly []string
	// Codes are the message codes the UI must translate (msgcode.Codes).
	Codes []string
	// Events are the backend's UI events.
	Events []Event
	// Enums narrow named string types to their values (auth.Role to
	// 'admin' | 'approver' | ...). Values should come from the Go side's
	// own list where it has one, so they cannot drift.
	Enums []Enum
	// Home is the package path whose types keep their Go name when another
	// package has a type of the same name (the bound services' package).
	Home string
	// Extra are types the UI reads outside any result or event: the wrong
	// fields a rejection carries (fielderr.FieldError).
	Extra []reflect.Type
	// Overrides give the TypeScript type of a type with its own JSON
	// encoding (a json.Marshaler): the generator cannot see what it writes.
	Overrides map[reflect.Type]string
}

// Event is one backend event: its name and its payload's type (nil: none).
type Event struct {
	Name    string
	Payload reflect.Type
}

// Enum is a named string type and its values.
type Enum struct {
	Type   reflect.Type
	Values []string
}

// ErrUnsupported: a type that has no JSON form the UI could read (a
// channel, a func) or a json.Marshaler without an override.
var ErrUnsupported = errors.New("contract: unsupported type")

var (
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	errorType     = reflect.TypeFor[error]()
	rawType       = reflect.TypeFor[json.RawMessage]()
)

// gen holds one run's state.
type gen struct {
	spec  Spec
	enums map[reflect.Type][]string
	// named are the named struct and enum types met, and their TS names once
	// resolved (resolveNames).
	named map[reflect.Type]string
	order []reflect.Type // in the order met, for error messages only
	err   error
}

// Generate returns the contents of contract.gen.ts. The output depends only
// on the spec: types, methods and events are written in name order.
func Generate(spec Spec) ([]byte, error) {
	if spec.Methods == nil {
		return nil, errors.New("contract: no methods")
	}
	g := &gen{spec: spec, enums: map[reflect.Type][]string{}, named: map[reflect.Type]string{}}
	for _, e := range spec.Enums {
		if e.Type.Kind() != reflect.String || e.Type.Name() == "" {
			return nil, fmt.Errorf("%w: enum %v is not a named string type", ErrUnsupported, e.Type)
		}
		if len(e.Values) == 0 {
			return nil, fmt.Errorf("contract: enum %v has no values", e.Type)
		}
		g.enums[e.Type] = e.Values
	}
	methods := spec.Methods.Methods()
	if err := checkPermissions(methods, spec); err != nil {
		return nil, err
	}

	// First pass: meet every named type reachable from the methods and
	// events, so that names can be resolved before anything is written.
	for _, m := range methods {
		for i := range m.Type.NumIn() {
			g.visit(m.Type.In(i), map[reflect.Type]bool{})
		}
		if r := result(m.Type); r != nil {
			g.visit(r, map[reflect.Type]bool{})
		}
	}
	for _, e := range spec.Events {
		if e.Payload != nil {
			g.visit(e.Payload, map[reflect.Type]bool{})
		}
	}
	for _, t := range spec.Extra {
		g.visit(t, map[reflect.Type]bool{})
	}
	if g.err != nil {
		return nil, g.err
	}
	if err := g.resolveNames(); err != nil {
		return nil, err
	}
	return g.write(methods)
}

func checkPermissions(methods []dispatch.Method, spec Spec) error {
	var errs []error
	for _, m := range methods {
		_, guarded := spec.Permissions[m.Name]
		switch {
		case guarded && spec.Public[m.Name]:
			errs = append(errs, fmt.Errorf("contract: %s is both public and guarded", m.Name))
		case !guarded && !spec.Public[m.Name]:
			errs = append(errs, fmt.Errorf("contract: %s.%s has no permission", m.Service, m.Name))
		}
		if n := m.Type.NumOut(); n > 2 || (n == 2 && m.Type.Out(1) != errorType) {
			errs = append(errs, fmt.Errorf("%w: %s returns %v (want a result, an error, or both)", ErrUnsupported, m.Name, m.Type))
		}
	}
	for _, name := range spec.PrimaryOnly {
		if !slices.ContainsFunc(methods, func(m dispatch.Method) bool { return m.Name == name }) {
			errs = append(errs, fmt.Errorf("contract: primary-only %s is not a bound method", name))
		}
	}
	return errors.Join(errs...)
}

// result is a method's result type, nil when it has none.
func result(mt reflect.Type) reflect.Type {
	for i := range mt.NumOut() {
		if mt.Out(i) != errorType {
			return mt.Out(i)
		}
	}
	return nil
}

func (g *gen) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// special reports a type with its own JSON form, and the TS type of it.
func (g *gen) special(t reflect.Type) (string, bool) {
	if ts, ok := g.spec.Overrides[t]; ok {
		return ts, true
	}
	switch t {
	case timeType:
		return "string", true
	case rawType:
		return "unknown", true
	}
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
		g.fail(fmt.Errorf("%w: %v has its own MarshalJSON: give it an override", ErrUnsupported, t))
		return "unknown", true
	}
	if t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		return "string", true
	}
	return "", false
}

// visit records the named types reachable from t.
func (g *gen) visit(t reflect.Type, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	if _, ok := g.special(t); ok {
		return
	}
	if _, ok := g.enums[t]; ok {
		g.meet(t)
		return
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		g.visit(t.Elem(), seen)
	case reflect.Map:
		if !keyOK(t.Key()) {
			g.fail(fmt.Errorf("%w: map key %v", ErrUnsupported, t.Key()))
		}
		g.visit(t.Elem(), seen)
	case reflect.Struct:
		if t.Name() != "" {
			g.meet(t)
		}
		for _, f := range fields(t) {
			g.visit(f.typ, seen)
		}
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		g.fail(fmt.Errorf("%w: %v", ErrUnsupported, t))
	}
}

func keyOK(k reflect.Type) bool {
	switch k.Kind() {
	case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return k.Implements(textMarshaler) || reflect.PointerTo(k).Implements(textMarshaler)
}

func (g *gen) meet(t reflect.Type) {
	if _, ok := g.named[t]; !ok {
		g.named[t] = ""
		g.order = append(g.order, t)
	}
}

// baseName is a type's Go name as a TS identifier; an instantiated generic
// type Page[inbox.Conversation] becomes PageConversation.
func baseName(t reflect.Type) string {
	name := t.Name()
	i := strings.IndexByte(name, '[')
	if i < 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name[:i])
	for _, arg := range strings.FieldsFunc(name[i:], func(r rune) bool { return strings.ContainsRune("[],", r) }) {
		arg = arg[strings.LastIndexByte(arg, '.')+1:]
		for _, r := range arg {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// qualified is a type's name with the last n elements of its package path
// in front, capitalized: n=1 makes survey.ImportIssue SurveyImportIssue.
func qualified(t reflect.Type, n int) string {
	parts := strings.Split(t.PkgPath(), "/")
	if n > len(parts) {
		return ""
	}
	var b strings.Builder
	for _, p := range parts[len(parts)-n:] {
		for _, w := range strings.FieldsFunc(p, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String() + baseName(t)
}

// resolveNames gives every named type its TS name: the Go name with its
// package's name in front (customer.Card is CustomerCard, segment.Node
// SegmentNode), so names say where they come from and never shadow the
// DOM's (Node); a Go name that already starts with its package's name
// (customer.Customer, customer.CustomerFilters) and the types of the
// home package (the bound services') keep their Go name. Where two types
// still get one name, the others take more of their package path. The
// names depend on the set of types only, not on the order they were met in.
func (g *gen) resolveNames() error {
	level := map[reflect.Type]int{}
	for t := range g.named {
		pkg := t.PkgPath()[strings.LastIndexByte(t.PkgPath(), '/')+1:]
		if t.PkgPath() != g.spec.Home && !strings.HasPrefix(strings.ToLower(baseName(t)), strings.ToLower(pkg)) {
			level[t] = 1
		}
	}
	for {
		byName := map[string][]reflect.Type{}
		for t := range g.named {
			name := qualified(t, level[t])
			if name == "" {
				return fmt.Errorf("contract: no unique TS name for %v", t)
			}
			byName[name] = append(byName[name], t)
		}
		clash := false
		for _, ts := range byName {
			if len(ts) < 2 {
				continue
			}
			home := 0
			for _, t := range ts {
				if t.PkgPath() == g.spec.Home && level[t] == 0 {
					home++
				}
			}
			for _, t := range ts {
				// A home type keeps its name against types of other
				// packages (there can be only one of that name at home).
				if home == 1 && t.PkgPath() == g.spec.Home && level[t] == 0 {
					continue
				}
				clash = true
				level[t]++
			}
		}
		if clash {
			continue
		}
		for name, ts := range byName {
			if reserved[name] {
				return fmt.Errorf("contract: the type name %s (%v) is taken by the contract itself", name, ts[0])
			}
			g.named[ts[0]] = name
		}
		return nil
	}
}

// reserved are the names the contract itself declares.
var reserved = map[string]bool{
	"Methods": true, "MethodName": true, "ServiceName": true, "Permission": true, "ErrorCode": true,
	"Events": true, "EventName": true, "Shape": true, "MethodInfo": true,
}

// field is one JSON object member of a struct, found as encoding/json does.
type field struct {
	name      string
	typ       reflect.Type
	index     []int
	tagged    bool
	omitEmpty bool
	quoted    bool
}

// fields lists the JSON members of struct t in the order encoding/json
// writes them: embedded structs without a tag are flattened, a shallower
// field hides a deeper one of the same name, and same-depth conflicts
// without a single tagged winner drop the name (encoding/json's
// typeFields, without its caches).
func fields(t reflect.Type) []field {
	type walk struct {
		typ   reflect.Type
		index []int
	}
	current, next := []walk{}, []walk{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	var out []field
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, w := range current {
			if visited[w.typ] {
				continue
			}
			visited[w.typ] = true
			for i := range w.typ.NumField() {
				sf := w.typ.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				index := append(slices.Clone(w.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := field{name: name, typ: sf.Type, index: index, tagged: name != ""}
					if f.name == "" {
						f.name = sf.Name
					}
					for _, o := range strings.Split(opts, ",") {
						switch o {
						case "omitempty", "omitzero":
							f.omitEmpty = true
						case "string":
							switch ft.Kind() {
							case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
								reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
								reflect.Float32, reflect.Float64, reflect.String:
								f.quoted = true
							}
						}
					}
					out = append(out, f)
					if count[w.typ] > 1 {
						// Two embeddings of the same struct at one depth:
						// a duplicate makes its names conflict below.
						out = append(out, out[len(out)-1])
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, walk{typ: ft, index: index})
				}
			}
		}
	}

	sort.SliceStable(out, func(i, j int) bool {
		x := out
		if x[i].name != x[j].name {
			return x[i].name < x[j].name
		}
		if len(x[i].index) != len(x[j].index) {
			return len(x[i].index) < len(x[j].index)
		}
		if x[i].tagged != x[j].tagged {
			return x[i].tagged
		}
		return slices.Compare(x[i].index, x[j].index) < 0
	})
	var kept []field
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && out[j].name == out[i].name {
			j++
		}
		group := out[i:j]
		if len(group) == 1 || len(group[0].index) < len(group[1].index) || (group[0].tagged && !group[1].tagged) {
			kept = append(kept, group[0])
		}
		i = j
	}
	sort.Slice(kept, func(i, j int) bool { return slices.Compare(kept[i].index, kept[j].index) < 0 })
	return kept
}

// validTag is encoding/json's rule for a usable name in a json tag.
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// ts is the TypeScript type of t.
func (g *gen) ts(t reflect.Type) string {
	if s, ok := g.special(t); ok {
		return s
	}
	if _, ok := g.enums[t]; ok {
		return g.named[t]
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Interface:
		return "unknown"
	case reflect.Pointer:
		return g.ts(t.Elem()) + " | null"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if _, ok := g.special(t.Elem()); !ok {
				return "string" // base64, as encoding/json writes []byte
			}
		}
		return array(g.ts(t.Elem()))
	case reflect.Array:
		return array(g.ts(t.Elem()))
	case reflect.Map:
		return "Record<string, " + g.ts(t.Elem()) + ">"
	case reflect.Struct:
		if t.Name() != "" {
			return g.named[t]
		}
		return g.inline(t)
	}
	g.fail(fmt.Errorf("%w: %v", ErrUnsupported, t))
	return "unknown"
}

func array(elem string) string {
	if strings.Contains(elem, " ") && !strings.HasPrefix(elem, "{") && !strings.HasPrefix(elem, "Record<") {
		return "(" + elem + ")[]"
	}
	return elem + "[]"
}

// members are the TS members of struct t.
func (g *gen) members(t reflect.Type) []string {
	var out []string
	for _, f := range fields(t) {
		typ := g.ts(f.typ)
		if f.quoted {
			typ = "string"
		}
		opt := ""
		if f.omitEmpty {
			opt = "?"
			// An omitted nil pointer is never null on the wire.
			typ = strings.TrimSuffix(typ, " | null")
		}
		out = append(out, propName(f.name)+opt+": "+typ)
	}
	return out
}

// object is the body of a named struct's interface.
func (g *gen) object(t reflect.Type) string {
	ms := g.members(t)
	if len(ms) == 0 {
		return "{}"
	}
	return "{\n  " + strings.Join(ms, "\n  ") + "\n}"
}

// inline is an anonymous struct's type, on one line.
func (g *gen) inline(t reflect.Type) string {
	ms := g.members(t)
	if len(ms) == 0 {
		return "Record<string, never>"
	}
	return "{ " + strings.Join(ms, "; ") + " }"
}

// propName quotes a member name that is not a plain identifier.
func propName(s string) string {
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || r == '$' || (i > 0 && unicode.IsDigit(r))) {
			return sq(s)
		}
	}
	return s
}

// shapes: where a value holds slices or maps that Go may marshal as null.

// needs says, for each named struct, whether a value of it holds a slice
// or map somewhere (computed to a fixed point: types can be recursive).
func (g *gen) needs() map[reflect.Type]bool {
	need := map[reflect.Type]bool{}
	for changed := true; changed; {
		changed = false
		for t := range g.named {
			if t.Kind() != reflect.Struct || need[t] {
				continue
			}
			for _, f := range fields(t) {
				if g.shape(f.typ, need) != "" {
					need[t], changed = true, true
					break
				}
			}
		}
	}
	return need
}

// shape is the normalisation shape of t as a TS literal, "" for nothing to
// normalise.
func (g *gen) shape(t reflect.Type, need map[reflect.Type]bool) string {
	if _, ok := g.special(t); ok {
		return ""
	}
	if _, ok := g.enums[t]; ok {
		return ""
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := g.shape(t.Elem(), need)
		if inner == "" || t.Elem().Kind() == reflect.Struct {
			return inner // a struct's shape already lets null through
		}
		return "{ p: " + inner + " }"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return ""
		}
		return "{ l: " + or0(g.shape(t.Elem(), need)) + " }"
	case reflect.Map:
		return "{ m: " + or0(g.shape(t.Elem(), need)) + " }"
	case reflect.Array:
		if inner := g.shape(t.Elem(), need); inner != "" {
			return "{ l: " + inner + " }"
		}
	case reflect.Struct:
		if t.Name() != "" {
			if need[t] {
				return sq(g.named[t])
			}
			return ""
		}
		var parts []string
		for _, f := range fields(t) {
			if s := g.shape(f.typ, need); s != "" && !f.quoted {
				parts = append(parts, propName(f.name)+": "+s)
			}
		}
		if len(parts) > 0 {
			return "{ o: { " + strings.Join(parts, ", ") + " } }"
		}
	}
	return ""
}

func or0(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

const header = `// Code generated by internal/contract from the Go side; DO NOT EDIT.
// Regenerate with ` + "`make contract`" + ` (TestContractUpToDate in app/facade fails while
// this file differs from what the bound services declare).
//
// JSON as encoding/json writes it: omitempty members are optional, pointers
// may be null, []byte is base64, time.Time an RFC 3339 string.
`

func (g *gen) write(methods []dispatch.Method) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	need := g.needs()

	// Types, by TS name.
	types := make([]reflect.Type, 0, len(g.named))
	for t := range g.named {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return g.named[types[i]] < g.named[types[j]] })

	var enums []reflect.Type
	for _, t := range types {
		if _, ok := g.enums[t]; ok {
			enums = append(enums, t)
		}
	}
	if len(enums) > 0 {
		b.WriteString("\n// The values of named string types the Go side lists.\nexport const enums = {\n")
		for _, t := range enums {
			fmt.Fprintf(&b, "  %s: [%s],\n", g.named[t], quoteAll(g.enums[t]))
		}
		b.WriteString("} as const\n")
		for _, t := range enums {
			fmt.Fprintf(&b, "\n/** %s */\nexport type %s = (typeof enums.%s)[number]\n", t, g.named[t], g.named[t])
		}
	}
	for _, t := range types {
		if t.Kind() != reflect.Struct {
			continue
		}
		fmt.Fprintf(&b, "\n/** %s */\nexport interface %s %s\n", t, g.named[t], g.object(t))
	}

	// Methods.
	services := map[string]bool{}
	perms := map[string]bool{}
	b.WriteString("\n/** Every bound method: arguments in order, and what its promise resolves to. */\nexport interface Methods {\n")
	for _, m := range methods {
		services[m.Service] = true
		args := make([]string, m.Type.NumIn())
		for i := range args {
			args[i] = fmt.Sprintf("arg%d: %s", i+1, g.ts(m.Type.In(i)))
		}
		res := "void"
		if r := result(m.Type); r != nil {
			res = g.ts(r)
		}
		fmt.Fprintf(&b, "  %s(%s): %s\n", m.Name, strings.Join(args, ", "), res)
	}
	b.WriteString("}\n\nexport type MethodName = keyof Methods\n")
	for _, p := range g.spec.Permissions {
		perms[p] = true
	}
	fmt.Fprintf(&b, "\n/** The bound services (app/facade/services.go), as Wails binds them. */\nexport type ServiceName = %s\n", union(keys(services)))
	fmt.Fprintf(&b, "\n/** The permissions bound methods need (internal/auth). */\nexport type Permission = %s\n", union(keys(perms)))
	b.WriteString(`
/**
 * Where a value holds slices and maps: a struct type's name (see shapes), a
 * list (l), a map (m), a pointer (p) or an anonymous struct (o); 0 for an
 * element with nothing inside to normalise.
 */
export type Shape = string | { l: Shape | 0 } | { m: Shape | 0 } | { p: Shape } | { o: Record<string, Shape> }

export interface MethodInfo {
  /** The bound service that has the method. */
  service: ServiceName
  /** The permission the method needs; null: callable signed out. */
  permission: Permission | null
  /** The result's shape, when it holds slices or maps. */
  result?: Shape
  /** Only a primary's window runs it: a seat (子機) hides what calls it. */
  primaryOnly?: true
}

`)
	b.WriteString("export const methodInfo: { readonly [M in MethodName]: MethodInfo } = {\n")
	for _, m := range methods {
		perm := "null"
		if p, ok := g.spec.Permissions[m.Name]; ok {
			perm = sq(p)
		}
		sh := ""
		if r := result(m.Type); r != nil {
			if s := g.shape(r, need); s != "" {
				sh = ", result: " + s
			}
		}
		if slices.Contains(g.spec.PrimaryOnly, m.Name) {
			sh += ", primaryOnly: true"
		}
		fmt.Fprintf(&b, "  %s: { service: %s, permission: %s%s },\n", m.Name, sq(m.Service), perm, sh)
	}
	b.WriteString("}\n")

	// Struct shapes.
	b.WriteString("\n/** The members of each struct type that hold slices or maps. */\nexport const shapes: { readonly [type: string]: { readonly [member: string]: Shape } } = {\n")
	for _, t := range types {
		if !need[t] {
			continue
		}
		var parts []string
		for _, f := range fields(t) {
			if s := g.shape(f.typ, need); s != "" && !f.quoted {
				parts = append(parts, propName(f.name)+": "+s)
			}
		}
		fmt.Fprintf(&b, "  %s: { %s },\n", g.named[t], strings.Join(parts, ", "))
	}
	b.WriteString("}\n")

	// Codes.
	codes := slices.Clone(g.spec.Codes)
	sort.Strings(codes)
	codes = slices.Compact(codes)
	b.WriteString("\n/** Every message code a bound method can reject with (internal/msgcode). */\nexport const errorCodes = [\n")
	for _, c := range codes {
		fmt.Fprintf(&b, "  %s,\n", sq(c))
	}
	b.WriteString("] as const\n\nexport type ErrorCode = (typeof errorCodes)[number]\n")

	// Events.
	events := slices.Clone(g.spec.Events)
	sort.Slice(events, func(i, j int) bool { return events[i].Name < events[j].Name })
	b.WriteString("\n/** The backend's events and their payloads. */\nexport interface Events {\n")
	for _, e := range events {
		p := "null"
		if e.Payload != nil {
			p = g.ts(e.Payload)
		}
		fmt.Fprintf(&b, "  %s: %s\n", sq(e.Name), p)
	}
	b.WriteString("}\n\nexport type EventName = keyof Events\n")
	b.WriteString("\n/** The payload shape of each event that holds slices or maps. */\nexport const eventShapes: { readonly [E in EventName]?: Shape } = {\n")
	for _, e := range events {
		if e.Payload == nil {
			continue
		}
		if s := g.shape(e.Payload, need); s != "" {
			fmt.Fprintf(&b, "  %s: %s,\n", sq(e.Name), s)
		}
	}
	b.WriteString("}\n")

	if g.err != nil {
		return nil, g.err
	}
	return b.Bytes(), nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func union(vals []string) string {
	if len(vals) == 0 {
		return "never"
	}
	return strings.Join(quoteEach(vals), " | ")
}

func quoteEach(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = sq(v)
	}
	return out
}

// sq is s as a single-quoted TS string.
func sq(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`, "\n", `\n`).Replace(s) + "'"
}

func quoteAll(vals []string) string { return strings.Join(quoteEach(vals), ", ") }
