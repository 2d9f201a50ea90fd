package importer

import "io"

// NewDecoder returns a reader of UTF-8 text from r in enc (EncodingUTF8,
// EncodingSJIS or EncodingEUCJP; a UTF-8 BOM is dropped), for other features'
// CSV imports (survey answers) to read files exactly as the customer import
// does. Resolve EncodingAuto first with DetectEncoding on the file's start.
func NewDecoder(r io.Reader, enc string) (io.Reader, error) { return decoder(r, enc) }
