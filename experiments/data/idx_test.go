package data

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
)

// TestIDXCorruption builds small IDX files of 3 examples, damaged in one way
// each, and checks that the reader names the file and the damage.
func TestIDXCorruption(t *testing.T) {
	const n = 3
	pixels := make([]byte, n*28*28)
	for i := range pixels {
		pixels[i] = byte(i * 7)
	}
	images := encodeIDX(idxImagesMagic, []int{n, 28, 28}, pixels)
	labels := encodeIDX(idxLabelsMagic, []int{n}, []byte{5, 0, 9})

	gzImages := gzipBytes(t, images)
	badCRC := bytes.Clone(gzImages)
	badCRC[len(badCRC)-8] ^= 0xff // The gzip trailer: CRC-32 then length.

	tests := []struct {
		name    string
		labels  bool   // Read as a label file, else as an image file.
		content []byte // The file.
		want    string // Substring of the error after "path: "; "" for success.
	}{
		{"plain images", false, images, ""},
		{"gzip images", false, gzImages, ""},
		{"plain labels", true, labels, ""},
		{"gzip labels", true, gzipBytes(t, labels), ""},
		{"empty file", false, nil, "too short for an IDX image header: 0 of 16 bytes"},
		{"short header", true, labels[:6], "too short for an IDX label header: 6 of 8 bytes"},
		{"bad magic", false, encodeIDX(idxLabelsMagic, []int{n, 28, 28}, pixels),
			"bad magic number 2049 (0x00000801), want 2051 (0x00000803) for an IDX image file"},
		{"labels magic", true, encodeIDX(idxImagesMagic, []int{n}, []byte{1, 2, 3}),
			"bad magic number 2051 (0x00000803), want 2049 (0x00000801) for an IDX label file"},
		{"image count", false, encodeIDX(idxImagesMagic, []int{n + 1, 28, 28}, pixels), "header says 4 images, want 3"},
		{"label count", true, encodeIDX(idxLabelsMagic, []int{n - 1}, []byte{1, 2}), "header says 2 labels, want 3"},
		{"dimensions", false, encodeIDX(idxImagesMagic, []int{n, 27, 28}, pixels[:n*27*28]),
			"header says images are 27×28, want 28×28"},
		{"short data", false, images[:16+2000], "short data: 2000 of 2352 bytes for 3 images (truncated file?)"},
		{"short data gzip", false, gzipBytes(t, images[:16+2000]), "short data: 2000 of 2352 bytes for 3 images"},
		{"short labels", true, labels[:10], "short data: 2 of 3 bytes for 3 labels"},
		{"trailing bytes", false, append(bytes.Clone(images), 0), "trailing bytes after 3 images"},
		{"trailing bytes gzip", true, gzipBytes(t, append(bytes.Clone(labels), 1, 2)), "trailing bytes after 3 labels"},
		{"bad gzip header", false, []byte{0x1f, 0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "bad gzip header"},
		{"truncated gzip", false, gzImages[:len(gzImages)/2], "truncated gzip stream"},
		{"gzip checksum", false, badCRC, "bad gzip data after 2368 decoded bytes: gzip: invalid checksum"},
		{"garbage after gzip", true, append(gzipBytes(t, labels), 'x', 'y'), "bad end of gzip stream after all 3 labels"},
		{"long garbage after gzip", true, append(gzipBytes(t, labels), make([]byte, 20)...), "bad end of gzip stream after all 3 labels"},
		{"gzip trailer cut", true, func() []byte { b := gzipBytes(t, labels); return b[:len(b)-3] }(), "bad end of gzip stream"},
		{"label out of range", true, encodeIDX(idxLabelsMagic, []int{n}, []byte{5, 11, 9}),
			"label 11 at index 1 out of range 0..9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "file-idx.gz")
			writeFile(t, path, tc.content)
			var got []byte
			var err error
			if tc.labels {
				got, err = idxLabels(path, n)
			} else {
				got, err = idxImages(path, n, 28, 28)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				want := pixels
				if tc.labels {
					want = []byte{5, 0, 9}
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("content differs: got %d bytes", len(got))
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q, want %q prefixed by the path", msg, tc.want)
			}
		})
	}
}

// TestIDXMissingFile checks that a missing file's error names it.
func TestIDXMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.gz")
	if _, err := idxLabels(path, 3); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v does not name %s", err, path)
	}
}

// TestIDXHugeCountAllocatesNothing checks that a header claiming 2³²-1 images
// is refused from the header alone.
func TestIDXHugeCountAllocatesNothing(t *testing.T) {
	hdr := binary.BigEndian.AppendUint32(nil, idxImagesMagic)
	hdr = binary.BigEndian.AppendUint32(hdr, 0xffffffff)
	hdr = binary.BigEndian.AppendUint32(hdr, 28)
	hdr = binary.BigEndian.AppendUint32(hdr, 28)
	path := filepath.Join(t.TempDir(), "huge")
	writeFile(t, path, hdr)
	_, err := idxImages(path, 3, 28, 28)
	if err == nil || !strings.Contains(err.Error(), "header says 4294967295 images, want 3") {
		t.Fatalf("got %v", err)
	}
}
