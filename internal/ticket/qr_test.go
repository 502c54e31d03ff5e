package ticket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestQRPNG(t *testing.T) {
	code := NewCode()
	data, err := QRPNG(code, 256)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Errorf("image is %v, want 256×256", b)
	}
	pal, ok := img.ColorModel().(color.Palette)
	if !ok || len(pal) != 2 {
		t.Errorf("colour model %T with %d colours, want a 2-colour palette", img.ColorModel(), len(pal))
	}
	// Quiet zone: the corner module (4 modules of border) must be white.
	if r, g, b, _ := img.At(2, 2).RGBA(); r != 0xffff || g != 0xffff || b != 0xffff {
		t.Errorf("corner pixel is %v, want white quiet zone", img.At(2, 2))
	}
	if len(data) > 1024 {
		t.Errorf("PNG of a ticket code weighs %d bytes, want under 1 KB", len(data))
	}
}

func TestQRPNGRefuses(t *testing.T) {
	tests := []struct {
		name    string
		content string
		size    int
	}{
		{"zero size", "x", 0},
		{"negative size", "x", -4},
		{"huge size", "x", MaxQRSize + 1},
		{"content beyond QR capacity", strings.Repeat("x", 3000), 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if data, err := QRPNG(tt.content, tt.size); err == nil {
				t.Errorf("QRPNG(%d chars, %d) = %d bytes, want an error", len(tt.content), tt.size, len(data))
			}
		})
	}
}

// TestDecodeQR reads back what QRPNG draws, as a file and as a phone would
// photograph it: recompressed, enlarged, off-centre on a page, turned and
// unevenly lit.
func TestDecodeQR(t *testing.T) {
	contents := []string{
		NewCode(),
		"https://relais.example.org/t/Zm9vYmFyYmF6cXV4",
		"Journée mondiale des télécommunications",
	}
	transforms := []struct {
		name string
		make func(t *testing.T, qr image.Image) []byte
	}{
		{"PNG as drawn", func(t *testing.T, qr image.Image) []byte { return encodePNG(t, qr) }},
		{"JPEG", func(t *testing.T, qr image.Image) []byte { return encodeJPEG(t, qr, 75) }},
		{"JPEG 3x with white border", func(t *testing.T, qr image.Image) []byte {
			return encodeJPEG(t, onPage(scale(qr, 3), 200, 90), 75)
		}},
		{"photo: turned, shaded, noisy, JPEG 50", func(t *testing.T, qr image.Image) []byte {
			return encodeJPEG(t, photograph(onPage(scale(qr, 3), 200, 90), 8), 50)
		}},
	}
	for _, content := range contents {
		data, err := QRPNG(content, 256)
		if err != nil {
			t.Fatal(err)
		}
		qr, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range transforms {
			t.Run(tr.name+"/"+content[:10], func(t *testing.T) {
				got, err := DecodeQR(bytes.NewReader(tr.make(t, qr)))
				if err != nil {
					t.Fatalf("DecodeQR: %v", err)
				}
				if got != content {
					t.Errorf("DecodeQR = %q, want %q", got, content)
				}
			})
		}
	}
}

func TestDecodeQRRefuses(t *testing.T) {
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	blank := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range blank.Pix {
		blank.Pix[i] = 0xff
	}
	noise := image.NewGray(image.Rect(0, 0, 320, 240))
	for i := range noise.Pix {
		noise.Pix[i] = byte(rng.Uint32())
	}
	qr, err := QRPNG(NewCode(), 256)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrBadImage},
		{"random bytes", random, ErrBadImage},
		{"text", []byte("RLS1-MZXW6YTBOI4DQNJSGE3TGMZXGI2DANBS"), ErrBadImage},
		{"truncated PNG", qr[:len(qr)/2], ErrBadImage},
		{"PNG announcing 100000×100000 pixels", hugePNGHeader(100_000, 100_000), ErrBadImage},
		{"too many bytes", append(append([]byte{}, qr...), make([]byte, MaxPhotoBytes)...), ErrBadImage},
		{"blank PNG", encodePNG(t, blank), ErrNoQRCode},
		{"blank JPEG", encodeJPEG(t, blank, 75), ErrNoQRCode},
		{"noise PNG", encodePNG(t, noise), ErrNoQRCode},
		{"QR cut in half", encodePNG(t, cropHalf(t, qr)), ErrNoQRCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeQR(bytes.NewReader(tt.data))
			if !errors.Is(err, tt.want) {
				t.Errorf("DecodeQR = %q, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// scale enlarges img k times (nearest neighbour) into a grey image.
func scale(img image.Image, k int) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			out.Set(x, y, img.At(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	return out
}

// onPage puts img on a larger white page, off centre.
func onPage(img *image.Gray, left, top int) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()+left+3*top, b.Dy()+2*top))
	for i := range out.Pix {
		out.Pix[i] = 0xff
	}
	for y := range b.Dy() {
		copy(out.Pix[(y+top)*out.Stride+left:], img.Pix[y*img.Stride:y*img.Stride+b.Dx()])
	}
	return out
}

// photograph turns img by degrees (bilinear), darkens it from one corner to
// the other as under a lamp, lowers the contrast and adds sensor noise.
func photograph(img *image.Gray, degrees float64) *image.Gray {
	b := img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	sin, cos := math.Sincos(degrees * math.Pi / 180)
	rng := rand.New(rand.NewPCG(3, 4))
	out := image.NewGray(b)
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= b.Dx() || y >= b.Dy() {
			return 255
		}
		return float64(img.Pix[y*img.Stride+x])
	}
	for y := range b.Dy() {
		for x := range b.Dx() {
			// Source point of (x, y) turned around the centre.
			dx, dy := float64(x)-w/2, float64(y)-h/2
			sx, sy := cos*dx+sin*dy+w/2, -sin*dx+cos*dy+h/2
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			v := (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
			light := 1 - 0.35*(float64(x)/w+float64(y)/h)/2
			v = (40+v*0.7)*light + rng.NormFloat64()*8
			out.Pix[y*out.Stride+x] = uint8(max(0, min(255, v)))
		}
	}
	return out
}

// hugePNGHeader returns the start of a PNG whose header announces w×h
// pixels: a few bytes that would need gigabytes once decoded.
func hugePNGHeader(w, h uint32) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	chunk := append([]byte("IHDR"), ihdr[:]...)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, uint32(len(ihdr)))
	out = append(out, chunk...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
}

func cropHalf(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+b.Dy()/2))
}

// Every ticket code drawn is read back by an independent decoder (gozxing), at the sizes
// of the email (320) and of the ticket page (160 and 240): the mask and version the
// encoder chooses vary with the code.
func TestQRPNGTicketCodesReadBack(t *testing.T) {
	for i := range 60 {
		code := NewCode()
		size := []int{160, 240, 320}[i%3]
		data, err := QRPNG(code, size)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := DecodeQR(bytes.NewReader(data)); err != nil || got != code {
			t.Fatalf("%s at %d px: read %q, %v", code, size, got, err)
		}
	}
}

func BenchmarkQRPNG(b *testing.B) {
	code := NewCode()
	for b.Loop() {
		if _, err := QRPNG(code, 320); err != nil {
			b.Fatal(err)
		}
	}
}
