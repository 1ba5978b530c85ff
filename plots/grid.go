package plots

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
)

// GridOptions configures ImageGrid and ReconstructionGrid. The zero value
// gives 1:1 pixels, 1-pixel black separators and an outer border.
type GridOptions struct {
	// Scale repeats every pixel Scale×Scale times; 0 means 1.
	Scale int
	// Pad is the width in pixels of the separators between images and of
	// the outer border; 0 means 1, a negative value means none.
	Pad int
	// Border is the grey level (0 black … 255 white) of the separators and
	// of empty cells in a last, partly filled row.
	Border uint8
}

// maxGridPixels bounds the image a grid may allocate (256 Mpixel), so a
// wrong Scale fails with an error instead of exhausting memory.
const maxGridPixels = 1 << 28

// resolve returns the effective scale and pad.
func (o GridOptions) resolve() (scale, pad int, err error) {
	scale, pad = o.Scale, o.Pad
	if scale < 0 {
		return 0, 0, fmt.Errorf("plots: grid Scale %d is negative; use 0 or 1 for 1:1 pixels, 2 or more to enlarge", scale)
	}
	if scale == 0 {
		scale = 1
	}
	switch {
	case pad == 0:
		pad = 1
	case pad < 0:
		pad = 0
	}
	return scale, pad, nil
}

// ImageGrid tiles images into a grid of cols columns and returns it as one
// grey image. Each image is h*w grey values in row-major order, 0 black to
// 1 white; values outside [0,1] are clamped and NaN is drawn black.
//
// With n images, c = min(cols, n) columns, r = ceil(n/c) rows, scale s and
// pad p (see GridOptions) the result is c·w·s + (c+1)·p pixels wide and
// r·h·s + (r+1)·p pixels tall; cells left over in the last row are filled
// with the border grey.
func ImageGrid(images [][]float32, h, w, cols int, opt GridOptions) (*image.Gray, error) {
	if err := checkImages("images", images, h, w, cols); err != nil {
		return nil, err
	}
	c := min(cols, len(images))
	rows := (len(images) + c - 1) / c
	cells := make([][]float32, rows*c)
	copy(cells, images)
	return tile(cells, rows, c, h, w, 0, opt)
}

// ReconstructionGrid lays originals and their reconstructions out for
// comparison: rows alternate between up to cols originals and, directly
// below, the reconstructions of those same originals. Images are as in
// ImageGrid; originals and recons must have the same length.
//
// With n pairs, c = min(cols, n) and k = ceil(n/c), the image has 2k rows of
// cells and each pair of rows is set apart by a double separator, so it is
// c·w·s + (c+1)·p pixels wide and 2k·h·s + 3k·p tall.
func ReconstructionGrid(originals, recons [][]float32, h, w, cols int, opt GridOptions) (*image.Gray, error) {
	if len(originals) != len(recons) {
		return nil, fmt.Errorf("plots: ReconstructionGrid has %d originals but %d reconstructions; pass one reconstruction per original", len(originals), len(recons))
	}
	if err := checkImages("originals", originals, h, w, cols); err != nil {
		return nil, err
	}
	if err := checkImages("recons", recons, h, w, cols); err != nil {
		return nil, err
	}
	c := min(cols, len(originals))
	pairRows := (len(originals) + c - 1) / c
	cells := make([][]float32, 2*pairRows*c)
	for i := range originals {
		r, col := i/c, i%c
		cells[(2*r)*c+col] = originals[i]
		cells[(2*r+1)*c+col] = recons[i]
	}
	return tile(cells, 2*pairRows, c, h, w, 2, opt)
}

// checkImages returns an error naming the first problem with a batch.
func checkImages(what string, images [][]float32, h, w, cols int) error {
	if h <= 0 || w <= 0 {
		return fmt.Errorf("plots: image size %d×%d (h×w) is invalid; both must be at least 1", h, w)
	}
	if cols < 1 {
		return fmt.Errorf("plots: cols is %d; it must be at least 1", cols)
	}
	if len(images) == 0 {
		return fmt.Errorf("plots: no %s to tile: %w", what, errNoData)
	}
	for i, img := range images {
		if len(img) != h*w {
			return fmt.Errorf("plots: %s[%d] has %d values, want h*w = %d*%d = %d", what, i, len(img), h, w, h*w)
		}
	}
	return nil
}

// tile draws cells (row-major, nil = empty) into a rows×cols grid. When
// group > 0, every group rows are set apart by one extra pad, so each
// original/reconstruction pair of rows reads as a unit.
func tile(cells [][]float32, rows, cols, h, w, group int, opt GridOptions) (*image.Gray, error) {
	s, p, err := opt.resolve()
	if err != nil {
		return nil, err
	}
	extra := 0 // extra separators between groups of rows
	if group > 0 {
		extra = (rows+group-1)/group - 1
	}
	W := cols*w*s + (cols+1)*p
	H := rows*h*s + (rows+1+extra)*p
	if W <= 0 || H <= 0 || float64(W)*float64(H) > maxGridPixels {
		return nil, fmt.Errorf("plots: a %d×%d pixel grid is too large (limit %d pixels); lower Scale (%d) or cols (%d)", W, H, maxGridPixels, s, cols)
	}
	img := image.NewGray(image.Rect(0, 0, W, H))
	for i := range img.Pix {
		img.Pix[i] = opt.Border
	}
	for i, cell := range cells {
		if cell == nil {
			continue
		}
		x0 := p + (i%cols)*(w*s+p)
		row := i / cols
		y0 := p + row*(h*s+p)
		if group > 0 {
			y0 += (row / group) * p
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				g := grey(cell[y*w+x])
				for dy := 0; dy < s; dy++ {
					line := img.Pix[(y0+y*s+dy)*img.Stride:]
					for dx := 0; dx < s; dx++ {
						line[x0+x*s+dx] = g
					}
				}
			}
		}
	}
	return img, nil
}

// grey maps an intensity in [0,1] to 0..255, clamping and rounding; NaN is 0.
func grey(v float32) uint8 {
	f := float64(v)
	switch {
	case math.IsNaN(f) || f <= 0:
		return 0
	case f >= 1:
		return 255
	}
	return uint8(math.Round(f * 255))
}

// EncodePNG returns img encoded as PNG.
func EncodePNG(img image.Image) ([]byte, error) {
	if img == nil {
		return nil, errors.New("plots: EncodePNG: the image is nil")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("plots: encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// SaveImage writes img to path as .png, or as .svg holding the PNG in an
// <image> element (drawn with crisp, unsmoothed pixels), so image grids can
// go wherever figures go.
func SaveImage(img image.Image, path string) error {
	ext, err := formatOf(path, []string{".png", ".svg"})
	if err != nil {
		return err
	}
	data, err := EncodePNG(img)
	if err != nil {
		return err
	}
	if ext == ".svg" {
		b := img.Bounds()
		var buf bytes.Buffer
		fmt.Fprintf(&buf, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="%d" height="%d" viewBox="0 0 %d %d">
<image x="0" y="0" width="%d" height="%d" image-rendering="optimizeSpeed" style="image-rendering:pixelated" xlink:href="data:image/png;base64,%s"/>
</svg>
`, b.Dx(), b.Dy(), b.Dx(), b.Dy(), b.Dx(), b.Dy(), base64.StdEncoding.EncodeToString(data))
		data = buf.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("plots: write image: %w", err)
	}
	return nil
}
