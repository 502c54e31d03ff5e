package ticket

import (
	"bytes"
	"testing"
)

// A ticket code whose QR code gozxing's finder-pattern search misses at every size: the
// door's photo fallback must still read it.
func TestDecodeQRRareCode(t *testing.T) {
	const code = "RLS1-YB2LNGEZ34HP3IUG7K6HT4RFGBHF67CX"
	for _, size := range []int{300, 400, 500} {
		png, err := QRPNG(code, size)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := DecodeQR(bytes.NewReader(png)); err != nil || got != code {
			t.Fatalf("size %d: %q %v", size, got, err)
		}
	}
}
