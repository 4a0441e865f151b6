import matplotlib.pyplot as plt
import pytest
import torch

from utils import plots


@pytest.mark.parametrize("title", ["Coat", "Coat\n→ Shirt (52%)"])
def test_grid_titles_clear_the_images_of_the_row_above(title):
    images = torch.rand(20, 1, 28, 28)
    fig = plots.image_grid(images, [title] * 20, ncols=10, size=1.5, suptitle="a grid")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = fig.axes
    for upper, lower in zip(axes[:10], axes[10:]):
        image_bottom = upper.get_window_extent(renderer).y0
        title_top = lower.title.get_window_extent(renderer).y1
        assert title_top <= image_bottom, f"a title {title!r} overlaps the image above it"
    plt.close(fig)
