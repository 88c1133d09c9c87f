"""The ingress's garbage-collector settings (``WASTREAM_INGRESS_GC_GEN0``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ingress.app import tune_gc
from wastream.config import Settings


@pytest.fixture
def restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)
    gc.unfreeze()


def test_tune_gc_freezes_what_is_alive_and_raises_the_young_threshold(restore_gc: None) -> None:
    _, gen1, gen2 = gc.get_threshold()
    gc.unfreeze()
    tune_gc(Settings.from_env({}).ingress.gc_gen0)
    assert gc.get_threshold() == (20_000, gen1, gen2)
    assert gc.get_freeze_count() > 1000  # the modules and objects loaded so far


def test_gen0_zero_keeps_pythons_defaults(restore_gc: None) -> None:
    gc.set_threshold(700, 10, 10)
    gc.unfreeze()
    tune_gc(Settings.from_env({"WASTREAM_INGRESS_GC_GEN0": "0"}).ingress.gc_gen0)
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
