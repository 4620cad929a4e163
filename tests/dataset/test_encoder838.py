"""The 8-3-8 encoder patterns."""

from __future__ import annotations

import numpy as np

from src.dataset.encoder838 import encoder838


def test_encoder838_is_eight_one_hot_rows_labelled_by_position():
    data = encoder838()
    np.testing.assert_array_equal(data.x_train, np.eye(8))
    assert data.y_train.tolist() == list(range(8)) and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.x_test, data.x_train)
    np.testing.assert_array_equal(data.y_test, data.y_train)
    # One-hot targets of the labels are the inputs, so MSE on them means reconstruction.
    np.testing.assert_array_equal(np.eye(8)[data.y_train], data.x_train)
    assert data.n_classes == 8 and data.input_shape == (8,) and data.target_accuracy == 1.0


def test_encoder838_splits_are_independent_copies():
    data = encoder838(limit_train=3)
    assert len(data.x_train) == 3 and len(data.x_test) == 8
    data.x_train[0, 0] = 5.0
    assert data.x_test[0, 0] == 1.0
