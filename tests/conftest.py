"""Shared by every pytest file of tests/ (tests/python, tests/cluster).

The options below are how CTest (tests/CMakeLists.txt, espcn_add_pytest) tells
a test file where the built tools are; a test needing one that was not given
skips, saying which. A run whose every test skipped exits 77, CTest's
SKIP_RETURN_CODE, so that CTest reports it as skipped rather than passed.
"""
import pytest

# option: what it names
OPTIONS = {
    "--cli": "espcn-cli",
    "--eval": "espcn-eval",
    "--make-model": "espcn-make-model",
    "--weights-dir": "the repository's weights/ folder",
    "--fixture": "tests/data/deconv_fixture/fixture.json",
    "--torch-python": "a python that imports torch (empty: none)",
    "--train-python": "a python that imports torch, numpy and PIL (weights/train/train.py)",
    "--ffmpeg": "an ffmpeg with the espcn filter",
    "--ffprobe": "its ffprobe",
    "--csv": "a bench/results CSV",
}


def pytest_addoption(parser):
    for name, what in OPTIONS.items():
        parser.addoption(name, default=None, help=what)


@pytest.fixture(scope="session")
def option(request):
    """option("--cli"): the value given, or the test skips naming the option."""

    def get(name, required=True):
        value = request.config.getoption(name)
        if value is None and required:
            pytest.skip(f"{name} ({OPTIONS[name]}) not given")
        return value

    return get


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if exitstatus == 0 and reporter is not None:
        stats = reporter.stats
        if stats.get("skipped") and not stats.get("passed"):
            session.exitstatus = 77
