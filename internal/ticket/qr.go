package ticket

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	_ "image/jpeg" // photos from the door page
	_ "image/png"
	"io"
	"slices"
	"sync"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
	goqr "github.com/piglig/go-qr"
)

// MaxQRSize is the largest QR image QRPNG draws, in pixels a side.
const MaxQRSize = 2048

// Limits on a photo given to DecodeQR. A phone photo is 2–8 MB and 12–48
// megapixels; the pixel limit is checked before decoding, so that a small
// file announcing a huge image cannot exhaust memory.
const (
	MaxPhotoBytes  = 20 << 20
	MaxPhotoPixels = 50_000_000
)

var (
	// ErrNoQRCode means the image was read but no QR code was found in it.
	ErrNoQRCode = errors.New("ticket: no QR code found in the image")
	// ErrBadImage means the data is not a PNG or JPEG image this package can
	// read (another format, truncated, or too large).
	ErrBadImage = errors.New("ticket: unreadable image")
)

// QRPNG draws content as a QR code with medium error correction (15% of the
// symbol may be lost) in a PNG of size×size pixels, quiet zone included. The
// PNG is black on white with a 2-colour palette, 1 bit per pixel: a ticket's
// QR weighs well under 1 KB.
func QRPNG(content string, size int) ([]byte, error) {
	if size <= 0 || size > MaxQRSize {
		return nil, fmt.Errorf("ticket: QR size %d out of range 1..%d", size, MaxQRSize)
	}
	// go-qr (Nayuki's encoder) chooses the mask as the standard says, five times faster
	// than the library before it, with a hundredth of the allocations: the QR code was
	// the largest part of a registration's CPU.
	q, err := goqr.EncodeText(content, goqr.Medium)
	if err != nil {
		return nil, fmt.Errorf("ticket: encode QR: %w", err)
	}
	return encodeBitmapPNG(bitmap(q), size)
}

// quietZone is the white margin around a QR code, in modules, that the standard asks for.
const quietZone = 4

// bitmap returns q's modules with the quiet zone around them (true = dark).
func bitmap(q *goqr.QrCode) [][]bool {
	n := q.Size() + 2*quietZone
	cells := make([]bool, n*n)
	bm := make([][]bool, n)
	for y := range bm {
		bm[y] = cells[y*n : (y+1)*n]
	}
	for y := range q.Size() {
		for x := range q.Size() {
			bm[y+quietZone][x+quietZone] = q.Module(x, y)
		}
	}
	return bm
}

// encodeBitmapPNG writes a QR bitmap (quiet zone included, true = dark) as a
// size×size PNG with a black and white palette, 1 bit per pixel, each module a whole number of
// pixels and the rest of the square left white around it. It writes the rows
// directly and compresses them at the fastest level: image/png's generic path
// reads every pixel through an interface and took most of a registration's CPU.
func encodeBitmapPNG(bm [][]bool, size int) ([]byte, error) {
	n := len(bm)
	if n == 0 {
		return nil, errors.New("ticket: empty QR bitmap")
	}
	scale := size / n
	if scale < 1 {
		return nil, fmt.Errorf("ticket: QR size %d too small for %d modules", size, n)
	}
	offset := (size - n*scale) / 2
	stride := (size + 7) / 8
	sc, _ := pngScratchPool.Get().(*pngScratch)
	if sc == nil {
		sc = &pngScratch{}
	}
	defer pngScratchPool.Put(sc)
	raw := &sc.raw
	raw.Reset()
	raw.Grow((stride + 1) * size)
	sc.row = slices.Grow(sc.row[:0], stride+1)[:stride+1] // filter byte 0 (none), then the packed pixels
	sc.white = slices.Grow(sc.white[:0], stride+1)[:stride+1]
	row, white := sc.row, sc.white
	white[0] = 0
	for i := 1; i < len(white); i++ {
		white[i] = 0xff
	}
	for y := 0; y < size; y++ {
		my := y - offset
		if my < 0 || my >= n*scale {
			raw.Write(white)
			continue
		}
		if my%scale == 0 { // a new module row: draw it once, repeat it scale times
			copy(row, white)
			for mx, dark := range bm[my/scale] {
				if !dark {
					continue
				}
				for px := offset + mx*scale; px < offset+(mx+1)*scale; px++ {
					row[1+px/8] &^= 0x80 >> (px % 8)
				}
			}
		}
		raw.Write(row)
	}
	z := &sc.z
	z.Reset()
	if sc.zw == nil {
		var err error
		if sc.zw, err = zlib.NewWriterLevel(z, zlib.BestSpeed); err != nil {
			return nil, err
		}
	} else {
		sc.zw.Reset(z)
	}
	if _, err := sc.zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := sc.zw.Close(); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(z.Len() + 64)
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(size))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(size))
	ihdr[8], ihdr[9] = 1, 3 // bit depth 1, palette; compression, filter, interlace 0
	pngChunk(&out, "IHDR", ihdr)
	pngChunk(&out, "PLTE", []byte{0, 0, 0, 0xff, 0xff, 0xff}) // 0 black, 1 white
	pngChunk(&out, "IDAT", z.Bytes())
	pngChunk(&out, "IEND", nil)
	return out.Bytes(), nil
}

// pngScratch is what encodeBitmapPNG writes into before the PNG itself: the rows, their
// compressed form and the compressor (several hundred KB). They are kept between QR codes:
// a new set for each was most of what drawing one allocated.
type pngScratch struct {
	raw, z     bytes.Buffer
	row, white []byte
	zw         *zlib.Writer
}

var pngScratchPool sync.Pool

// pngChunk appends one PNG chunk: length, type, data and the CRC of type and data.
func pngChunk(w *bytes.Buffer, typ string, data []byte) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	w.Write(hdr[:])
	w.Write(data)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	w.Write(sum[:])
}

// DecodeQR finds and reads a QR code in a PNG or JPEG image, typically a
// photo taken at the door by a phone whose browser cannot scan live. It
// returns the text of the code as is (see ParseCode). Errors wrap
// ErrBadImage or ErrNoQRCode.
func DecodeQR(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPhotoBytes+1))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if len(data) > MaxPhotoBytes {
		return "", fmt.Errorf("%w: larger than %d MB", ErrBadImage, MaxPhotoBytes>>20)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxPhotoPixels {
		return "", fmt.Errorf("%w: %d×%d pixels", ErrBadImage, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	return decodeQRImage(img)
}

// decodeQRImage runs the QR reader with the hybrid binarizer, which copes with
// the uneven light of a photo, then with the global one, which does better
// on flat, low-contrast images.
func decodeQRImage(img image.Image) (text string, err error) {
	// gozxing is a port of Java code written for exceptions; an image that
	// trips an index check must cost the door one failed scan, not a panic.
	defer func() {
		if p := recover(); p != nil {
			text, err = "", fmt.Errorf("%w (reader failed: %v)", ErrNoQRCode, p)
		}
	}()
	source := gozxing.NewLuminanceSourceFromImage(img)
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	reader := gozxingqr.NewQRCodeReader()
	binarizers := []func(gozxing.LuminanceSource) gozxing.Binarizer{
		gozxing.NewHybridBinarizer,
		gozxing.NewGlobalHistgramBinarizer,
	}
	// The finder-pattern search fails on rare codes even in a clean image (about 1 in 600
	// ticket codes here); a screenshot or a printout is read with the pure-barcode hint,
	// which locates the code from its bounds instead.
	pure := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true, gozxing.DecodeHintType_PURE_BARCODE: true}
	for _, h := range []map[gozxing.DecodeHintType]any{hints, pure} {
		for _, binarizer := range binarizers {
			bitmap, err := gozxing.NewBinaryBitmap(binarizer(source))
			if err != nil {
				continue
			}
			result, err := reader.Decode(bitmap, h)
			if err == nil {
				return result.GetText(), nil
			}
		}
	}
	return "", ErrNoQRCode
}
