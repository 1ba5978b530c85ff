package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// Image is one example's values in [0, 1], row-major with channels last
// (Height·Width·Channels), the layout of every vaexp image data set.
type Image struct {
	Pix                     []float32
	Height, Width, Channels int
}

// check reports an image whose values do not fill its shape.
func (im Image) check() error {
	if im.Height < 1 || im.Width < 1 || im.Channels < 1 || len(im.Pix) != im.Height*im.Width*im.Channels {
		return fmt.Errorf("image of %d values is not %d×%d×%d", len(im.Pix), im.Height, im.Width, im.Channels)
	}
	return nil
}

// at is the value at (y, x, c), 0 outside the image (the black background).
func (im Image) at(y, x, c int) float32 {
	if y < 0 || y >= im.Height || x < 0 || x >= im.Width {
		return 0
	}
	return im.Pix[(y*im.Width+x)*im.Channels+c]
}

// Corruption is a change made to test images to see whether a model's
// anomaly score notices it. Apply returns a corrupted copy (values clipped to
// [0, 1]); rng draws what is random (it may be nil for deterministic ones).
type Corruption struct {
	// Name is the case's name in metric keys ("noise", "occlusion", "rotation").
	Name string
	// Settings say exactly what the corruption does ("sigma": "0.2").
	Settings map[string]string
	apply    func(im Image, rng *rand.Rand) []float32
}

// Apply returns a corrupted copy of im.
func (c Corruption) Apply(im Image, rng *rand.Rand) ([]float32, error) {
	if err := im.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	return c.apply(im, rng), nil
}

// DefaultCorruptions are the cases the anomaly metric scores: Gaussian noise
// of σ = 0.2, a black square of a third of the side over the centre of mass
// (part of the digit erased), and a 90° rotation.
func DefaultCorruptions() []Corruption {
	return []Corruption{GaussianNoise(0.2), Occlusion(1.0 / 3), Rotation(90)}
}

// GaussianNoise adds N(0, σ²) noise to every value independently, then clips to [0, 1].
func GaussianNoise(sigma float64) Corruption {
	return Corruption{Name: "noise", Settings: map[string]string{"sigma": fmtFloat(sigma)},
		apply: func(im Image, rng *rand.Rand) []float32 {
			out := make([]float32, len(im.Pix))
			for i, v := range im.Pix {
				out[i] = clip01(float64(v) + sigma*rng.NormFloat64())
			}
			return out
		}}
}

// Occlusion sets to 0 a square of side round(frac·min(Height, Width))
// centred (as nearly as the pixel grid allows, kept inside the image) on the
// image's centre of mass: the object's middle is erased, wherever it is. An
// empty image is occluded at its centre.
func Occlusion(frac float64) Corruption {
	return Corruption{Name: "occlusion", Settings: map[string]string{"side": fmtFloat(frac), "fill": "0", "at": "centre-of-mass"},
		apply: func(im Image, _ *rand.Rand) []float32 {
			out := append([]float32(nil), im.Pix...)
			y0, x0, side := OcclusionSquare(im, frac)
			for y := y0; y < y0+side; y++ {
				for x := x0; x < x0+side; x++ {
					for c := range im.Channels {
						out[(y*im.Width+x)*im.Channels+c] = 0
					}
				}
			}
			return out
		}}
}

// OcclusionSquare returns the top-left corner and side of the square
// [Occlusion] blanks in im.
func OcclusionSquare(im Image, frac float64) (y0, x0, side int) {
	side = max(1, min(int(math.Round(frac*float64(min(im.Height, im.Width)))), min(im.Height, im.Width)))
	var mass, my, mx float64
	for y := range im.Height {
		for x := range im.Width {
			for c := range im.Channels {
				v := float64(im.at(y, x, c))
				mass += v
				my += v * (float64(y) + 0.5)
				mx += v * (float64(x) + 0.5)
			}
		}
	}
	cy, cx := float64(im.Height)/2, float64(im.Width)/2
	if mass > 0 {
		cy, cx = my/mass, mx/mass
	}
	y0 = min(max(int(math.Round(cy-float64(side)/2)), 0), im.Height-side)
	x0 = min(max(int(math.Round(cx-float64(side)/2)), 0), im.Width-side)
	return y0, x0, side
}

// Rotation turns the image counter-clockwise by degrees about its centre,
// with bilinear interpolation; what comes in from outside the image is black.
// Multiples of 90° on a square image move pixels exactly.
func Rotation(degrees float64) Corruption {
	return Corruption{Name: "rotation", Settings: map[string]string{"degrees": fmtFloat(degrees)},
		apply: func(im Image, _ *rand.Rand) []float32 {
			out := make([]float32, len(im.Pix))
			sin, cos := math.Sincos(degrees * math.Pi / 180)
			// Round so that multiples of 90° map pixel centres exactly onto pixel centres.
			sin, cos = math.Round(sin*1e12)/1e12, math.Round(cos*1e12)/1e12
			cy, cx := float64(im.Height-1)/2, float64(im.Width-1)/2
			for y := range im.Height {
				for x := range im.Width {
					// The source of output pixel (y, x): rotate it back by −θ.
					// Rows grow downwards, so counter-clockwise on screen flips the sign of dy.
					dx, dy := float64(x)-cx, cy-float64(y)
					sx := cx + cos*dx + sin*dy
					sy := cy - (-sin*dx + cos*dy)
					for c := range im.Channels {
						out[(y*im.Width+x)*im.Channels+c] = bilinear(im, sy, sx, c)
					}
				}
			}
			return out
		}}
}

// bilinear interpolates channel c of im at the real position (y, x).
func bilinear(im Image, y, x float64, c int) float32 {
	y0, x0 := math.Floor(y), math.Floor(x)
	fy, fx := y-y0, x-x0
	iy, ix := int(y0), int(x0)
	v := (1-fy)*((1-fx)*float64(im.at(iy, ix, c))+fx*float64(im.at(iy, ix+1, c))) +
		fy*((1-fx)*float64(im.at(iy+1, ix, c))+fx*float64(im.at(iy+1, ix+1, c)))
	return clip01(v)
}

func clip01(v float64) float32 { return float32(min(max(v, 0), 1)) }

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
