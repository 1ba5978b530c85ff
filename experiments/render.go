package experiments

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/vae"
)

// RenderExamples draws examples of a data set (each d.Shape.Size() values,
// as Fill writes them: data, samples or reconstructions) the way that data is
// looked at, encoded in the format of the file extension format (".png", or
// a file name ending in one):
//   - images: a grid of 8 per row (.png);
//   - image sequences: a frame strip, one sequence per row (.png), or an
//     animated GIF of the sequences side by side (.gif);
//   - sequences of one-pixel-high rows (seq-mnist): the images the rows stack
//     into (.png), or the rows appearing one by one (.gif);
//   - real-valued series: one panel per example, one line per channel
//     (.png, .svg or .pdf).
//
// It is what `vaexp datasets NAME --preview` draws, and what a run's
// sequence artifacts should be drawn with.
func RenderExamples(d data.Description, examples [][]float32, format string) ([]byte, error) {
	return renderExamples(d, examples, format, nil)
}

// renderExamples is RenderExamples with optional per-example titles and
// marked steps for series panels.
func renderExamples(d data.Description, examples [][]float32, format string, notes []seriesNote) ([]byte, error) {
	sh := d.Shape
	ext := strings.ToLower(filepath.Ext(format))
	if len(examples) == 0 {
		return nil, fmt.Errorf("no examples of %s to draw", d.Name)
	}
	for i, x := range examples {
		if len(x) != sh.Size() {
			return nil, fmt.Errorf("example %d of %s has %d values, want %s = %d", i, d.Name, len(x), sh, sh.Size())
		}
	}
	if err := checkFormat(d, ext); err != nil {
		return nil, err
	}
	switch exampleKind(d) {
	case kindSeries:
		return plots.EncodePanels(ext, seriesPanels(sh, examples, notes), min(len(examples), 2), plots.CurveOptions{XLabel: "step", Width: 4.5, Height: 2.6})
	case kindRows:
		// Frames of one row each stack into one image of Frames rows.
		if ext == ".gif" {
			return sequenceGIF(revealRows(sh, examples), vae.Shape{Frames: sh.Frames, Height: sh.Frames, Width: sh.FrameSize(), Channels: 1})
		}
		return imageGrid(examples, sh.Frames, sh.FrameSize())
	case kindSequence:
		if ext == ".gif" {
			return sequenceGIF(examples, sh)
		}
		img, err := plots.FrameStrip(examples, sh.Frames, sh.Height, sh.Width*sh.Channels, plots.GridOptions{Scale: pixelScale(sh, 32), Border: separatorGrey})
		if err != nil {
			return nil, err
		}
		return plots.EncodePNG(img)
	default:
		return imageGrid(examples, sh.Height, sh.Width*sh.Channels)
	}
}

// kind is how a data set's examples are drawn.
type kind int

const (
	kindImage    kind = iota
	kindSequence      // frames of images
	kindRows          // frames that are single rows, stacking into an image
	kindSeries        // real values per step
)

func exampleKind(d data.Description) kind {
	sh := d.Shape
	switch {
	case !sh.IsSequence():
		return kindImage
	case d.Real || sh.Height*sh.Width == 1:
		return kindSeries
	case sh.Height == 1:
		return kindRows
	}
	return kindSequence
}

// checkFormat returns an error unless d's examples can be drawn in the
// format of extension ext.
func checkFormat(d data.Description, ext string) error {
	k := exampleKind(d)
	want := strings.Fields(k.formats())
	if slices.Contains(want, ext) {
		return nil
	}
	list := want[0]
	if n := len(want); n > 1 {
		list = strings.Join(want[:n-1], ", ") + " or " + want[n-1]
	}
	return fmt.Errorf("%s examples (%s) are drawn as %s, not %q: change the file extension", d.Name, k, list, ext)
}

// formats lists the file extensions a kind is drawn in.
func (k kind) formats() string {
	switch k {
	case kindSeries:
		return ".png .svg .pdf"
	case kindImage:
		return ".png"
	}
	return ".png .gif"
}

func (k kind) String() string {
	return [...]string{"images", "image sequences", "row sequences", "series"}[k]
}

// separatorGrey sets examples and frames apart: data sets draw white on
// black, so black separators would hide where one frame ends.
const separatorGrey = 96

// pixelScale enlarges small frames: ×2 up to upTo pixels a side, else ×1.
func pixelScale(sh vae.Shape, upTo int) int {
	if max(sh.Height, sh.Width) <= upTo {
		return 2
	}
	return 1
}

func imageGrid(examples [][]float32, h, w int) ([]byte, error) {
	img, err := plots.ImageGrid(examples, h, w, 8, plots.GridOptions{Scale: 2, Border: separatorGrey})
	if err != nil {
		return nil, err
	}
	return plots.EncodePNG(img)
}

func sequenceGIF(examples [][]float32, sh vae.Shape) ([]byte, error) {
	g, err := plots.SequenceGIF(examples, sh.Frames, sh.Height, sh.Width*sh.Channels, plots.GIFOptions{
		Grid: plots.GridOptions{Scale: pixelScale(sh, 64), Border: separatorGrey},
		Cols: min(len(examples), 4),
		Hold: 60,
	})
	if err != nil {
		return nil, err
	}
	return plots.EncodeGIF(g)
}

// revealRows turns row sequences into image sequences: frame t shows rows
// 0..t of the image, the others black.
func revealRows(sh vae.Shape, examples [][]float32) [][]float32 {
	size := sh.Size()
	out := make([][]float32, len(examples))
	for i, x := range examples {
		seq := make([]float32, sh.Frames*size)
		for t := range sh.Frames {
			copy(seq[t*size:t*size+(t+1)*sh.FrameSize()], x[:(t+1)*sh.FrameSize()])
		}
		out[i] = seq
	}
	return out
}

// seriesNote is what a series panel says of its example: a title, and
// steps marked with dots (the shocks of a regime series).
type seriesNote struct {
	title string
	marks []int
}

// seriesPanels draws each example as a panel, one line per channel (the
// values of step t are x[t·C : (t+1)·C]).
func seriesPanels(sh vae.Shape, examples [][]float32, notes []seriesNote) []plots.Panel {
	c := sh.FrameSize()
	steps := make([]float64, sh.Frames)
	for t := range steps {
		steps[t] = float64(t)
	}
	panels := make([]plots.Panel, len(examples))
	for i, x := range examples {
		p := plots.Panel{Title: "example " + strconv.Itoa(i)}
		for ch := range c {
			s := plots.Series{X: steps, Y: make([]float64, sh.Frames)}
			switch {
			case c > 1:
				s.Name = "channel " + strconv.Itoa(ch)
			case i < len(notes) && len(notes[i].marks) > 0:
				s.Name = "value"
			}
			for t := range sh.Frames {
				s.Y[t] = float64(x[t*c+ch])
			}
			p.Series = append(p.Series, s)
		}
		if i < len(notes) {
			n := notes[i]
			p.Title += n.title
			if len(n.marks) > 0 {
				// NaN everywhere but the marked steps: isolated points, drawn as dots.
				m := plots.Series{Name: "shocks", X: steps, Y: make([]float64, sh.Frames)}
				for t := range m.Y {
					m.Y[t] = math.NaN()
				}
				for _, t := range n.marks {
					m.Y[t] = float64(x[t*c])
				}
				p.Series = append(p.Series, m)
			}
		}
		panels[i] = p
	}
	return panels
}

// previewDefault is how many examples Preview draws when asked for 0:
// enough to see the variety, few enough to see each.
func previewDefault(d data.Description, format string) int {
	switch k := exampleKind(d); {
	case k == kindSeries:
		return 4
	case k == kindSequence && strings.EqualFold(filepath.Ext(format), ".gif"):
		return 4
	case k == kindSequence:
		return 6
	}
	return 32
}

// Preview loads data set name with opts and draws its first n training
// examples with RenderExamples (n = 0: 32 images, 6 sequences in a strip, 4
// in a GIF, 4 series), so a user can see a data set before training on it.
// Series panels are titled with their switch points and mark their shocks.
func Preview(name string, opts data.LoadOptions, n int, format string) ([]byte, error) {
	ds, err := data.Get(name)
	if err != nil {
		return nil, err
	}
	d := ds.Describe()
	if n < 0 {
		return nil, fmt.Errorf("preview of %d examples: ask for 1 or more (0: the default, %d)", n, previewDefault(d, format))
	}
	if n == 0 {
		n = previewDefault(d, format)
	}
	if err := checkFormat(d, strings.ToLower(filepath.Ext(format))); err != nil {
		return nil, err
	}
	splits, err := ds.Load(opts)
	if err != nil {
		return nil, err
	}
	train := splits.Train
	n = min(n, train.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x := make([]float32, n*d.Shape.Size())
	if err := catch(func() error { train.Fill(x, make([]int32, n), idx); return nil }); err != nil {
		return nil, fmt.Errorf("preview %s: %w", name, err)
	}
	examples := make([][]float32, n)
	for i := range examples {
		examples[i] = x[i*d.Shape.Size() : (i+1)*d.Shape.Size()]
	}
	var notes []seriesNote
	if s, ok := train.(*data.SeriesSplit); ok {
		for i := range n {
			t := s.Truth(i)
			var note seriesNote
			if sw := t.Switches(); len(sw) > 0 {
				note.title = fmt.Sprintf(": switches at %s", joinInts(sw))
			}
			for _, sh := range t.Shocks {
				note.marks = append(note.marks, sh.Step)
			}
			notes = append(notes, note)
		}
	}
	return renderExamples(d, examples, format, notes)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
