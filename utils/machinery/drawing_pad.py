"""A drawing pad under a trained model: draw a digit with the mouse (or a finger), and after each stroke see what the
model sees (the prepared 28×28 image) and its top answers as bars. Notebook 05 shows it; any notebook can:

    from utils.machinery.drawing_pad import drawing_pad
    drawing_pad(checkpoint)          # a checkpoints.Checkpoint, e.g. workflow.load_or_train("cnn", "mnist")

The canvas is an anywidget: its few lines of JavaScript are in this file and anywidget's own front end ships in its
Python wheel, so JupyterLab and Notebook 7 show it offline. Colab shows it once its custom widget manager is on
(done here). A front end that cannot load it (VS Code offline fetches widget code from the network) shows the line
that says so and the upload button beside it, which every front end renders: an uploaded image takes the same path.
The prediction itself is ``predict.predict_image``, the lesson of notebook 05; this module only wires it to widgets.
"""

from __future__ import annotations

import base64
import html
import io
import sys
import tempfile
from pathlib import Path

import anywidget
import ipywidgets as widgets
import traitlets
from PIL import Image

from utils import predict
from utils.checkpoints import Checkpoint
from utils.datasets import DATASETS
from utils.guards.image_files import ImageProblem, load_image

_ESM = """
function render({ model, el }) {
  const size = model.get("size");
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.className = "course-pad";
  canvas.style.cssText = `width:${size}px;height:${size}px;border:1px solid #888;touch-action:none;cursor:crosshair`;
  const pen = canvas.getContext("2d");
  const clear = () => { pen.fillStyle = "#fff"; pen.fillRect(0, 0, size, size); };
  clear();
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.strokeStyle = "#000";
  pen.fillStyle = "#000";
  let last = null;
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * size / box.width, (event.clientY - box.top) * size / box.height];
  };
  const stroke = (to) => {
    pen.lineWidth = model.get("pen");
    pen.beginPath();
    pen.moveTo(...last);
    pen.lineTo(...to);
    pen.stroke();
    last = to;
  };
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = at(event);
    stroke(last);
  });
  canvas.addEventListener("pointermove", (event) => { if (last) stroke(at(event)); });
  const finish = () => {
    if (!last) return;
    last = null;
    model.set("drawing", canvas.toDataURL("image/png"));  // after each stroke: the kernel predicts
    model.save_changes();
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  const button = document.createElement("button");
  button.textContent = "clear";
  button.className = "course-pad-clear";
  button.addEventListener("click", () => { clear(); model.set("drawing", ""); model.save_changes(); });
  el.append(canvas, document.createElement("br"), button);
  model.set("rendered", true);  // the kernel hides the line that says the pad cannot be shown
  model.save_changes();
}
export default { render };
"""


class Canvas(anywidget.AnyWidget):
    """The canvas: white, drawn on in black; ``drawing`` is the PNG after the last stroke ("" once cleared)."""

    _esm = _ESM
    drawing = traitlets.Unicode("").tag(sync=True)
    rendered = traitlets.Bool(False).tag(sync=True)
    size = traitlets.Int(280).tag(sync=True)
    pen = traitlets.Int(22).tag(sync=True)


NO_PAD = (
    "No drawing box above? This front end cannot show the pad (VS Code without internet, or a viewer without "
    "widgets): upload a picture instead."
)


class DrawingPad(widgets.HBox):
    """The canvas and an upload button on the left; what the model sees and its top ``k`` answers on the right."""

    def __init__(self, checkpoint: Checkpoint, k: int = 3) -> None:
        self.checkpoint, self.k = checkpoint, k
        self.canvas = Canvas()
        self.hint = widgets.HTML(f"<small>{NO_PAD}</small>")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload")
        self.seen = widgets.Image(format="png", width=112, height=112)
        self.answer = widgets.HTML(_message(_prompt(checkpoint)))
        self.canvas.observe(self._on_drawing, "drawing")
        self.canvas.observe(lambda change: setattr(self.hint.layout, "display", "none"), "rendered")
        self.upload.observe(self._on_upload, "value")
        left = widgets.VBox([self.canvas, self.hint, self.upload])
        right = widgets.VBox(
            [widgets.HTML("<b>what the model sees</b>"), self.seen, self.answer], layout=widgets.Layout(margin="0 24px")
        )
        super().__init__([left, right])

    def __repr__(self) -> str:  # what a page without widgets shows (the course website, a code host)
        return (
            f"[the drawing pad for {self.checkpoint.model_name} on {self.checkpoint.dataset}: run the notebook in "
            "JupyterLab, Notebook 7 or Colab to draw on it]"
        )

    def show(self, image: Image.Image) -> list[tuple[str, float]]:
        """Predict ``image`` as ``predict.predict_image`` does and show the prepared image and the answers."""
        try:
            ranked, steps = predict.predict_image(image, self.checkpoint, self.k)
        except ImageProblem as problem:
            self.answer.value = _message(str(problem))
            return []
        self.seen.value = _png(steps["centred in 28×28"])
        self.answer.value = _bars(ranked)
        return ranked

    def _on_drawing(self, change) -> None:
        if not change["new"]:
            self.seen.value, self.answer.value = b"", _message(_prompt(self.checkpoint))
            return
        try:  # a PNG as a data URL, from the pad's own script
            image = Image.open(io.BytesIO(base64.b64decode(change["new"].split(",", 1)[1], validate=True)))
            image.load()
        except (IndexError, ValueError, OSError):  # no comma, not base64, not an image PIL reads
            self.answer.value = _message("The pad sent something that is not a picture: press clear and draw again.")
            return
        self.show(image)

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        upload = files[0] if isinstance(files, (tuple, list)) else next(iter(files.values()))  # ipywidgets 8, 7
        name = str(upload.get("name", "the file"))
        with tempfile.TemporaryDirectory() as folder:  # opened as any image file is: load_image's checks
            path = Path(folder) / f"upload{Path(name).suffix[:10]}"
            path.write_bytes(bytes(upload["content"]))
            try:
                image = load_image(path)
            except ImageProblem as problem:
                self.answer.value = _message(str(problem).replace(str(path), name))
                return
        self.show(image)


def drawing_pad(checkpoint: Checkpoint, k: int = 3) -> DrawingPad:
    """A drawing pad that shows ``checkpoint``'s top ``k`` answers after each stroke (display it: last in a cell)."""
    if "google.colab" in sys.modules:  # Colab draws third-party widgets only with its custom widget manager
        from google.colab import output

        output.enable_custom_widget_manager()
    return DrawingPad(checkpoint, k)


def _prompt(checkpoint: Checkpoint) -> str:
    return f"Draw {DATASETS[checkpoint.dataset].one_item} in the box."


def _png(pixels, scale: int = 4) -> bytes:
    """A grayscale array in [0, 1] as PNG bytes, each pixel drawn ``scale`` × ``scale`` so it can be seen."""
    image = Image.fromarray((pixels.clip(0, 1) * 255).astype("uint8"))
    buffer = io.BytesIO()
    image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST).save(buffer, "PNG")
    return buffer.getvalue()


def _message(text: str) -> str:
    return f'<div class="course-message">{html.escape(text)}</div>'


def _bars(ranked: list[tuple[str, float]]) -> str:
    """The answers as bars, the top one also in large type (``course-top``: the browser test reads it)."""
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:8px"><span style="width:7em">{html.escape(name)}</span>'
        f'<span style="display:inline-block;height:14px;width:{probability * 160:.0f}px;background:#4c72b0"></span>'
        f"<span>{probability:.1%}</span></div>"
        for name, probability in ranked
    )
    return f'<div class="course-top" style="font-size:2.5em">{html.escape(ranked[0][0])}</div>{rows}'
