"""Classifiers that tag asset vectors: zero-shot by label descriptions, or the best of zero-shot
and supervised ones, chosen by evidence.

* **Zero-shot** (always available): the best cosine of the asset vector with the label's
  description phrases, plus an optional per-class prior from extra feature columns (the asset
  type), turned into probabilities by a softmax with a temperature. The confidence of a tag is
  its probability.
* **Supervised**, once enough labelled examples exist (``min_labelled`` in all, at least
  ``min_per_class`` of every class): a scikit-learn ``LogisticRegression`` (and a cosine kNN).
  ``LabelTagger`` cross-validates each candidate, scores the zero-shot on the same labelled
  examples (it learns nothing from them, so that score is already out-of-sample), and keeps the
  best (``chosen_``, ``cv_accuracy_``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

ZERO_SHOT = "zero-shot"


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of ``scores / temperature``; (n, c) in, (n, c) out, rows sum to 1."""
    z = np.asarray(scores, dtype=np.float64) / float(temperature)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class ZeroShotClassifier(ClassifierMixin, BaseEstimator):
    """Classify by cosine to label description vectors; probabilities by softmax.

    A class may have several prototype rows (e.g. one per phrase of its description): its
    score is the best cosine among them. Extra feature columns (e.g. a one-hot asset type) can
    add a per-class prior: ``score += X[:, d:d+e] @ extra_scores``.

    Parameters
    ----------
    prototypes : array-like of shape (p, d)
        Description vectors. Only the first ``d`` columns of ``X`` are compared with them.
    classes : sequence of c labels
    temperature : float
        Softmax temperature; smaller is more confident.
    prototype_class : array-like of int, shape (p,), optional
        The class index of each prototype row; None means row i is class i (p == c).
    extra_scores : array-like of shape (e, c), optional
        Scores added per class for the e columns that follow the embedding in ``X``.
    """

    def __init__(self, prototypes=None, classes=None, temperature: float = 0.05,
                 prototype_class=None, extra_scores=None):
        self.prototypes = prototypes
        self.classes = classes
        self.temperature = temperature
        self.prototype_class = prototype_class
        self.extra_scores = extra_scores

    def fit(self, X, y=None):
        """Store the normalised prototypes; ``y`` is ignored (nothing is learnt)."""
        prototypes = np.asarray(self.prototypes, dtype=np.float32)
        n_classes = len(self.classes)
        owner = np.arange(n_classes) if self.prototype_class is None else np.asarray(
            self.prototype_class, dtype=np.int64)
        if prototypes.ndim != 2 or owner.shape != (prototypes.shape[0],) or (
                owner.size and (owner.min() < 0 or owner.max() >= n_classes)):
            raise ValueError("prototypes must be (p, d) with a class index for every row")
        if set(owner.tolist()) != set(range(n_classes)):
            raise ValueError("every class needs at least one prototype")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, not {self.temperature}")
        norms = np.linalg.norm(prototypes, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.prototypes_ = prototypes / norms
        self.prototype_class_ = owner
        self.extra_scores_ = None if self.extra_scores is None else np.asarray(
            self.extra_scores, dtype=np.float32).reshape(-1, n_classes)
        self.classes_ = np.asarray(self.classes)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def decision_function(self, X) -> np.ndarray:
        """Best cosine per class (plus the extra-column prior), shape (n, c)."""
        check_is_fitted(self, "prototypes_")
        X = np.asarray(X, dtype=np.float32)
        d = self.prototypes_.shape[1]
        if X.ndim != 2 or X.shape[1] < d:
            raise ValueError(f"X must have at least {d} columns, got shape {X.shape}")
        emb = X[:, :d]
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        cos = (emb / norms) @ self.prototypes_.T
        scores = np.full((X.shape[0], len(self.classes_)), -np.inf, dtype=np.float32)
        for c in range(len(self.classes_)):
            scores[:, c] = cos[:, self.prototype_class_ == c].max(axis=1)
        if self.extra_scores_ is not None:
            e = self.extra_scores_.shape[0]
            if X.shape[1] >= d + e:
                scores += X[:, d:d + e] @ self.extra_scores_
        return scores

    def predict_proba(self, X) -> np.ndarray:
        """Softmax of the scores / temperature, shape (n, c)."""
        return softmax(self.decision_function(X), self.temperature)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]


def _candidates(random_state: int) -> dict[str, BaseEstimator]:
    return {
        "logistic": LogisticRegression(C=3.0, max_iter=2000, random_state=random_state),
        "knn": KNeighborsClassifier(n_neighbors=5, metric="cosine", weights="distance"),
    }


class LabelTagger(ClassifierMixin, BaseEstimator):
    """Pick the best of zero-shot and supervised classifiers by cross-validated accuracy.

    Parameters
    ----------
    prototypes, classes, temperature, prototype_class, extra_scores
        The zero-shot's parameters (see ``ZeroShotClassifier``).
    min_labelled : int
        Labelled examples needed before a supervised classifier is considered.
    min_per_class : int
        ... and at least this many of every class.
    cv : int
        Folds of the stratified cross-validation.
    candidates : tuple of str
        Supervised candidates: ``logistic``, ``knn``.
    random_state : int

    Attributes
    ----------
    chosen_ : str
        ``zero-shot``, ``logistic`` or ``knn``.
    cv_accuracy_ : dict of str to float
        Accuracy of each candidate evaluated (cross-validated for the supervised ones).
    n_labelled_ : int
    estimator_ : the fitted winner
    classes_ : ndarray
    """

    def __init__(self, prototypes=None, classes=None, temperature: float = 0.05,
                 prototype_class=None, extra_scores=None,
                 min_labelled: int = 30, min_per_class: int = 5, cv: int = 5,
                 candidates: tuple[str, ...] = ("logistic", "knn"), random_state: int = 0):
        self.prototypes = prototypes
        self.classes = classes
        self.temperature = temperature
        self.prototype_class = prototype_class
        self.extra_scores = extra_scores
        self.min_labelled = min_labelled
        self.min_per_class = min_per_class
        self.cv = cv
        self.candidates = candidates
        self.random_state = random_state

    def fit(self, X, y=None):
        """Evaluate zero-shot and (with enough labels) supervised candidates; keep the best."""
        # Tiny problems: multi-threaded BLAS only adds contention (5x slower on 2 cores).
        with threadpool_limits(limits=1):
            return self._fit(np.asarray(X, dtype=np.float32), y)

    def _fit(self, X: np.ndarray, y) -> LabelTagger:
        zero = ZeroShotClassifier(self.prototypes, self.classes, self.temperature,
                                  self.prototype_class, self.extra_scores).fit(X)
        self.estimator_ = zero
        self.chosen_ = ZERO_SHOT
        self.cv_accuracy_: dict[str, float] = {}
        labels = np.asarray([] if y is None else y)
        self.n_labelled_ = int(labels.shape[0])
        if self.n_labelled_:
            if labels.shape[0] != X.shape[0]:
                raise ValueError(f"X has {X.shape[0]} rows but y has {labels.shape[0]}")
            unknown = sorted(set(labels.tolist()) - set(np.asarray(self.classes).tolist()))
            if unknown:
                raise ValueError(f"labels {unknown} are not among the classes")
            self.cv_accuracy_[ZERO_SHOT] = float(np.mean(zero.predict(X) == labels))
        counts = Counter(labels.tolist())
        enough = self.n_labelled_ >= self.min_labelled and all(
            counts.get(c, 0) >= self.min_per_class for c in np.asarray(self.classes).tolist()
        )
        if enough:
            folds = StratifiedKFold(n_splits=max(2, min(self.cv, min(counts.values()))),
                                    shuffle=True, random_state=self.random_state)
            pool = _candidates(self.random_state)
            best = self.cv_accuracy_[ZERO_SHOT]
            for name in self.candidates:
                if name not in pool:
                    raise ValueError(f"unknown candidate {name!r}; known: {', '.join(pool)}")
                score = float(np.mean(cross_val_score(clone(pool[name]), X, labels, cv=folds)))
                self.cv_accuracy_[name] = score
                if score > best:
                    best, self.chosen_ = score, name
            if self.chosen_ != ZERO_SHOT:
                self.estimator_ = clone(pool[self.chosen_]).fit(X, labels)
        self.classes_ = np.asarray(self.estimator_.classes_)
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n, c), columns in ``classes_`` order."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(np.asarray(X, dtype=np.float32))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def tag(self, X) -> tuple[list[str], np.ndarray]:
        """Return the best label of each row and its probability (the confidence), (n,)."""
        proba = self.predict_proba(X)
        best = np.argmax(proba, axis=1)
        return [str(c) for c in self.classes_[best]], proba[np.arange(len(best)), best]
