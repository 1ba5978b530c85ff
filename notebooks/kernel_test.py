#!/usr/bin/python3
"""Drives the gonb kernel as a Jupyter client would, over the messaging protocol.

    JUPYTER_DATA_DIR=... /usr/bin/python3 notebooks/kernel_test.py [-v]

The stock conformance tests of jupyter_kernel_test (Debian's
python3-jupyter-kernel-test) — kernel_info, stdout, stderr, display_data in
HTML, Markdown and PNG, inspect — plus vaexp's own: a cell that imports vaexp
packages and displays a PNG of MNIST-shaped images, code completion of a
project function (served by gopls), and a failing cell reported as an error.
GoNB implements neither is_complete nor history, so those samples stay empty.
The kernel's own log goes to $VAEXP_KERNEL_LOG (default /tmp/vaexp-kernel-test.log).
"""
import base64
import os
import queue
import time
import unittest

import jupyter_kernel_test as jkt
from jupyter_client.manager import start_new_kernel

# A cell's first compile links gomlx and the project: minutes on a cold cache.
SLOW = int(os.environ.get("VAEXP_CELL_TIMEOUT", "900"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# How long after a cell's "idle" status its late outputs are still collected.
LATE_OUTPUT_GRACE = 2.0


class GonbKernelTests(jkt.KernelTests):
    kernel_name = "gonb"
    language_name = "go"
    file_extension = ".go"

    code_hello_world = '%%\nfmt.Println("hello, world")'
    code_stderr = '%%\nfmt.Fprintln(os.Stderr, "to stderr")'
    code_display_data = [
        {"code": '%%\ngonbui.DisplayHTML("<b>bold</b>")', "mime": "text/html"},
        {"code": '%%\ngonbui.DisplayMarkdown("*md*")', "mime": "text/markdown"},
    ]
    code_inspect_sample = "strings.ToUpper"

    @classmethod
    def setUpClass(cls):
        cls.log = open(os.environ.get("VAEXP_KERNEL_LOG", "/tmp/vaexp-kernel-test.log"), "w")
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, startup_timeout=120, stderr=cls.log, stdout=cls.log)
        # As every vaexp notebook does: package versions come from the project's go.mod.
        reply = cls.kc.execute_interactive("%noautoget", timeout=SLOW)
        assert reply["content"]["status"] == "ok", reply

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.log.close()

    def execute_helper(self, code, timeout=SLOW, **kw):
        reply, output_msgs = super().execute_helper(code, timeout=timeout, **kw)
        # GoNB forwards a cell's displays (gonbui writes them to a pipe) on its
        # own goroutine, and one can reach iopub just after the cell's "idle"
        # status. A Jupyter front-end renders such a late display_data all the
        # same, so collect this cell's messages for a moment longer, as it would.
        msg_id = reply["parent_header"]["msg_id"]
        deadline = time.monotonic() + LATE_OUTPUT_GRACE
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] not in ("status", "execute_input"):
                output_msgs.append(msg)
        return reply, output_msgs

    def test_vaexp_png(self):
        """A cell importing vaexp packages displays a PNG made by plots."""
        self.flush_channels()
        code = """import (
	"github.com/janpfeifer/gonb/gonbui"
	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

%%
sh := vae.Shape{Height: 28, Width: 28, Channels: 1} // MNIST-shaped
imgs := make([][]float32, 4)
for i := range imgs {
	imgs[i] = make([]float32, sh.Size())
	for p := i; p < sh.Size(); p += 5 {
		imgs[i][p] = 1
	}
}
grid, err := plots.ImageGrid(imgs, sh.Height, sh.Width, 4, plots.GridOptions{Scale: 2})
if err != nil {
	panic(err)
}
png, err := plots.EncodePNG(grid)
if err != nil {
	panic(err)
}
gonbui.DisplayPng(png)
fmt.Println("families:", len(variants.Names()))
"""
        reply, msgs = self.execute_helper(code)
        self.assertEqual(reply["content"]["status"], "ok", msgs)
        pngs = [base64.b64decode(m["content"]["data"]["image/png"]) for m in msgs
                if m["msg_type"] == "display_data" and "image/png" in m["content"]["data"]]
        self.assertEqual(len(pngs), 1, msgs)
        self.assertTrue(pngs[0].startswith(PNG_MAGIC))
        # 4 images of 28x28 at scale 2 side by side: the IHDR width is at bytes 16..20.
        self.assertGreaterEqual(int.from_bytes(pngs[0][16:20], "big"), 4 * 28 * 2)
        stdout = "".join(m["content"]["text"] for m in msgs
                         if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")
        self.assertRegex(stdout, r"families: [1-9]")

    def test_vaexp_completion(self):
        """gopls completes a project function inside a cell."""
        self.flush_channels()
        code = 'import "github.com/vaexp/vaexp/variants"\n\n%%\nvariants.Nam'
        msg_id = self.kc.complete(code, len(code))
        reply = self.get_non_kernel_info_reply(timeout=SLOW)
        jkt.validate_message(reply, "complete_reply", msg_id)
        self.assertIn("Names", reply["content"]["matches"])

    def test_cell_error(self):
        """A cell that panics ends in an error reply and an error output."""
        self.flush_channels()
        reply, msgs = self.execute_helper('%%\npanic("deliberate")')
        self.assertEqual(reply["content"]["status"], "error")
        self.assertIn("error", [m["msg_type"] for m in msgs])
        stderr = "".join(m["content"]["text"] for m in msgs
                         if m["msg_type"] == "stream" and m["content"]["name"] == "stderr")
        self.assertIn("deliberate", stderr)


if __name__ == "__main__":
    unittest.main()
