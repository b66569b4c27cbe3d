import gc

from shared.gc_tuning import THRESHOLDS, tune_garbage_collector


def test_tuning_freezes_start_up_objects_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        tune_garbage_collector()
        assert gc.get_threshold() == THRESHOLDS == (500_000, 20, 100)
        assert gc.get_freeze_count() > 1_000  # at least the imported modules' objects
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
