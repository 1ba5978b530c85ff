package data

// The IDX format of LeCun's MNIST distribution is a big-endian header (a magic
// number 0x000008DD: unsigned bytes, DD dimensions; then DD uint32 sizes: 16
// bytes for images, 8 for labels) followed by the raw bytes. No maintained Go
// library reads it (GoMNIST dates from 2015 and trusts its input), and it is
// small enough to read by hand, checking every field, so a truncated or
// corrupt download is reported instead of silently training on garbage.

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

const (
	idxImagesMagic = 2051 // 0x00000803: unsigned bytes, 3 dimensions (n, rows, cols).
	idxLabelsMagic = 2049 // 0x00000801: unsigned bytes, 1 dimension (n).

	mnistSide = 28 // MNIST images are 28×28.
)

// idxImages reads an IDX image file (gzip'd or plain, told apart by content)
// that must hold exactly wantN images of wantH×wantW pixels.
func idxImages(path string, wantN, wantH, wantW int) ([]uint8, error) {
	return readIDX(path, idxImagesMagic, "image", []int{wantN, wantH, wantW})
}

// idxLabels reads an IDX label file that must hold exactly wantN labels, each in 0..9.
func idxLabels(path string, wantN int) ([]uint8, error) {
	labels, err := readIDX(path, idxLabelsMagic, "label", []int{wantN})
	if err != nil {
		return nil, err
	}
	if i, bad := badLabel(labels); i >= 0 {
		return nil, fmt.Errorf("%s: label %d at index %d out of range 0..9", path, bad, i)
	}
	return labels, nil
}

// badLabel returns the index and value of the first label above 9, or -1.
func badLabel(labels []uint8) (int, uint8) {
	for i, l := range labels {
		if l > 9 {
			return i, l
		}
	}
	return -1, 0
}

// readIDX reads the IDX file at path and returns its data bytes after checking
// the magic number and that the header sizes equal want (count first). The
// sizes are checked before anything is allocated, so a corrupt header cannot
// ask for gigabytes.
func readIDX(path string, magic uint32, what string, want []int) ([]uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the path.
	}
	defer f.Close()

	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	gz := false
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: bad gzip header: %v", path, err)
		}
		defer zr.Close()
		r, gz = zr, true
	}
	// streamErr describes a read error that is not a clean end of data: with
	// gzip that is a corrupt or truncated stream, otherwise an I/O error.
	streamErr := func(err error, at int64) error {
		if gz {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%s: truncated gzip stream (%d bytes decoded): %v", path, at, err)
			}
			return fmt.Errorf("%s: bad gzip data after %d decoded bytes: %v", path, at, err)
		}
		return fmt.Errorf("%s: read: %v", path, err)
	}

	hdrLen := 4 + 4*len(want)
	hdr := make([]byte, hdrLen)
	if n, err := readFull(r, hdr); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%s: too short for an IDX %s header: %d of %d bytes", path, what, n, hdrLen)
		}
		return nil, streamErr(err, int64(n))
	}
	if got := binary.BigEndian.Uint32(hdr); got != magic {
		return nil, fmt.Errorf("%s: bad magic number %d (0x%08x), want %d (0x%08x) for an IDX %s file",
			path, got, got, magic, magic, what)
	}
	size := 1
	for i, w := range want {
		got := int(binary.BigEndian.Uint32(hdr[4+4*i:]))
		if got != w {
			if i == 0 {
				return nil, fmt.Errorf("%s: header says %d %ss, want %d", path, got, what, w)
			}
			return nil, fmt.Errorf("%s: header says %ss are %d×%d, want %d×%d", path, what,
				binary.BigEndian.Uint32(hdr[8:]), binary.BigEndian.Uint32(hdr[12:]), want[1], want[2])
		}
		size *= w
	}

	buf := make([]byte, size)
	n, err := readFull(r, buf)
	if err == io.EOF {
		return nil, fmt.Errorf("%s: short data: %d of %d bytes for %d %ss (truncated file?)", path, n, size, want[0], what)
	}
	if err != nil {
		return nil, streamErr(err, int64(hdrLen+n))
	}
	// Read past the end: this finds trailing bytes and, for gzip, makes the
	// reader verify the stream's CRC-32 and length, which it does only at EOF.
	var extra [1]byte
	if n, err := readFull(r, extra[:]); n > 0 {
		return nil, fmt.Errorf("%s: trailing bytes after %d %ss (data longer than the header says)", path, want[0], what)
	} else if err != io.EOF {
		if gz && !errors.Is(err, gzip.ErrChecksum) {
			// All the data decoded, but the 8-byte gzip trailer is cut short
			// or bytes that are no gzip stream follow it.
			return nil, fmt.Errorf("%s: bad end of gzip stream after all %d %ss (truncated trailer or trailing garbage): %v",
				path, want[0], what, err)
		}
		return nil, streamErr(err, int64(hdrLen+size))
	}
	return buf, nil
}

// readFull is io.ReadFull except that a clean end of data before buf is full
// returns io.EOF (with the count read), so a short but well-formed file is told
// apart from a broken gzip stream, which reports io.ErrUnexpectedEOF itself.
// An error that comes with the last bytes of buf is left to the next read
// (gzip.Reader repeats its error), so it is reported at the right stage.
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil && n < len(buf) {
			return n, err
		}
	}
	return n, nil
}
