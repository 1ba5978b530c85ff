package notebooks

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/experiments/data"
)

// GIF shows an animated GIF widthPx pixels wide (0: its own width). Jupyter
// shows GIFs as HTML images, so they play in the notebook and its HTML export.
func GIF(raw []byte, widthPx int) {
	width := ""
	if widthPx > 0 {
		width = fmt.Sprintf(` width="%d"`, widthPx)
	}
	HTML(fmt.Sprintf(`<img%s src="data:image/gif;base64,%s">`, width, base64.StdEncoding.EncodeToString(raw)))
}

// Sequences shows examples of a data set (data, samples, reconstructions or
// continuations, each d.Shape.Size() values) as experiments.RenderExamples
// draws them in the format of the extension format: ".png" (a frame strip,
// one sequence per row; series as panels) or ".gif" (an animation).
func Sequences(d data.Description, examples [][]float32, format string) error {
	raw, err := experiments.RenderExamples(d, examples, format)
	if err != nil {
		return err
	}
	if strings.EqualFold(filepath.Ext(format), ".gif") {
		GIF(raw, 0)
	} else {
		PNG(raw, 0, "")
	}
	return nil
}
