// Package peinfo reads the version resource (VS_VERSION_INFO) of a Windows
// executable with debug/pe, so the build can check on Linux that an
// installer carries the version it was built for.
package peinfo

import (
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// Info is the version resource.
type Info struct {
	FileVersion    string            // fixed part, x.y.z.w
	ProductVersion string            // fixed part, x.y.z.w
	Strings        map[string]string // StringFileInfo (ProductName, CompanyName, ...)
}

const (
	rtVersion        = 16
	fixedSignature   = 0xFEEF04BD
	resourceDirEntry = 2 // IMAGE_DIRECTORY_ENTRY_RESOURCE
)

// Read returns the first version resource of a PE file.
func Read(path string) (Info, error) {
	f, err := pe.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("%s is not a PE file: %w", path, err)
	}
	defer f.Close()
	var dir pe.DataDirectory
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		if oh.NumberOfRvaAndSizes <= resourceDirEntry {
			return Info{}, errors.New("no resource directory")
		}
		dir = oh.DataDirectory[resourceDirEntry]
	case *pe.OptionalHeader64:
		if oh.NumberOfRvaAndSizes <= resourceDirEntry {
			return Info{}, errors.New("no resource directory")
		}
		dir = oh.DataDirectory[resourceDirEntry]
	default:
		return Info{}, errors.New("no optional header")
	}
	if dir.VirtualAddress == 0 {
		return Info{}, errors.New("no resources")
	}
	var sec *pe.Section
	for _, s := range f.Sections {
		if dir.VirtualAddress >= s.VirtualAddress && dir.VirtualAddress < s.VirtualAddress+max(s.VirtualSize, s.Size) {
			sec = s
		}
	}
	if sec == nil {
		return Info{}, errors.New("resource directory is in no section")
	}
	data, err := sec.Data()
	if err != nil {
		return Info{}, fmt.Errorf("read %s: %w", sec.Name, err)
	}
	r := rsrc{data: data, base: dir.VirtualAddress - sec.VirtualAddress, secVA: sec.VirtualAddress}
	raw, err := r.versionData()
	if err != nil {
		return Info{}, err
	}
	return parseVersionInfo(raw)
}

type rsrc struct {
	data  []byte
	base  uint32 // offset of the resource directory in data
	secVA uint32
}

func (r rsrc) u32(off uint32) (uint32, error) {
	if uint64(off)+4 > uint64(len(r.data)) {
		return 0, errors.New("resource directory truncated")
	}
	return binary.LittleEndian.Uint32(r.data[off:]), nil
}

func (r rsrc) u16(off uint32) (uint16, error) {
	if uint64(off)+2 > uint64(len(r.data)) {
		return 0, errors.New("resource directory truncated")
	}
	return binary.LittleEndian.Uint16(r.data[off:]), nil
}

// entries returns a directory's entries: (id or name offset, target).
func (r rsrc) entries(dirOff uint32) ([][2]uint32, error) {
	named, err := r.u16(r.base + dirOff + 12)
	if err != nil {
		return nil, err
	}
	ids, err := r.u16(r.base + dirOff + 14)
	if err != nil {
		return nil, err
	}
	var out [][2]uint32
	for i := range uint32(named) + uint32(ids) {
		e := r.base + dirOff + 16 + 8*i
		name, err := r.u32(e)
		if err != nil {
			return nil, err
		}
		target, err := r.u32(e + 4)
		if err != nil {
			return nil, err
		}
		out = append(out, [2]uint32{name, target})
	}
	return out, nil
}

// versionData walks type RT_VERSION → first name → first language.
func (r rsrc) versionData() ([]byte, error) {
	types, err := r.entries(0)
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		if t[0] != rtVersion || t[1]&0x80000000 == 0 {
			continue
		}
		target := t[1]
		for depth := 0; depth < 2; depth++ { // name, then language
			if target&0x80000000 == 0 {
				return nil, errors.New("malformed version resource directory")
			}
			sub, err := r.entries(target & 0x7fffffff)
			if err != nil {
				return nil, err
			}
			if len(sub) == 0 {
				return nil, errors.New("empty version resource directory")
			}
			target = sub[0][1]
		}
		if target&0x80000000 != 0 {
			return nil, errors.New("malformed version resource entry")
		}
		rva, err := r.u32(r.base + target)
		if err != nil {
			return nil, err
		}
		size, err := r.u32(r.base + target + 4)
		if err != nil {
			return nil, err
		}
		off := uint64(rva) - uint64(r.secVA)
		if rva < r.secVA || off+uint64(size) > uint64(len(r.data)) {
			return nil, errors.New("version resource outside its section")
		}
		return r.data[off : off+uint64(size)], nil
	}
	return nil, errors.New("no version resource")
}

// block is one node of VS_VERSIONINFO.
type block struct {
	key      string
	value    []byte
	text     bool
	children []block
}

func parseBlock(b []byte) (block, int, error) {
	if len(b) < 6 {
		return block{}, 0, errors.New("version block truncated")
	}
	length := int(binary.LittleEndian.Uint16(b))
	valueLen := int(binary.LittleEndian.Uint16(b[2:]))
	typ := binary.LittleEndian.Uint16(b[4:])
	if length < 6 || length > len(b) {
		return block{}, 0, fmt.Errorf("version block length %d of %d", length, len(b))
	}
	b = b[:length]
	var key []uint16
	off := 6
	for ; off+1 < length; off += 2 {
		c := binary.LittleEndian.Uint16(b[off:])
		if c == 0 {
			off += 2
			break
		}
		key = append(key, c)
	}
	off = align4(off)
	blk := block{key: string(utf16.Decode(key)), text: typ == 1}
	vbytes := valueLen
	if blk.text {
		vbytes = valueLen * 2
	}
	if off+vbytes > length {
		vbytes = max(0, length-off) // some writers count the value loosely
	}
	blk.value = b[off : off+vbytes]
	off = align4(off + vbytes)
	for off < length {
		child, n, err := parseBlock(b[off:])
		if err != nil {
			return block{}, 0, err
		}
		blk.children = append(blk.children, child)
		off = align4(off + n)
	}
	return blk, length, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

func parseVersionInfo(raw []byte) (Info, error) {
	root, _, err := parseBlock(raw)
	if err != nil {
		return Info{}, err
	}
	if root.key != "VS_VERSION_INFO" {
		return Info{}, fmt.Errorf("version resource key %q", root.key)
	}
	if len(root.value) < 52 || binary.LittleEndian.Uint32(root.value) != fixedSignature {
		return Info{}, errors.New("no VS_FIXEDFILEINFO")
	}
	v := root.value
	ver := func(ms, ls uint32) string {
		return fmt.Sprintf("%d.%d.%d.%d", ms>>16, ms&0xffff, ls>>16, ls&0xffff)
	}
	info := Info{
		FileVersion:    ver(binary.LittleEndian.Uint32(v[8:]), binary.LittleEndian.Uint32(v[12:])),
		ProductVersion: ver(binary.LittleEndian.Uint32(v[16:]), binary.LittleEndian.Uint32(v[20:])),
		Strings:        map[string]string{},
	}
	for _, c := range root.children {
		if c.key != "StringFileInfo" {
			continue
		}
		for _, table := range c.children {
			for _, s := range table.children {
				info.Strings[s.key] = decodeText(s.value)
			}
		}
	}
	return info, nil
}

func decodeText(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// Check fails unless the fixed file and product versions are want (x.y.z.w)
// and, if product is not empty, the ProductName string is product.
func (i Info) Check(want, product string) error {
	if i.FileVersion != want || i.ProductVersion != want {
		return fmt.Errorf("version resource says file %s, product %s; want %s", i.FileVersion, i.ProductVersion, want)
	}
	if product != "" && i.Strings["ProductName"] != product {
		return fmt.Errorf("ProductName is %q, want %q", i.Strings["ProductName"], product)
	}
	return nil
}
