"""The budtender's ranking model: pure numpy/scipy, no database, so the nightly retrain, the request path and the
benchmark all run the same code.

Why this blend: on the Leafly reviews (12k users, 2.4k strains, ~5 strains per user) popularity alone is hard to
beat on hit rate, but it shows the same ten strains to everyone. A random-walk item-item graph (RP3, "people who
reviewed X went on to review Y", normalised by how many strains each user reviewed) matches popularity's hit rate
while covering most of the catalogue; a "reviewed next" transition graph adds what people try after their latest
strain; a pinch of popularity breaks ties among long-tail neighbours. The blend weights are chosen on a
validation split cut from the training data (never on the evaluation's held-out reviews): see `tune`.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp

TOP_K = 10


@dataclass(frozen=True)
class BlendWeights:
    """How much each signal counts; each signal is scaled to 0..1 per user before blending."""

    history: float = 0.5  # item-item walk from everything the user liked
    recent: float = 0.5  # the same walk, the latest strains weighing most (decay per step back)
    sequence: float = 0.25  # "reviewed next" transitions from the latest strains
    popularity: float = 0.0  # log popularity
    decay: float = 0.5


@dataclass(frozen=True)
class Event:
    """One positive interaction: a user liked/reviewed/bought a strain; `order` sorts a user's events in time."""

    user: str
    item: str
    order: int


def _row_max_scale(scores: np.ndarray) -> np.ndarray:
    top = np.abs(scores).max(axis=-1, keepdims=True)
    top[top == 0] = 1.0
    return scores / top


@dataclass
class HybridModel:
    items: list[str]
    walk: np.ndarray  # items x items, RP3 item-item transition probabilities (alpha-sharpened)
    sequence: np.ndarray  # items x items, symmetric "reviewed next" counts
    popularity: np.ndarray  # users per item
    weights: BlendWeights = field(default_factory=BlendWeights)

    def __post_init__(self) -> None:
        self.index = {key: i for i, key in enumerate(self.items)}
        pop = np.log1p(self.popularity.astype(np.float64))
        self._log_pop = pop / pop.max() if pop.size and pop.max() > 0 else pop

    # ---- fitting -------------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, events: Iterable[Event], *, items: Sequence[str] | None = None, alpha: float = 0.8,
            weights: BlendWeights | None = None) -> HybridModel:
        events = sorted(events, key=lambda e: (e.user, e.order))
        keys = list(items) if items is not None else sorted({e.item for e in events})
        index = {k: i for i, k in enumerate(keys)}
        users = {u: i for i, u in enumerate(sorted({e.user for e in events}))}
        pairs = {(users[e.user], index[e.item]) for e in events if e.item in index}
        n_items = len(keys)
        if pairs:
            rows, cols = map(np.array, zip(*sorted(pairs), strict=True))
        else:
            rows = cols = np.array([], dtype=np.int64)
        matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(users), n_items))
        popularity = np.asarray(matrix.sum(axis=0)).ravel()
        per_user = np.maximum(np.asarray(matrix.sum(axis=1)).ravel(), 1)
        user_to_item = sp.diags(1.0 / per_user) @ matrix
        item_to_user = sp.diags(1.0 / np.maximum(popularity, 1)) @ matrix.T.tocsr()
        walk = (item_to_user @ user_to_item).toarray() ** alpha
        np.fill_diagonal(walk, 0.0)
        sequence = np.zeros((n_items, n_items), dtype=np.float32)
        for _, group in itertools.groupby(events, key=lambda e: e.user):
            seen = [index[e.item] for e in group if e.item in index]
            for a, b in itertools.pairwise(seen):
                if a != b:
                    sequence[a, b] += 1.0
                    sequence[b, a] += 1.0
        return cls(items=keys, walk=walk.astype(np.float32), sequence=sequence, popularity=popularity,
                   weights=weights or BlendWeights())

    # ---- scoring ---------------------------------------------------------------------------------------------
    def history_vectors(self, histories: Sequence[Sequence[str]]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(plain, recency-weighted) user x item matrices; each history is oldest first."""
        rows, cols, plain, recent = [], [], [], []
        for r, history in enumerate(histories):
            known = [self.index[h] for h in history if h in self.index]
            last_seen = {i: pos for pos, i in enumerate(known)}
            for i, pos in last_seen.items():
                rows.append(r)
                cols.append(i)
                plain.append(1.0)
                recent.append(self.weights.decay ** (len(known) - 1 - pos))
        shape = (len(histories), len(self.items))
        # float32 like the item matrices: a float64 vector would copy the whole matrix on every product
        return (sp.csr_matrix((plain, (rows, cols)), shape=shape, dtype=np.float32),
                sp.csr_matrix((recent, (rows, cols)), shape=shape, dtype=np.float32))

    def scores_many(self, histories: Sequence[Sequence[str]]) -> np.ndarray:
        """Blended scores (users x items); items already in a history get -inf."""
        plain, recent = self.history_vectors(histories)
        w = self.weights
        total = np.zeros(plain.shape, dtype=np.float64)
        if w.history:
            total += w.history * _row_max_scale(np.asarray(plain @ self.walk, dtype=np.float64))
        if w.recent:
            total += w.recent * _row_max_scale(np.asarray(recent @ self.walk, dtype=np.float64))
        if w.sequence:
            total += w.sequence * _row_max_scale(np.asarray(recent @ self.sequence, dtype=np.float64))
        if w.popularity or plain.nnz == 0:
            total += max(w.popularity, 1e-3) * self._log_pop[None, :]
        total[plain.nonzero()] = -np.inf
        return total

    def scores(self, history: Sequence[str]) -> np.ndarray:
        return self.scores_many([history])[0]

    def because_of(self, history: Sequence[str], item: str) -> str | None:
        """The liked strain that leads most strongly to `item` (for "because you liked X")."""
        target = self.index.get(item)
        known = [h for h in history if h in self.index and h != item]
        if target is None or not known:
            return None
        strength = [(float(self.walk[self.index[h], target]) + float(self.sequence[self.index[h], target]) * 1e-3, h)
                    for h in known]
        best, key = max(strength)
        return key if best > 0 else None

    # ---- persistence -------------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, items=np.array(self.items, dtype=object), walk=self.walk,
                            sequence=self.sequence, popularity=self.popularity,
                            weights=np.array([list(asdict(self.weights).values())]))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> HybridModel:
        with np.load(io.BytesIO(data), allow_pickle=True) as npz:
            values = npz["weights"][0].tolist()
            weights = BlendWeights(*values)
            return cls(items=[str(k) for k in npz["items"]], walk=npz["walk"], sequence=npz["sequence"],
                       popularity=npz["popularity"], weights=weights)


# ---- offline evaluation ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Split:
    """Leave-last-out: each user's history (oldest first) without their last strain, and that strain."""

    histories: list[list[str]]
    held_out: list[str]
    training: list[Event]
    users: list[str] = field(default_factory=list)  # whose history each row is


def leave_last_out(events: Iterable[Event], *, min_items: int = 3) -> Split:
    """Users with at least `min_items` distinct strains; a strain counts at its first event; the last one is held
    out. Everyone's other events (including users with fewer strains) stay in training."""
    first: dict[tuple[str, str], Event] = {}
    for e in events:
        if (e.user, e.item) not in first or e.order < first[(e.user, e.item)].order:
            first[(e.user, e.item)] = e
    by_user: dict[str, list[Event]] = {}
    for e in first.values():
        by_user.setdefault(e.user, []).append(e)
    histories, held_out, training, users = [], [], [], []
    for user in sorted(by_user):
        seq = sorted(by_user[user], key=lambda e: e.order)
        if len(seq) >= min_items:
            users.append(user)
            histories.append([e.item for e in seq[:-1]])
            held_out.append(seq[-1].item)
            training.extend(seq[:-1])
        else:
            training.extend(seq)
    return Split(histories=histories, held_out=held_out, training=training, users=users)


@dataclass(frozen=True)
class OfflineMetrics:
    hit_rate: float
    coverage: float
    users: int

    def as_dict(self) -> dict:
        return {"hit_rate_at_10": round(self.hit_rate, 5), "coverage": round(self.coverage, 5), "users": self.users}


def evaluate(score_batch, items: Sequence[str], histories: Sequence[Sequence[str]], held_out: Sequence[str],
             *, k: int = TOP_K, batch: int = 2000) -> OfflineMetrics:
    """HR@k and catalogue coverage of `score_batch(histories) -> users x items` (seen items must be -inf)."""
    index = {key: i for i, key in enumerate(items)}
    target = np.array([index.get(h, -1) for h in held_out])
    hits, shown = 0, set()
    for start in range(0, len(histories), batch):
        scores = np.asarray(score_batch(histories[start:start + batch]), dtype=np.float64)
        top = (np.argpartition(-scores, k, axis=1)[:, :k] if scores.shape[1] > k
               else np.argsort(-scores, axis=1)[:, :k])
        valid = np.isfinite(np.take_along_axis(scores, top, axis=1))  # an already-seen item is no recommendation
        hits += int(((top == target[start:start + batch, None]) & valid).any(axis=1).sum())
        shown.update(top[valid].tolist())
    n = max(len(histories), 1)
    return OfflineMetrics(hit_rate=hits / n, coverage=len(shown) / max(len(items), 1), users=len(histories))


WEIGHT_GRID = [BlendWeights(h, r, s, p) for h, r, s, p in itertools.product(
    (0.0, 0.5, 1.0), (0.0, 0.5, 1.0), (0.0, 0.25, 0.5), (0.0, 0.05, 0.1)) if h or r or s]


def tune(training: Sequence[Event], items: Sequence[str], *, min_coverage: float = 0.5,
         grid: Sequence[BlendWeights] = WEIGHT_GRID) -> tuple[BlendWeights, OfflineMetrics]:
    """Blend weights chosen on a validation split cut from `training` only: the best hit rate among the weights
    that keep catalogue coverage at or above `min_coverage` (the most covering weights if none do)."""
    validation = leave_last_out(training)
    model = HybridModel.fit(validation.training, items=items)
    results = []
    for weights in grid:
        model.weights = weights
        results.append((evaluate(model.scores_many, items, validation.histories, validation.held_out), weights))
    eligible = [r for r in results if r[0].coverage >= min_coverage]
    best = (max(eligible, key=lambda r: r[0].hit_rate) if eligible
            else max(results, key=lambda r: r[0].coverage))
    return best[1], best[0]
