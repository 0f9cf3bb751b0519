"""The original project's autoencoder, trained on stored vectors instead of re-running the backbone.

Fully connected encoder and mirrored decoder (Linear, BatchNorm, ReLU, Dropout per hidden layer),
MSE loss, Adam, a MultiStepLR schedule, the best epoch by validation loss with early stopping. Inputs
are standardised with the training rows' mean and spread; a row's score is its mean squared
reconstruction error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from detector.config import AEConfig

STD_FLOOR = 1e-6


@contextmanager
def one_thread_on_cpu(device: str) -> Iterator[None]:
    """Run torch single-threaded on CPU: for a net this small, OpenMP's per-op barriers cost more than
    they save (measured 5-8x slower with two threads on a busy 2-core machine)."""
    import torch

    if not device.startswith("cpu"):
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def build_autoencoder(dim: int, hidden: tuple[int, ...], dropout: float) -> Any:
    """``dim -> hidden... -> dim``: the encoder's layers mirrored by the decoder's."""
    from torch import nn

    def block(n_in: int, n_out: int) -> list[nn.Module]:
        return [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.ReLU(), nn.Dropout(dropout)]

    sizes = [dim, *hidden]
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        layers += block(n_in, n_out)
    backwards = sizes[::-1]
    for n_in, n_out in zip(backwards[:-2], backwards[1:-1]):
        layers += block(n_in, n_out)
    layers.append(nn.Linear(sizes[1], dim))
    return nn.Sequential(*layers)


class AutoencoderDetector:
    """Reconstruction error of a trained autoencoder (``fit`` trains it; see the module docstring)."""

    kind = "ae"

    def __init__(self, config: AEConfig | None = None, *, device: str = "cpu",
                 on_epoch: Callable[[int, float, float | None], None] | None = None) -> None:
        self.config = config or AEConfig()
        self.device = device
        self.on_epoch = on_epoch
        self.history: list[dict[str, float | None]] = []
        self.best_epoch = 0

    def fit(self, x: np.ndarray, groups: list[str], val: np.ndarray | None = None) -> None:
        """Train on ``x``; keep the weights of the epoch with the lowest validation loss (training loss without ``val``)."""
        import torch

        cfg = self.config
        self.mean = x.mean(axis=0)
        self.std = np.maximum(x.std(axis=0), STD_FLOOR)
        with torch.random.fork_rng(devices=[]), one_thread_on_cpu(self.device):
            torch.manual_seed(cfg.seed)
            self.model = build_autoencoder(x.shape[1], cfg.hidden, cfg.dropout).to(self.device)
            train = self._tensor(x)
            held = self._tensor(val) if val is not None and len(val) else None
            optimiser = torch.optim.Adam(self.model.parameters(), lr=cfg.learning_rate, fused=True)  # one kernel per step: 10x faster on CPU for small nets
            schedule = torch.optim.lr_scheduler.MultiStepLR(optimiser, milestones=list(cfg.milestones), gamma=cfg.lr_factor)
            best, best_state, waited = np.inf, None, 0
            generator = torch.Generator().manual_seed(cfg.seed)
            for epoch in range(1, cfg.epochs + 1):
                train_loss = self._epoch(train, optimiser, generator)
                schedule.step()
                val_loss = self._loss(held) if held is not None else None
                self.history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss})
                if self.on_epoch is not None:
                    self.on_epoch(epoch, train_loss, val_loss)
                watched = val_loss if val_loss is not None else train_loss
                if watched < best - 1e-9:
                    best, waited, self.best_epoch = watched, 0, epoch
                    best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
                else:
                    waited += 1
                    if waited >= cfg.patience:
                        break
            self.model.load_state_dict(best_state)
        self.model.eval()

    def _tensor(self, x: np.ndarray) -> Any:
        import torch

        return torch.as_tensor((x - self.mean) / self.std, dtype=torch.float32, device=self.device)

    def _epoch(self, data: Any, optimiser: Any, generator: Any) -> float:
        import torch

        self.model.train()
        order = torch.randperm(len(data), generator=generator).to(self.device)
        size = self.config.batch_size
        total = 0.0
        for start in range(0, len(data), size):
            batch = data[order[start:start + size]]
            if len(batch) < 2:  # BatchNorm needs two rows; a lone last row waits for the next epoch
                continue
            optimiser.zero_grad()
            loss = torch.nn.functional.mse_loss(self.model(batch), batch)
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
        return total / len(data)

    def _loss(self, data: Any) -> float:
        return float(self._errors(data).mean())

    def _errors(self, data: Any) -> Any:
        import torch

        self.model.eval()
        with torch.inference_mode(), one_thread_on_cpu(self.device):
            return ((self.model(data) - data) ** 2).mean(dim=1).cpu()

    def score(self, x: np.ndarray, groups: list[str] | None = None) -> np.ndarray:
        return self._errors(self._tensor(x)).numpy().astype(np.float64)

    def state(self) -> dict[str, Any]:
        return {"model": {k: v.cpu() for k, v in self.model.state_dict().items()}, "mean": self.mean, "std": self.std,
                "hidden": list(self.config.hidden), "dropout": self.config.dropout}

    def load(self, state: dict[str, Any]) -> None:
        self.mean, self.std = np.asarray(state["mean"]), np.asarray(state["std"])
        self.model = build_autoencoder(len(self.mean), tuple(state["hidden"]), float(state["dropout"])).to(self.device)
        import torch

        self.model.load_state_dict({k: torch.as_tensor(v) for k, v in state["model"].items()})
        self.model.eval()
