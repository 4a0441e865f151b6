"""How the course compares two settings trained with several seeds: the mean difference and its 95 % interval."""

import math

import pytest
import scipy.stats

from utils.evaluation import paired_difference


def test_the_interval_is_the_mean_plus_or_minus_t_times_the_standard_error():
    difference = paired_difference([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])  # differences 1, 2, 3: mean 2, sd 1
    half_width = scipy.stats.t.ppf(0.975, df=2) / math.sqrt(3)
    assert (difference.mean, difference.seeds) == (2.0, 3)
    assert difference.low == pytest.approx(2.0 - half_width) and difference.high == pytest.approx(2.0 + half_width)
    assert round(scipy.stats.t.ppf(0.975, df=2), 2) == 4.30  # the 4.30 the docstring and notebook 03 quote


def test_an_interval_that_contains_zero_cannot_tell_the_settings_apart():
    assert paired_difference([0, 0, 0], [1, 2, 3]).verdict == "cannot tell apart with 3 seeds"
    assert paired_difference([0, 0, 0], [1.0, 1.1, 0.9]).verdict == "higher"
    assert paired_difference([1.0, 1.1, 0.9], [0, 0, 0]).verdict == "lower"


def test_more_seeds_narrow_the_interval_for_the_same_spread():
    three = paired_difference([0] * 3, [0.9, 1.0, 1.1])
    five = paired_difference([0] * 5, [0.9, 1.0, 1.1, 0.9, 1.1])
    assert five.high - five.low < three.high - three.low


def test_one_seed_has_no_interval():
    with pytest.raises(ValueError, match="at least 2 seeds"):
        paired_difference([0.9], [0.91])
