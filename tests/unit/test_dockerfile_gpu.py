"""deploy/Dockerfile.gpu read as a file (no Docker engine here): sources, bake step, offline env, user, command."""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from tests.support.dockerfile import dockerfile_instructions

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile.gpu"
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.gpu.dockerignore"
CPU_DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def instructions(path: Path) -> list[tuple[str, str]]:
    return dockerfile_instructions(path)


def env_settings(pairs: list[tuple[str, str]]) -> list[tuple[int, str, str]]:
    """(instruction index, name, value) for every ENV setting, in order."""
    settings = []
    for index, (instruction, arguments) in enumerate(pairs):
        if instruction == "ENV":
            for item in shlex.split(arguments):
                name, _, value = item.partition("=")
                settings.append((index, name, value))
    return settings


def build_args(pairs: list[tuple[str, str]]) -> dict[str, str]:
    return {
        name: shlex.split(value)[0] if value else ""
        for instruction, arguments in pairs
        if instruction == "ARG"
        for name, _, value in [arguments.partition("=")]
    }


PAIRS = instructions(DOCKERFILE)


def test_base_is_a_cuda_runtime_with_cudnn() -> None:
    assert PAIRS[0][0] == "FROM"
    assert re.fullmatch(r"nvidia/cuda:12\.\d+\.\d+-cudnn\d*-runtime-ubuntu22\.04", PAIRS[0][1])


def test_copy_sources_exist_and_are_not_ignored() -> None:
    ignored = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]
    copies = [shlex.split(arguments) for instruction, arguments in PAIRS if instruction == "COPY"]
    assert copies
    for parts in copies:
        assert not any(part.startswith("--from") for part in parts)
        for source in [part for part in parts[:-1] if not part.startswith("--")]:
            assert (ROOT / source).exists(), f"COPY source {source} is not in the repository"
            assert not any(fnmatch.fnmatch(source, pattern.rstrip("/")) for pattern in ignored), source


def test_the_gpu_extra_is_installed_and_exists() -> None:
    runs = [arguments for instruction, arguments in PAIRS if instruction == "RUN"]
    assert any('pip install ".[gpu]"' in run for run in runs)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(requirement.startswith("whisperx") for requirement in extras["gpu"])


def test_models_are_baked_with_network_then_the_image_runs_offline() -> None:
    bake = [i for i, (inst, args) in enumerate(PAIRS) if inst == "RUN" and "scripts/bake_models.py" in args]
    assert len(bake) == 1
    copy_script = [i for i, (inst, args) in enumerate(PAIRS) if inst == "COPY" and "scripts/bake_models.py" in args]
    assert copy_script and copy_script[0] < bake[0]
    env = {name: (index, value) for index, name, value in env_settings(PAIRS)}
    assert env["CLIPPED_MODEL_CACHE"][1] == "/models" and env["CLIPPED_MODEL_CACHE"][0] < bake[0]
    for cache in ("HF_HOME", "TORCH_HOME", "NLTK_DATA"):  # library caches land inside the baked folder
        assert env[cache][1].startswith("/models/") and env[cache][0] < bake[0]
    assert env["HF_HUB_OFFLINE"] == (env["HF_HUB_OFFLINE"][0], "1") and env["HF_HUB_OFFLINE"][0] > bake[0]
    assert env["CLIPPED_PROFILE"][1] == "prod" and env["CLIPPED_ASR_DEVICE"][1] == "cuda"
    assert "video" in env["NVIDIA_DRIVER_CAPABILITIES"][1].split(",")


def test_bake_command_parses_and_bakes_the_model_the_image_uses() -> None:
    run = next(args for inst, args in PAIRS if inst == "RUN" and "scripts/bake_models.py" in args)
    command = run.split("&&")[0]
    for name, default in build_args(PAIRS).items():
        command = command.replace("${" + name + "}", default)
    words = shlex.split(command)
    assert words[:2] == ["python", "scripts/bake_models.py"]
    spec = importlib.util.spec_from_file_location("bake_models", ROOT / "scripts" / "bake_models.py")
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    args = script.parse_args(words[2:])
    assert str(args.out) == "/models" and args.allow_download and not args.verify
    env = {name: value for _, name, value in env_settings(PAIRS)}
    assert env["CLIPPED_ASR_MODEL"] in args.whisper and "tiny.en" in args.whisper
    assert env["CLIPPED_ASR_BACKEND"] == "whisperx" and args.whisperx_align == ["en"]


def test_runs_as_a_non_root_user() -> None:
    users = [arguments for instruction, arguments in PAIRS if instruction == "USER"]
    assert users and users[-1] not in {"root", "0"} and users[-1].split(":")[0] != "0"
    last_user = max(i for i, (inst, _) in enumerate(PAIRS) if inst == "USER")
    assert not [args for inst, args in PAIRS[last_user:] if inst == "RUN"]  # nothing after it needs root


@pytest.mark.skipif(not CPU_DOCKERFILE.exists(), reason="deploy/Dockerfile not written yet")
def test_same_entrypoint_and_user_as_the_cpu_image() -> None:
    cpu = instructions(CPU_DOCKERFILE)
    for instruction in ("CMD", "USER", "EXPOSE", "WORKDIR"):
        assert [a for i, a in cpu if i == instruction][-1] == [a for i, a in PAIRS if i == instruction][-1]
