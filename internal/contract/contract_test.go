package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/dispatch"
)

type Kind string

type Inner struct {
	Deep    string `json:"deep"`
	Shadow  int    `json:"shadow"`
	Untaged bool
}

type Other struct {
	Shadow string `json:"shadow"` // same depth as Inner.Shadow, both tagged: dropped
	Only   int    `json:"only"`
}

// Conflict embeds two structs with a "shadow" at the same depth: encoding/json
// writes neither.
type Conflict struct {
	Inner
	*Other
}

type Point struct {
	X float64 `json:"x"`
}

type Page[T any] struct {
	Items []T `json:"items"`
	Next  string
}

type Node struct {
	Label    string  `json:"label"`
	Children []Node  `json:"children,omitempty"`
	Parent   *Node   `json:"parent"`
	Tags     []Kind  `json:"tags"`
	Where    []Point `json:"where"`
}

type Wide struct {
	Inner
	*Other
	Name     string            `json:"name"`
	Nick     string            `json:"nick,omitempty"`
	Kind     Kind              `json:"kind"`
	Count    int64             `json:"count,string"`
	Ptr      *Point            `json:"ptr"`
	OptPtr   *Point            `json:"optPtr,omitempty"`
	Raw      []byte            `json:"raw"`
	When     time.Time         `json:"when"`
	Labels   map[string]string `json:"labels"`
	ByID     map[int][]Point   `json:"byId"`
	Any      any               `json:"any"`
	Skipped  string            `json:"-"`
	Dash     string            `json:"-,"`
	hidden   string
	Anon     struct{ A []int } `json:"anon"`
	Img      image.Point       `json:"img"`
	Self     Point             `json:"self"`
	Numbers  [2]int            `json:"numbers"`
	Shadow   bool              `json:"shadow"` // depth 0 hides both embedded ones
	Untagged string
}

type svc struct{}

func (svc) GetWide(id int64, k Kind) (Wide, error) { _ = id; _ = k; return Wide{}, nil }
func (svc) Tree() (*Node, error)                   { return nil, nil }
func (svc) Pages() (Page[Point], error)            { return Page[Point]{}, nil }
func (svc) Names() ([]string, error)               { return nil, nil }
func (svc) Touch() error                           { return nil }

type svc2 struct{}

func (svc2) Ping() string { return "" }

func table(t *testing.T, services ...any) *dispatch.Table {
	t.Helper()
	tb, err := dispatch.New(services...)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func spec(t *testing.T) Spec {
	return Spec{
		Methods:     table(t, svc{}, &svc2{}),
		Permissions: map[string]string{"GetWide": "read", "Tree": "read", "Pages": "read", "Names": "read", "Touch": "write"},
		Public:      map[string]bool{"Ping": true},
		Codes:       []string{"errors.b", "errors.a", "errors.b"},
		Events: []Event{
			{Name: "z:tree", Payload: reflect.TypeFor[Node]()},
			{Name: "a:bare"},
		},
		Enums: []Enum{{Type: reflect.TypeFor[Kind](), Values: []string{"one", "two"}}},
		Home:  reflect.TypeFor[Wide]().PkgPath(),
	}
}

func generate(t *testing.T, s Spec) string {
	t.Helper()
	out, err := Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// block returns the declaration that starts with head, up to its closing
// brace.
func block(t *testing.T, out, head string) string {
	t.Helper()
	i := strings.Index(out, head)
	if i < 0 {
		t.Fatalf("no %q in:\n%s", head, out)
	}
	j := strings.Index(out[i:], "\n}\n")
	return out[i : i+j+2]
}

func TestStructAsEncodingJSONWritesIt(t *testing.T) {
	out := generate(t, spec(t))
	want := `export interface Wide {
  deep: string
  Untaged: boolean
  only: number
  name: string
  nick?: string
  kind: Kind
  count: string
  ptr: Point | null
  optPtr?: Point
  raw: string
  when: string
  labels: Record<string, string>
  byId: Record<string, Point[]>
  any: unknown
  '-': string
  anon: { A: number[] }
  img: ImagePoint
  self: Point
  numbers: number[]
  shadow: boolean
  Untagged: string
}`
	if got := block(t, out, "export interface Wide "); got != want {
		t.Errorf("Wide:\n%s\nwant:\n%s", got, want)
	}
	for _, w := range []string{
		"export type Kind = (typeof enums.Kind)[number]",
		"  Kind: ['one', 'two'],",
		"export interface PagePoint {\n  items: Point[]\n  Next: string\n}",
		"export interface ImagePoint {\n  X: number\n  Y: number\n}",
		"export interface Point {\n  x: number\n}",
		"  children?: Node[]\n  parent: Node | null\n  tags: Kind[]",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q", w)
		}
	}
}

// The member names the generator lists are exactly the keys encoding/json
// writes, for every struct of the test (omitempty ones filled in).
func TestFieldsMatchEncodingJSON(t *testing.T) {
	w := Wide{Inner: Inner{Deep: "d"}, Other: &Other{Only: 1}, Nick: "n", OptPtr: &Point{}}
	for _, v := range []any{w, Node{Children: []Node{{}}}, Page[Point]{}, image.Point{}, Inner{}, Other{}, Conflict{Other: &Other{}}} {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatal(err)
		}
		var keys, names []string
		for k := range obj {
			keys = append(keys, k)
		}
		for _, f := range fields(reflect.TypeOf(v)) {
			names = append(names, f.name)
		}
		sort.Strings(keys)
		sort.Strings(names)
		if !slices.Equal(keys, names) {
			t.Errorf("%T: encoding/json writes %v, the contract lists %v", v, keys, names)
		}
	}
}

func TestMethodsPermissionsCodesEvents(t *testing.T) {
	s := spec(t)
	s.PrimaryOnly = []string{"Touch"}
	out := generate(t, s)
	for _, w := range []string{
		"  GetWide(arg1: number, arg2: Kind): Wide\n",
		"  Names(): string[]\n",
		"  Pages(): PagePoint\n",
		"  Ping(): string\n",
		"  Touch(): void\n",
		"  Tree(): Node | null\n",
		"export type ServiceName = 'svc' | 'svc2'",
		"export type Permission = 'read' | 'write'",
		"  Names: { service: 'svc', permission: 'read', result: { l: 0 } },",
		"  Ping: { service: 'svc2', permission: null },",
		"  Touch: { service: 'svc', permission: 'write', primaryOnly: true },",
		"  Tree: { service: 'svc', permission: 'read', result: 'Node' },",
		"  Pages: { service: 'svc', permission: 'read', result: 'PagePoint' },",
		"  Node: { children: { l: 'Node' }, parent: 'Node', tags: { l: 0 }, where: { l: 0 } },",
		"  Wide: { labels: { m: 0 }, byId: { m: { l: 0 } }, anon: { o: { A: { l: 0 } } } },",
		"export const errorCodes = [\n  'errors.a',\n  'errors.b',\n] as const",
		"export interface Events {\n  'a:bare': null\n  'z:tree': Node\n}",
		"  'z:tree': 'Node',",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in:\n%s", w, out)
		}
	}
	// Point holds no slice: it has no shape, and a Point result none.
	if strings.Contains(out, "  Point: {") || strings.Contains(out, "ImagePoint: {") {
		t.Error("a struct without slices or maps has a shape")
	}
}

func TestDeterministic(t *testing.T) {
	s := spec(t)
	first := generate(t, s)
	for range 5 {
		s.Events = []Event{s.Events[1], s.Events[0]}
		s.Codes = []string{"errors.a", "errors.b"}
		if got := generate(t, s); got != first {
			t.Fatal("output depends on the order of the spec or of map iteration")
		}
	}
}

type ContractThing struct {
	N int `json:"n"`
}

func (svc6) Thing() ContractThing { return ContractThing{} }

type svc6 struct{}

// Type names: the package's name in front unless the Go name starts with
// it; the home package keeps its names.
func TestTypeNames(t *testing.T) {
	s := spec(t)
	s.Methods = table(t, svc{}, &svc2{}, svc6{})
	s.Permissions["Thing"] = "read"
	out := generate(t, s)
	for _, w := range []string{"export interface Point {", "export interface ImagePoint {", "export interface ContractThing {", "export interface Wide {"} {
		if !strings.Contains(out, w) {
			t.Errorf("home package: no %q", w)
		}
	}
	s.Home = "somewhere/else"
	out = generate(t, s)
	for _, w := range []string{"export interface ContractPoint {", "export interface ImagePoint {", "export interface ContractThing {", "export interface ContractWide {", "export type ContractKind ="} {
		if !strings.Contains(out, w) {
			t.Errorf("no home: no %q in\n%s", w, out)
		}
	}
	if strings.Contains(out, "export interface Point {") || strings.Contains(out, "ContractContractThing") {
		t.Error("a name left bare or qualified twice")
	}
}

type Chatty struct {
	C chan int `json:"c"`
}

func (svc3) Chat() Chatty { return Chatty{} }

type svc3 struct{}

type Custom struct{ v int }

func (c Custom) MarshalJSON() ([]byte, error) { return json.Marshal(c.v) }

type svc4 struct{}

func (svc4) Get() Custom { return Custom{} }

type svc5 struct{}

func (svc5) Three() (int, int, error) { return 0, 0, nil }

func TestRefusals(t *testing.T) {
	base := func(svcs ...any) Spec {
		return Spec{Methods: table(t, svcs...), Permissions: map[string]string{"Chat": "p", "Get": "p", "Three": "p"}}
	}
	if _, err := Generate(base(svc3{})); !errors.Is(err, ErrUnsupported) {
		t.Errorf("channel member: %v", err)
	}
	if _, err := Generate(base(svc4{})); !errors.Is(err, ErrUnsupported) {
		t.Errorf("MarshalJSON without override: %v", err)
	}
	s := base(svc4{})
	s.Overrides = map[reflect.Type]string{reflect.TypeFor[Custom](): "number"}
	if out := generate(t, s); !strings.Contains(out, "  Get(): number\n") {
		t.Errorf("override not used:\n%s", out)
	}
	if _, err := Generate(base(svc5{})); !errors.Is(err, ErrUnsupported) {
		t.Errorf("three results: %v", err)
	}

	s = spec(t)
	delete(s.Permissions, "Touch")
	if _, err := Generate(s); err == nil || !strings.Contains(err.Error(), "Touch has no permission") {
		t.Errorf("unguarded method: %v", err)
	}
	s = spec(t)
	s.Public["Touch"] = true
	if _, err := Generate(s); err == nil || !strings.Contains(err.Error(), "both public and guarded") {
		t.Errorf("public and guarded: %v", err)
	}
	s = spec(t)
	s.PrimaryOnly = []string{"Touch", "Nowhere"}
	if _, err := Generate(s); err == nil || !strings.Contains(err.Error(), "primary-only Nowhere is not a bound method") {
		t.Errorf("an unknown primary-only method: %v", err)
	}
	s = spec(t)
	s.Enums = []Enum{{Type: reflect.TypeFor[Point]()}}
	if _, err := Generate(s); !errors.Is(err, ErrUnsupported) {
		t.Errorf("enum of a struct: %v", err)
	}
}

func TestGeneratedHeader(t *testing.T) {
	out := generate(t, spec(t))
	if !bytes.HasPrefix([]byte(out), []byte("// Code generated by internal/contract")) {
		t.Error("no generated-code header")
	}
}
