"""Where a backbone's published weights come from, and how they are named in a set's provenance.

Order, for every backbone with published weights:

1. an explicit ``--weights FILE_OR_DIR``: a torch state dict file (provenance ``file:<sha256>``), or, for
   the Hugging Face backbones, a folder written by ``save_pretrained`` (``file:<sha256 of its files>``);
2. the usual caches: torch hub's ``<torch.hub.get_dir()>/checkpoints/<file>`` (``$TORCH_HOME/hub``,
   default ``~/.cache/torch/hub``) for torchvision and pytorchvideo checkpoints, and the Hugging Face
   hub cache (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, default ``~/.cache/huggingface/hub``);
3. the network, downloading into those same caches.

The provenance of published weights is ``pretrained:<file name or repo>@<sha256 prefix of the weights
file>``, so two different checkpoints never share an embedding set. ``resolve_*`` functions name the
weights without building a model; offline with nothing cached they raise WeightsUnavailable with one
line naming the file (or repo), the exact cache path to put it in, and the ``--weights`` and
``--random-init`` flags. Cache paths are read from the environment at call time (never from values a
library froze at import), so tests can point ``TORCH_HOME``/``HF_HOME`` elsewhere.

Hashes of large files are remembered per process (by path, size and modification time); a file in
the Hugging Face cache is stored under its own sha256 (a 64-hex blob name), which is used directly.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from embed.errors import WeightsUnavailable
from embed.weights import RANDOM_INIT, file_provenance, load_state_dict

HASH_CHARS = 16
HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


# --- caches -------------------------------------------------------------------------------------


def torch_checkpoints_dir() -> Path:
    """torch hub's checkpoint folder, ``torch.hub.get_dir()/checkpoints`` (honours ``TORCH_HOME``)."""
    hub = sys.modules.get("torch.hub")
    if hub is not None:
        return Path(hub.get_dir()) / "checkpoints"
    cache = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    home = os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(cache, "torch")))
    return Path(home) / "hub" / "checkpoints"


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache (``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ``~/.cache/huggingface/hub``)."""
    explicit = os.getenv("HF_HUB_CACHE") or os.getenv("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expanduser(os.path.expandvars(explicit)))
    cache = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    home = os.getenv("HF_HOME", os.path.join(cache, "huggingface"))
    return Path(os.path.expanduser(os.path.expandvars(home))) / "hub"


def sha256_prefix(path: Path) -> str:
    """The first ``HASH_CHARS`` hex digits of a file's sha256 (remembered per process)."""
    resolved = path.resolve()
    if _HEX64.match(resolved.name):  # a Hugging Face cache blob is named by its sha256
        return resolved.name[:HASH_CHARS]
    stat = resolved.stat()
    return _hash_file(str(resolved), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _hash_file(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()[:HASH_CHARS]


def _online(url: str, timeout_s: float = 5.0) -> str | None:
    """None when ``url``'s host answers on its port, else a short reason (no retries, no waiting around)."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 443), timeout=timeout_s):
            return None
    except OSError as exc:
        return f"offline: {exc.strerror or exc}"


def _unwrap(state: dict[str, Any]) -> dict[str, Any]:
    """The model's tensors from a checkpoint: ``model_state`` (pytorchvideo) unwrapped, our wrapper's ``net.`` prefix dropped."""
    if isinstance(state.get("model_state"), dict):
        state = state["model_state"]
    if state and all(isinstance(k, str) and k.startswith("net.") for k in state):
        state = {k[len("net."):]: v for k, v in state.items()}
    return state


def load_weights_file(module: Any, path: Path) -> None:
    """Load a state dict file strictly into ``module``; a wrong or corrupted file gives one clear line."""
    state = _unwrap(load_state_dict(path))
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = " ".join(str(exc).split())[:200]
        raise WeightsUnavailable(f"{path}: does not fit this backbone ({first}); pass the weights made for it") from exc


def _seeded(factory: Any) -> Any:
    """``factory()`` under torch seed 0 in a forked RNG, so an untrained model is reproducible."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(0)
        return factory()


# --- torch hub checkpoints (torchvision, pytorchvideo) -------------------------------------------


@dataclass(frozen=True)
class UrlCheckpoint:
    """A checkpoint published at ``url`` that torch hub caches as ``checkpoints/<file name>``."""

    url: str
    backbone: str

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    def cached(self) -> Path | None:
        path = torch_checkpoints_dir() / self.file_name
        return path if path.is_file() and path.stat().st_size > 0 else None

    def missing_message(self, reason: str) -> str:
        return (f"{self.backbone}: pretrained weights {self.file_name} not found ({reason}); put {self.file_name} "
                f"(from {self.url}) in {torch_checkpoints_dir()}/, or pass --weights FILE, or --random-init")

    def fetch(self) -> Path:
        """The cached checkpoint, downloading it into torch hub's cache when the network allows."""
        found = self.cached()
        if found is not None:
            return found
        reason = _online(self.url)
        if reason is not None:
            raise WeightsUnavailable(self.missing_message(reason))
        import torch.hub

        target = torch_checkpoints_dir() / self.file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        match = torch.hub.HASH_REGEX.search(self.file_name)  # torchvision names carry a sha256 prefix
        try:
            torch.hub.download_url_to_file(self.url, str(target), hash_prefix=match.group(1) if match else None, progress=True)
        except Exception as exc:  # noqa: BLE001 - any download failure becomes the one-line message
            raise WeightsUnavailable(self.missing_message(f"download failed: {' '.join(str(exc).split())[:120]}")) from exc
        return target

    def provenance(self, random_init: bool, weights_path: Path | None) -> str:
        if random_init:
            return RANDOM_INIT
        if weights_path is not None:
            if weights_path.is_dir():
                raise WeightsUnavailable(f"weights {weights_path}: a folder; {self.backbone} takes a state dict file "
                                         f"such as {self.file_name}", param="weights")
            return file_provenance(weights_path)
        return f"pretrained:{self.file_name}@{sha256_prefix(self.fetch())}"

    def status(self) -> str:
        found = self.cached()
        return f"found: {found}" if found else f"missing: put {self.file_name} in {torch_checkpoints_dir()} or pass --weights"

    def load(self, module: Any, random_init: bool, weights_path: Path | None) -> None:
        """Fill ``module`` from ``--weights``, else the cache (or the network); nothing for random init."""
        if random_init:
            return
        load_weights_file(module, weights_path if weights_path is not None else self.fetch())


# --- Hugging Face repos (transformers) -----------------------------------------------------------


@dataclass(frozen=True)
class HubRepo:
    """A Hugging Face model repo loaded with ``from_pretrained`` from a local folder.

    ``config`` holds the published model's config values (the untrained model is built from them);
    ``checked`` names those the backbone's spec relies on (model type, input size, frames, dim): a
    folder whose config differs is refused rather than silently fed the wrong input.
    """

    repo_id: str
    backbone: str
    model_type: str
    config: tuple[tuple[str, Any], ...]
    checked: tuple[str, ...]

    def cache_folder(self) -> Path:
        return hf_cache_dir() / f"models--{self.repo_id.replace('/', '--')}"

    def cached(self) -> Path | None:
        """The cached snapshot folder holding config.json and a weights file, or None."""
        from huggingface_hub import try_to_load_from_cache

        config = try_to_load_from_cache(self.repo_id, "config.json", cache_dir=str(hf_cache_dir()))
        if not isinstance(config, str):
            return None
        folder = Path(config).parent
        return folder if _weights_in(folder) is not None else None

    def missing_message(self, reason: str) -> str:
        return (f"{self.backbone}: pretrained weights {self.repo_id} not found ({reason}); put that Hugging Face repo, "
                f"as the hub caches it, in {self.cache_folder()}, or pass --weights DIR (its save_pretrained folder), "
                "or --random-init")

    def fetch(self) -> Path:
        """The snapshot folder, from the cache or downloaded into it when the network allows."""
        found = self.cached()
        if found is not None:
            return found
        if os.getenv("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
            raise WeightsUnavailable(self.missing_message("HF_HUB_OFFLINE is set"))
        reason = _online("https://huggingface.co")
        if reason is not None:
            raise WeightsUnavailable(self.missing_message(reason))
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        cache = str(hf_cache_dir())
        try:
            config = Path(hf_hub_download(self.repo_id, "config.json", cache_dir=cache))
            for name in HF_WEIGHT_FILES:
                try:
                    hf_hub_download(self.repo_id, name, cache_dir=cache)
                    break
                except EntryNotFoundError:
                    continue
        except Exception as exc:  # noqa: BLE001 - any download failure becomes the one-line message
            raise WeightsUnavailable(self.missing_message(f"download failed: {' '.join(str(exc).split())[:120]}")) from exc
        if _weights_in(config.parent) is None:
            raise WeightsUnavailable(self.missing_message("the repo has no weights file"))
        return config.parent

    def provenance(self, random_init: bool, weights_path: Path | None) -> str:
        if random_init:
            return RANDOM_INIT
        if weights_path is not None:
            return folder_provenance(weights_path) if weights_path.is_dir() else file_provenance(weights_path)
        weights = _weights_in(self.fetch())
        assert weights is not None  # fetch() only returns folders with weights
        return f"pretrained:{self.repo_id}@{sha256_prefix(weights)}"

    def status(self) -> str:
        found = self.cached()
        if found:
            return f"found: {found}"
        return f"missing: put {self.repo_id} in {hf_cache_dir()} or pass --weights"

    def check_config(self, config: dict[str, Any], where: Path) -> None:
        """Refuse a config whose model type, sizes or frame layout differ from what the spec feeds."""
        expected = {**dict(self.config), "model_type": self.model_type}
        wrong = [f"{key}={config.get(key)!r} (needs {expected[key]!r})" for key in ("model_type", *self.checked) if config.get(key) != expected[key]]
        if wrong:
            raise WeightsUnavailable(f"{where}: does not fit {self.backbone} ({', '.join(wrong[:3])}); "
                                     f"pass a save_pretrained folder of {self.repo_id} or a model like it")

    def load(self, model_cls: Any, config_cls: Any, random_init: bool, weights_path: Path | None,
             optional_missing: tuple[str, ...] = ()) -> Any:
        """The transformers model: untrained (seeded), from a state dict file, or from a folder (``--weights`` or the cache).

        Keys missing from a folder are an error, except those starting with ``optional_missing`` (a head the
        embedding never uses); keys the model does not use (a classifier) are ignored.
        """
        if random_init or (weights_path is not None and weights_path.is_file()):
            model = _seeded(lambda: model_cls(config_cls(**dict(self.config))))
            if not random_init:
                load_weights_file(model, weights_path)
            return model
        if weights_path is not None and not weights_path.exists():
            raise WeightsUnavailable(f"weights {weights_path}: no such file or folder; pass a save_pretrained folder or a state dict file", param="weights")
        folder = weights_path if weights_path is not None else self.fetch()
        config_file = folder / "config.json"
        try:
            config = json.loads(config_file.read_text())
        except (OSError, ValueError) as exc:
            raise WeightsUnavailable(f"{folder}: no readable config.json ({type(exc).__name__}); pass a save_pretrained folder") from exc
        self.check_config(config, folder)
        if _weights_in(folder) is None:
            raise WeightsUnavailable(f"{folder}: no {' or '.join(HF_WEIGHT_FILES)} beside config.json; pass a save_pretrained folder")
        from transformers.utils import logging as hf_logging

        verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()  # the unused classifier is expected; real problems are checked below
        hf_logging.disable_progress_bar()
        try:
            model, info = _seeded(lambda: model_cls.from_pretrained(str(folder), local_files_only=True, output_loading_info=True))
        except Exception as exc:  # noqa: BLE001 - corrupted or foreign files: one line
            reason = (" ".join(str(exc).split()) or type(exc).__name__)[:200]
            raise WeightsUnavailable(f"{folder}: weights could not be loaded ({reason}); pass a save_pretrained folder of {self.repo_id}") from exc
        finally:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()
        missing = sorted(str(k) for k in info.get("missing_keys", ()) if not str(k).startswith(optional_missing))
        mismatched = sorted(str(k[0] if isinstance(k, (tuple, list)) else k) for k in info.get("mismatched_keys", ()))
        if missing or mismatched:
            bad = ", ".join(missing[:3] + mismatched[:3])
            raise WeightsUnavailable(f"{folder}: does not fit {self.backbone} (missing or mismatched: {bad}); pass the weights made for it")
        return model


def _weights_in(folder: Path) -> Path | None:
    for name in HF_WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def folder_provenance(folder: Path) -> str:
    """``file:<sha256 prefix>`` of a save_pretrained folder: its config and weights files, by name."""
    weights = _weights_in(folder)
    if weights is None:
        raise WeightsUnavailable(f"weights {folder}: no {' or '.join(HF_WEIGHT_FILES)} in this folder; pass a save_pretrained folder", param="weights")
    digest = hashlib.sha256()
    for path in (folder / "config.json", weights):
        if path.is_file():
            digest.update(f"{path.name}:{sha256_prefix(path)}\n".encode())
    return f"file:{digest.hexdigest()[:HASH_CHARS]}"


# --- the status shown by `actionstore backbones` -------------------------------------------------


def weights_status(spec: Any) -> str:
    """Where this backbone's weights would come from now, without loading or downloading anything.

    ``found: <where>`` / ``missing: put <file> in <dir> or pass --weights`` for cached published weights,
    ``weight-free`` for a descriptor without weights, ``random-init only`` for a backbone that has no
    published weights, and ``bundled (pip)`` for one whose weights ship inside an installed package.
    """
    if spec.weights_status is not None:
        return spec.weights_status()
    try:
        provenance = spec.resolve_weights(False, None)
    except WeightsUnavailable as exc:
        return f"missing: {exc}"
    if provenance.startswith("none:"):
        return "weight-free"
    if provenance == RANDOM_INIT:
        return "random-init only"
    return "bundled (pip)"  # resolved locally without a cache or network source: an installed package
