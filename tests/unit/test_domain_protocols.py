"""The resources satisfy the Protocols the domain declares for them (README "Architecture: floors").

The domain never imports a resource, so nothing but this test notices when a resource drops or renames a method
the domain calls: the first sign would be an AttributeError halfway through a run.
"""

from __future__ import annotations

import inspect

import pytest

from clipped.faces.windows import FaceDetector
from clipped.render.clip_set import ClipEncoder
from clipped.storage import Storage
from clipped_resources.render_options import RenderOptions
from clipped_resources.s3_storage import S3Storage
from clipped_resources.storage import LocalStorage
from clipped_resources.vision import RetinaFaceVision


def unmet(protocol: type, implementation: type) -> list[str]:
    """The protocol's members that ``implementation`` lacks, or offers without a parameter the domain passes."""
    problems = []
    for name, member in vars(protocol).items():
        if name.startswith("_"):
            continue
        offered = inspect.getattr_static(implementation, name, None)
        if offered is None and name not in getattr(implementation, "model_fields", {}):
            problems.append(f"{name} is missing")
        elif inspect.isfunction(member):
            if not callable(offered):
                problems.append(f"{name} is not a method")
                continue
            have = inspect.signature(offered).parameters
            problems += [f"{name}() takes no {p!r}" for p in inspect.signature(member).parameters if p not in have]
    return problems


@pytest.mark.parametrize(
    ("protocol", "implementation"),
    [
        (Storage, LocalStorage),
        (Storage, S3Storage),
        (ClipEncoder, RenderOptions),
        (FaceDetector, RetinaFaceVision),
    ],
)
def test_each_resource_offers_what_the_domain_declares(protocol: type, implementation: type) -> None:
    assert unmet(protocol, implementation) == []


def test_the_check_notices_a_missing_method_or_parameter() -> None:
    class HalfAStorage:
        def exists(self, key: str) -> bool:
            return False

        def read_bytes(self, name: str) -> bytes:  # the domain passes key=
            return b""

    problems = unmet(Storage, HalfAStorage)
    assert "read_bytes() takes no 'key'" in problems
    assert "write_bytes is missing" in problems
    assert not any(problem.startswith("exists") for problem in problems)
