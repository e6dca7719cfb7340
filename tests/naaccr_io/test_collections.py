"""An import runs the garbage collector less often, and leaves its settings as it found them."""
import gc
import threading

from registry.naaccr.intake import IMPORT_GC_THRESHOLD, fewer_collections


def test_threshold_raised_inside_and_restored_after():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == max(before[0], IMPORT_GC_THRESHOLD)
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before


def test_overlapping_imports_restore_the_original_once_the_last_ends():
    """A ends before B: the threshold stays raised for B, and returns to the original after B, not to A's."""
    before = gc.get_threshold()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with fewer_collections():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():
        a_in.wait(5)
        with fewer_collections():
            b_in.set()
            a_out.wait(5)
            seen["after a"] = gc.get_threshold()[0]

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen["after a"] == max(before[0], IMPORT_GC_THRESHOLD)
    assert gc.get_threshold() == before


def test_restored_when_the_import_fails():
    before = gc.get_threshold()
    try:
        with fewer_collections():
            raise RuntimeError("the import failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
