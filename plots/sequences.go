package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"os"
)

// FrameStrip lays sequences out as a strip of frames: row i shows sequence
// i, its frames from left to right. Each sequence is frames·h·w grey values
// (frame after frame, each row-major, 0 black to 1 white), drawn as
// ImageGrid draws images, so the result is frames·w·s + (frames+1)·p pixels
// wide and n·h·s + (n+1)·p tall for n sequences, scale s and pad p.
func FrameStrip(seqs [][]float32, frames, h, w int, opt GridOptions) (*image.Gray, error) {
	cells, err := splitFrames(seqs, frames, h, w)
	if err != nil {
		return nil, err
	}
	return ImageGrid(cells, h, w, frames, opt)
}

// splitFrames checks the sequences and returns their frames, sequence after
// sequence, as separate images.
func splitFrames(seqs [][]float32, frames, h, w int) ([][]float32, error) {
	if frames < 1 {
		return nil, fmt.Errorf("plots: frames is %d; a sequence has at least 1", frames)
	}
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("plots: frame size %d×%d (h×w) is invalid; both must be at least 1", h, w)
	}
	if len(seqs) == 0 {
		return nil, fmt.Errorf("plots: no sequences to draw: %w", errNoData)
	}
	d := h * w
	cells := make([][]float32, 0, len(seqs)*frames)
	for i, s := range seqs {
		if len(s) != frames*d {
			return nil, fmt.Errorf("plots: sequence %d has %d values, want frames·h·w = %d·%d·%d = %d", i, len(s), frames, h, w, frames*d)
		}
		for f := range frames {
			cells = append(cells, s[f*d:(f+1)*d])
		}
	}
	return cells, nil
}

// GIFOptions configures SequenceGIF. The zero value plays at 5 frames per
// second, all sequences side by side in one row, looping forever.
type GIFOptions struct {
	// Grid sets the scale, separators and border of every frame, as in ImageGrid.
	Grid GridOptions
	// Cols is the number of sequences per row; 0 puts them all in one row.
	Cols int
	// Delay is the time per frame in hundredths of a second; 0 means 20.
	Delay int
	// Hold is extra time on the last frame, in hundredths of a second, so
	// the eye can tell where a loop ends; 0 means none.
	Hold int
}

// SequenceGIF animates sequences side by side: frame t of the GIF is an
// ImageGrid of frame t of every sequence (Cols per row). Sequences are as in
// FrameStrip. The GIF has one frame per sequence frame, each the size
// ImageGrid gives, in 256 grey levels, and loops forever.
func SequenceGIF(seqs [][]float32, frames, h, w int, opt GIFOptions) (*gif.GIF, error) {
	cells, err := splitFrames(seqs, frames, h, w)
	if err != nil {
		return nil, err
	}
	if opt.Cols < 0 || opt.Delay < 0 || opt.Hold < 0 {
		return nil, fmt.Errorf("plots: GIF Cols %d, Delay %d, Hold %d: none may be negative (0 selects the default)", opt.Cols, opt.Delay, opt.Hold)
	}
	cols := opt.Cols
	if cols == 0 {
		cols = len(seqs)
	}
	delay := opt.Delay
	if delay == 0 {
		delay = 20
	}
	g := &gif.GIF{}
	frame := make([][]float32, len(seqs))
	for t := range frames {
		for i := range seqs {
			frame[i] = cells[i*frames+t]
		}
		img, err := ImageGrid(frame, h, w, cols, opt.Grid)
		if err != nil {
			return nil, err
		}
		g.Image = append(g.Image, &image.Paletted{Pix: img.Pix, Stride: img.Stride, Rect: img.Rect, Palette: greyPalette})
		g.Delay = append(g.Delay, delay)
	}
	g.Delay[frames-1] += opt.Hold
	return g, nil
}

// greyPalette maps palette index i to grey level i, so a grey image's
// pixels are already palette indices.
var greyPalette = func() color.Palette {
	p := make(color.Palette, 256)
	for i := range p {
		p[i] = color.Gray{Y: uint8(i)}
	}
	return p
}()

// EncodeGIF returns g encoded as an animated GIF.
func EncodeGIF(g *gif.GIF) ([]byte, error) {
	if g == nil || len(g.Image) == 0 {
		return nil, errors.New("plots: EncodeGIF: the animation has no frames")
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		return nil, fmt.Errorf("plots: encode GIF: %w", err)
	}
	return buf.Bytes(), nil
}

// SaveGIF writes g to path, which must end in .gif.
func SaveGIF(g *gif.GIF, path string) error {
	if _, err := formatOf(path, []string{".gif"}); err != nil {
		return err
	}
	data, err := EncodeGIF(g)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("plots: write GIF: %w", err)
	}
	return nil
}
