import os

import pytest
from hypothesis import HealthCheck, settings

from leadscore.plan._strategy import forced

collect_ignore = ["typing"]  # checked by mypy, not run

#: The test modules of the optional extras (leadscore.frame, leadscore.io's
#: tables, the command line): `nox -s tests_core` runs the suite with the core
#: alone and says so with LEADSCORE_CORE_ONLY=1. Anywhere else a missing extra
#: fails loudly rather than leaving its tests out.
collect_ignore_glob = (
    ["frame_support.py", "test_frame*.py", "test_io*.py", "test_cli*.py"]
    if os.environ.get("LEADSCORE_CORE_ONLY") == "1"
    else []
)

settings.register_profile("dev", max_examples=60, deadline=None)
# 150 examples (was 250): the suite grew by the columnar engines, the CLI and the
# engine's stateful tests, and CI must stay well under 30 minutes on 2 cores.
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="module", params=["auto", "general"])
def each_path(request):
    """Run a module's tests under the automatic paths, then forcing the general one.

    Module-scoped so that Hypothesis tests may use it. ``pytestmark =
    pytest.mark.usefixtures("each_path")`` in a module runs all of its laws on
    every path, not only on the one a drawn model's shape happens to select.
    """
    with forced(request.param):
        yield request.param
