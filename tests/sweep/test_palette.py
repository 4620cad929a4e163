"""The outcome colours stay apart for colour-blind readers, and a cell's text stays legible.

Colour vision deficiency is simulated with the matrices of Machado, Oliveira & Fernandes (2009)
at full severity, applied to linear RGB; distances are CIELAB ΔE*76 (about 2.3 is a just
noticeable difference; 20 is two colours no one confuses). Legibility is WCAG 2's contrast ratio.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from src.sweep.phase_map import COLORS
from src.sweep.plot import ink

VISION = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}  # fmt: skip
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                        [0.0193, 0.1192, 0.9505]])  # fmt: skip
WHITE = np.array([0.9505, 1.0, 1.089])  # D65


def linear_rgb(colour: str) -> np.ndarray:
    c = np.array(to_rgb(colour))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb: np.ndarray) -> np.ndarray:
    t = SRGB_TO_XYZ @ np.clip(rgb, 0, 1) / WHITE
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_apart(a: str, b: str, vision: str) -> float:
    """ΔE*76 between two colours as a reader with `vision` sees them."""
    m = VISION[vision]
    return float(np.linalg.norm(lab(m @ linear_rgb(a)) - lab(m @ linear_rgb(b))))


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio, 1 (none) to 21 (black on white)."""
    lum = sorted((SRGB_TO_XYZ[1] @ linear_rgb(c) for c in (a, b)), reverse=True)
    return (lum[0] + 0.05) / (lum[1] + 0.05)


def test_the_simulation_finds_what_it_should():
    # The classic trap: this green and red are far apart in normal vision, close for deuteranopes.
    green, red = "#2ca02c", "#d62728"
    assert seen_apart(green, red, "normal") > 60
    assert seen_apart(green, red, "deuteranopia") < 10
    assert contrast("#000000", "#ffffff") == pytest.approx(21)


@pytest.mark.parametrize("vision", VISION)
def test_every_pair_of_outcome_colours_stays_apart(vision):
    closest = min((seen_apart(COLORS[a], COLORS[b], vision), a, b)
                  for a, b in itertools.combinations(COLORS, 2))  # fmt: skip
    assert closest[0] >= 20, closest


@pytest.mark.parametrize("outcome", COLORS)
def test_a_cells_text_has_aa_contrast_on_its_colour(outcome):
    assert contrast(ink(SimpleNamespace(outcome=outcome)), COLORS[outcome]) >= 4.5
